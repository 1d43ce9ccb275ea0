#!/usr/bin/env bash
# Validates everything under k8s/: the Helm chart (lint, render, schema, assertions), the plain manifests,
# the Prometheus rules and their unit tests, and every PromQL expression of the dashboards and rules.
# Installs its tools from package registries when missing (helm, kubeconform: Go module proxy; promtool:
# Debian) and builds kubeconform schemas offline from Go modules. Exits non-zero on the first failure.
#   k8s/ci/validate.sh            (from anywhere; CI calls it as is)
set -euo pipefail

K8S="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$K8S")"
CHART="$K8S/helm/streamguard"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
KUBE_VERSION="${KUBE_VERSION:-1.34.1}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
PROM_OPERATOR_VERSION="${PROM_OPERATOR_VERSION:-v0.85.0}"
SCHEMAS="$K8S/ci/.schemas/k8s-$KUBE_VERSION-keda-$KEDA_VERSION-promop-$PROM_OPERATOR_VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

step() { printf '\n==> [%3ds] %s\n' $((SECONDS - START)) "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# helm warns on stderr about the chart's files/ symlinks into k8s/dashboards and k8s/prometheus (intended).
quiet_helm() { helm "$@" 2> >(grep -v 'found symbolic link in path' >&2); }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

step "tools"
command -v go >/dev/null || fail "go is required (helm and kubeconform are installed with go install)"
GOBIN_DIR="$(go env GOPATH)/bin"
export PATH="$GOBIN_DIR:$PATH"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
if ! command -v helm >/dev/null; then
  echo "  installing helm $HELM_VERSION (go install, a minute or two cold)"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
if ! command -v kubeconform >/dev/null; then
  echo "  installing kubeconform $KUBECONFORM_VERSION"
  go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
fi
if ! command -v promtool >/dev/null; then
  echo "  installing promtool (Debian package prometheus)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root apt-get install -y --no-install-recommends prometheus >/dev/null; }
fi
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml
echo "  helm: $(command -v helm), kubeconform: $(command -v kubeconform), $(promtool --version 2>&1 | head -1)"

step "kubeconform schemas (Kubernetes $KUBE_VERSION, KEDA $KEDA_VERSION, prometheus-operator $PROM_OPERATOR_VERSION)"
if [[ ! -f "$SCHEMAS/.complete" ]]; then
  module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
  k8s_dir="$(module_dir "k8s.io/kubernetes@v$KUBE_VERSION")"
  keda_dir="$(module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")"
  promop_dir="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION")"
  rm -rf "$SCHEMAS"
  python3 "$K8S/ci/k8s-schemas.py" "$SCHEMAS" "$k8s_dir/api/openapi-spec/swagger.json" \
    "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml" \
    "$keda_dir/config/crd/bases/keda.sh_triggerauthentications.yaml" \
    "$promop_dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$promop_dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
  touch "$SCHEMAS/.complete"
else
  echo "  cached in ${SCHEMAS#"$ROOT/"}"
fi
kubeconform_check() {
  kubeconform -strict -summary -output text \
    -schema-location "$SCHEMAS/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json" "$@"
}

step "generated files are up to date (values.schema.json, dashboards)"
python3 "$K8S/ci/gen-values-schema.py" --check
python3 "$K8S/dashboards/generate.py" --check
echo "  ok"

step "helm lint --strict, helm template, kubeconform and assertions per chart ci/ values file"
renders=()
for values in "$CHART"/ci/*.yaml; do
  name="$(basename "$values" .yaml)"
  echo "  -- $name"
  quiet_helm lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$values" | grep -v '^$' | sed 's/^/     /' ||
    fail "helm lint $name"
  quiet_helm template sg "$CHART" --namespace streamguard --kube-version "$KUBE_VERSION" -f "$values" \
    > "$WORK/$name.yaml" || fail "helm template $name"
  kubeconform_check "$WORK/$name.yaml" | sed 's/^/     /' || fail "kubeconform $name"
  python3 "$K8S/ci/assert-manifests.py" "$WORK/$name.yaml" | sed 's/^/   /' || fail "assertions $name"
  renders+=("$WORK/$name.yaml")
done
grep -q '^kind: ScaledObject' "$WORK"/keda-values.yaml || fail "keda-values renders no ScaledObject"
grep -q '^kind: PrometheusRule' "$WORK"/monitoring-values.yaml || fail "monitoring-values renders no PrometheusRule"
# Aggregate's ScaledObject has a trigger per consumer group it runs, and those depend on its window definitions.
for variant in "co-partitioned:accountId:1" "repartitioned:merchantId:2"; do
  IFS=: read -r kind field want <<< "$variant"
  printf 'services:\n  aggregate:\n    config:\n      WINDOW_DEFINITIONS: %s\n' \
    "'[{\"name\":\"w\",\"groupBy\":[\"$field\"],\"window\":{\"type\":\"tumbling\",\"sizeMs\":60000},\"aggregations\":[]}]'" \
    > "$WORK/windows-$kind.values.yaml"
  quiet_helm template sg "$CHART" --namespace streamguard --kube-version "$KUBE_VERSION" \
    -f "$CHART/ci/keda-values.yaml" -f "$WORK/windows-$kind.values.yaml" > "$WORK/keda-$kind.render" ||
    fail "helm template keda-values with $kind windows only"
  python3 "$K8S/ci/assert-manifests.py" "$WORK/keda-$kind.render" > /dev/null || fail "assertions with $kind windows only"
  got="$(python3 -c 'import sys, yaml; print(sum(len(d["spec"]["triggers"]) for d in yaml.safe_load_all(open(sys.argv[1]))
    if d and d["kind"] == "ScaledObject" and d["metadata"]["name"].endswith("-aggregate")))' "$WORK/keda-$kind.render")"
  [[ "$got" == "$want" ]] || fail "aggregate ScaledObject with $kind windows only has $got triggers, want $want"
  echo "  aggregate ScaledObject with $kind windows only: $got kafka trigger(s)"
done
python3 - "$WORK" <<'PY' || fail "Postgres logins"
# Each service connects with its own login's key; only the migration Job (and the dev opt-out) use the owner's.
import sys, yaml
def db_keys(name):
    docs = [d for d in yaml.safe_load_all(open(f"{sys.argv[1]}/{name}.yaml")) if d and d["kind"] in ("Deployment", "Job")]
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: e["valueFrom"]["secretKeyRef"]["key"]
            for d in docs for c in d["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
            if e["name"] == "DATABASE_URL"}
want = {"existing-secret-values": {"ingest": "ingest-uri", "enrich": "enrich-uri", "aggregate": "aggregate-uri",
                                   "alert": "alert-uri", "migrate": "uri"},
        "owner-url-dev-values": {"ingest": "DATABASE_URL", "enrich": "enrich-url", "aggregate": "DATABASE_URL",
                                 "alert": "DATABASE_URL", "migrate": "DATABASE_URL"}}
for name, keys in want.items():
    if db_keys(name) != keys:
        sys.exit(f"{name}: DATABASE_URL keys {db_keys(name)}, want {keys}")
print("  DATABASE_URL: a login per service; the owner's key only for migrate (and the development opt-out)")
PY

step "NOTES.txt renders (helm only renders it on install; a copy of the chart renders it as a template)"
cp -rL "$CHART" "$WORK/notes-chart"
{ echo '{{- define "ci.notes" -}}'; cat "$CHART/templates/NOTES.txt"; echo '{{- end -}}'
  echo 'notes: {{ include "ci.notes" . | toJson }}'; } > "$WORK/notes-chart/templates/zz-ci-notes.yaml"
for values in "$CHART"/ci/*.yaml; do
  helm template sg "$WORK/notes-chart" --kube-version "$KUBE_VERSION" -f "$values" \
    --show-only templates/zz-ci-notes.yaml > "$WORK/notes.yaml" || fail "NOTES.txt with $(basename "$values")"
  grep -q 'helm test sg' "$WORK/notes.yaml" || fail "NOTES.txt rendered without its test hint"
done
echo "  ok for every ci/ values file"

step "every assertion can fail (mutation self-test) and the chart knows every env var of the services"
python3 "$K8S/ci/assert-manifests.py" --self-test "$WORK/keda-values.yaml"
python3 "$K8S/ci/assert-manifests.py" --env-drift "$ROOT" "$WORK/existing-secret-values.yaml"

step "the chart refuses bad values"
expect_refusal() { # expect_refusal <reason> <pattern> helm-args...
  local reason="$1" pattern="$2"; shift 2
  # Plain helm here: quiet_helm filters stderr through an asynchronous process substitution, which may not
  # have written the file yet when the grep below reads it (that made this step flaky).
  if helm template sg "$CHART" --kube-version "$KUBE_VERSION" -f "$CHART/ci/default-values.yaml" "$@" \
      > /dev/null 2> "$WORK/refusal.txt"; then
    fail "helm template accepted $reason ($*)"
  fi
  grep -q -- "$pattern" "$WORK/refusal.txt" || { cat "$WORK/refusal.txt" >&2; fail "unexpected error for $reason"; }
  echo "  refused: $reason"
}
expect_refusal "a misspelt key" "additional properties 'replica' not allowed" --set services.enrich.replica=3
expect_refusal "an unknown service env var" "additional properties 'ENRICH_CACHE_TTL' not allowed" --set services.enrich.config.ENRICH_CACHE_TTL=1
expect_refusal "a grace period shorter than SHUTDOWN_GRACE_MS" "must exceed" --set terminationGracePeriodSeconds=20
expect_refusal "more consumers than partitions" "exceeds kafka.partitions" --set services.alert.autoscaling.enabled=true --set kafka.partitions=3
expect_refusal "no Postgres connection" "postgres.existingSecret" --set postgres.url=
expect_refusal "per-service Postgres logins without a Secret of yours" "serviceUrlKeys.ingest needs postgres.existingSecret" \
  --set postgres.serviceUrlKeys.ingest=ingest-url
expect_refusal "a Secret of yours without ingest's own Postgres login (it would get the owner's)" \
  "postgres.serviceUrlKeys.ingest is empty" --set postgres.existingSecret=streamguard-db \
  --set postgres.serviceUrlKeys.enrich=enrich-url,postgres.serviceUrlKeys.aggregate=aggregate-url,postgres.serviceUrlKeys.alert=alert-url
expect_refusal "a service login that is the schema owner's key" "postgres.serviceUrlKeys.alert is postgres.urlKey" \
  --set postgres.existingSecret=streamguard-db --set postgres.serviceUrlKeys.ingest=ingest-url \
  --set postgres.serviceUrlKeys.enrich=enrich-url,postgres.serviceUrlKeys.aggregate=aggregate-url,postgres.serviceUrlKeys.alert=DATABASE_URL
expect_refusal "two services sharing one login" "are both shared-url" --set postgres.existingSecret=streamguard-db \
  --set postgres.serviceUrlKeys.ingest=shared-url,postgres.serviceUrlKeys.enrich=shared-url \
  --set postgres.serviceUrlKeys.aggregate=aggregate-url,postgres.serviceUrlKeys.alert=alert-url
expect_refusal "an ingest rate-limit burst below a full batch" "RATE_LIMIT_BURST (500) is below INGEST_MAX_BATCH_EVENTS" \
  --set services.ingest.config.RATE_LIMIT_BURST=500
expect_refusal "KEDA for aggregate with window definitions that are not JSON" "WINDOW_DEFINITIONS is not a JSON array" \
  --set keda.enabled=true --set services.aggregate.autoscaling.enabled=true \
  --set-string services.aggregate.config.WINDOW_DEFINITIONS=nope
expect_refusal "the removed ADMIN_API_TOKEN secret (API keys replace it)" "additional properties 'apiKeys' not allowed" \
  --set apiKeys.existingSecret=x

step "promtool check rules / test rules"
promtool check rules "$K8S"/prometheus/*.yaml
promtool test rules "$K8S"/prometheus/tests/*.test.yaml
python3 - "$WORK/monitoring-values.yaml" "$K8S/prometheus/streamguard-rules.yaml" <<'PY'
# The PrometheusRule must carry the same alerts as the tested rules file (minus the ones disabled in values).
import sys, yaml
rendered = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule")
source = yaml.safe_load(open(sys.argv[2]))
exprs = lambda groups: {r["alert"]: r["expr"] for g in groups for r in g["rules"]}
got, want = exprs(rendered["spec"]["groups"]), exprs(source["groups"])
want.pop("StreamguardWatermarkStalled")  # disabled in ci/monitoring-values.yaml
if got != want:
    sys.exit(f"PrometheusRule differs from streamguard-rules.yaml: {sorted(set(got) ^ set(want))}")
print(f"  PrometheusRule renders the {len(got)} tested alerts")
PY

step "every PromQL expression of the dashboards and rules parses, and reads metrics the services declare"
python3 "$K8S/ci/extract-queries.py" --rules-file "$WORK/all-expressions.yaml"
promtool check rules "$WORK/all-expressions.yaml"
python3 "$K8S/ci/extract-queries.py" --check-source "$ROOT"

step "plain manifests (k8s/manifests) are in sync with the chart and valid"
"$K8S/ci/render-manifests.sh" --check
kubeconform_check "$K8S"/manifests/base/streamguard.yaml "$K8S"/manifests/jobs/*.yaml \
  "$K8S"/manifests/monitoring/{monitoring,dashboards}.yaml | sed 's/^/  /'
cat "$K8S"/manifests/{base,jobs}/*.yaml | grep -v '^# kubectl' > "$WORK/manifests.yaml"
python3 "$K8S/ci/assert-manifests.py" "$WORK/manifests.yaml"

step "all k8s checks passed in $((SECONDS - START))s"
