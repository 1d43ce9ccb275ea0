#!/usr/bin/env bash
# Renders the chart into the plain manifests under k8s/manifests/ (the kubectl path), or with --check
# re-renders into a temporary directory and fails on any difference from what is committed.
#   base/         Deployments, Services, ConfigMaps, ServiceAccounts, PDBs, HPAs   (kubectl apply -k)
#   jobs/         topic creation and migration Jobs, run before base               (kubectl apply -f)
#   monitoring/   ServiceMonitor, PrometheusRule, Grafana dashboard ConfigMaps     (kubectl apply -k)
set -euo pipefail
K8S="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$K8S/helm/streamguard"
KUBE_VERSION="${KUBE_VERSION:-1.34.1}"
out="$K8S/manifests"
if [[ "${1:-}" == "--check" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

render() { # render <file> <template>...
  local file="$1"; shift
  local shows=()
  for t in "$@"; do shows+=(--show-only "templates/$t"); done
  mkdir -p "$(dirname "$out/$file")"
  helm template streamguard "$CHART" --namespace streamguard --kube-version "$KUBE_VERSION" \
    -f "$K8S/manifests/values.yaml" "${shows[@]}" 2> >(grep -v 'found symbolic link' >&2) > "$out/$file"
}

render base/streamguard.yaml configmap.yaml serviceaccount.yaml service.yaml deployment.yaml pdb.yaml autoscaling.yaml
render jobs/setup-jobs.yaml jobs.yaml
render monitoring/monitoring.yaml servicemonitor.yaml prometheusrule.yaml
render monitoring/dashboards.yaml grafana-dashboards.yaml

if [[ "${1:-}" == "--check" ]]; then
  for f in base/streamguard.yaml jobs/setup-jobs.yaml monitoring/monitoring.yaml monitoring/dashboards.yaml; do
    if ! diff -u "$K8S/manifests/$f" "$out/$f" > "$out/diff.txt"; then
      head -40 "$out/diff.txt" >&2
      echo "k8s/manifests/$f is out of date with the chart: run k8s/ci/render-manifests.sh" >&2
      exit 1
    fi
  done
  echo "  k8s/manifests/ matches the chart"
else
  echo "rendered into $out"
fi
