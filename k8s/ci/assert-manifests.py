#!/usr/bin/env python3
"""Assertions on rendered Streamguard manifests (helm template output or k8s/manifests/*.yaml).

  assert-manifests.py FILE...      check each file, exit 1 listing every violation
  assert-manifests.py --self-test FILE
                                   mutate a good render once per check and require that check to fail,
                                   so no assertion can silently pass everything
  assert-manifests.py --env-drift REPO_ROOT FILE
                                   every env var the services declare (apps/*/src/*.config.ts, libs/common)
                                   is set by the chart or configurable in values.schema.json, and each
                                   service's Deployment can set every variable that service reads
"""
import copy
import json
import os
import re
import sys

import yaml

CONSUMERS = {"enrich", "aggregate", "alert"}
WORKLOADS = ("Deployment", "Job", "Pod")


def load(path):
    with open(path) as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


def pod_spec(obj):
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "Job":
        return obj["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def name(obj):
    return f'{obj["kind"]}/{obj["metadata"]["name"]}'


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def config_env(docs, deployment):
    """The container env as the pod would see it: ConfigMap envFrom first, then explicit env."""
    env = {}
    container = pod_spec(deployment)["containers"][0]
    maps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind(docs, "ConfigMap")}
    for source in container.get("envFrom", []):
        env.update(maps.get(source.get("configMapRef", {}).get("name"), {}))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
    return env


# Each check yields violation strings. Names are what --self-test reports.
def check_security_context(docs):
    for obj in docs:
        if obj["kind"] not in WORKLOADS:
            continue
        spec = pod_spec(obj)
        psc = spec.get("securityContext", {})
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            yield f"{name(obj)}: pod seccompProfile is not RuntimeDefault"
        if spec.get("automountServiceAccountToken") is not False:
            yield f"{name(obj)}: automountServiceAccountToken is not false"
        mounts_tmp_volume = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            sc = c.get("securityContext", {})
            where = f"{name(obj)} container {c['name']}"
            if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                yield f"{where}: runAsNonRoot is not true"
            if sc.get("readOnlyRootFilesystem") is not True:
                yield f"{where}: readOnlyRootFilesystem is not true"
            if sc.get("allowPrivilegeEscalation") is not False:
                yield f"{where}: allowPrivilegeEscalation is not false"
            if "ALL" not in sc.get("capabilities", {}).get("drop", []) or sc.get("capabilities", {}).get("add"):
                yield f"{where}: capabilities do not drop ALL (or add some)"
            if sc.get("privileged"):
                yield f"{where}: privileged"
            if not any(m["mountPath"] == "/tmp" and m["name"] in mounts_tmp_volume for m in c.get("volumeMounts", [])):
                yield f"{where}: no emptyDir mounted at /tmp (the root filesystem is read-only)"


def check_service_accounts(docs):
    for sa in by_kind(docs, "ServiceAccount"):
        if sa.get("automountServiceAccountToken") is not False:
            yield f"{name(sa)}: automountServiceAccountToken is not false"


def autoscalers(docs):
    targets = {}
    for hpa in by_kind(docs, "HorizontalPodAutoscaler"):
        targets.setdefault(hpa["spec"]["scaleTargetRef"]["name"], []).append(name(hpa))
    for so in by_kind(docs, "ScaledObject"):
        targets.setdefault(so["spec"]["scaleTargetRef"]["name"], []).append(name(so))
    return targets


def check_autoscaling(docs):
    targets = autoscalers(docs)
    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment")}
    for target, owners in targets.items():
        if len(owners) > 1:
            yield f"Deployment/{target}: scaled by more than one autoscaler: {owners}"
        if target not in deployments:
            yield f"{owners[0]}: scale target Deployment/{target} is not rendered"
    for dname, dep in deployments.items():
        if dname in targets and "replicas" in dep["spec"]:
            yield f"Deployment/{dname}: has spec.replicas although {targets[dname][0]} owns the replica count"
        if dname not in targets and "replicas" not in dep["spec"]:
            yield f"Deployment/{dname}: not autoscaled and has no spec.replicas"


def check_topic_durability(docs):
    """The topic Job sets min.insync.replicas explicitly, never above the replication factor."""
    for job in by_kind(docs, "Job"):
        args = pod_spec(job)["containers"][0].get("args", [])
        if "create-topics" not in args:
            continue
        if "--min-insync-replicas" not in args:
            yield f"{name(job)}: create-topics without --min-insync-replicas"
            continue
        replicas = int(args[args.index("--replication-factor") + 1]) if "--replication-factor" in args else 1
        min_isr = int(args[args.index("--min-insync-replicas") + 1])
        if min_isr > replicas:
            yield f"{name(job)}: --min-insync-replicas {min_isr} > --replication-factor {replicas}"
        if replicas >= 3 and min_isr < 2:
            yield f"{name(job)}: replication factor {replicas} with min.insync.replicas {min_isr} acknowledges writes held by one broker"


def check_partitions_bound(docs):
    partitions = None
    for job in by_kind(docs, "Job"):
        args = pod_spec(job)["containers"][0].get("args", [])
        if "create-topics" in args and "--partitions" in args:
            partitions = int(args[args.index("--partitions") + 1])
    if partitions is None:
        return
    for dep in by_kind(docs, "Deployment"):
        component = dep["metadata"]["labels"].get("app.kubernetes.io/component")
        if component not in CONSUMERS:
            continue
        for owner in by_kind(docs, "HorizontalPodAutoscaler") + by_kind(docs, "ScaledObject"):
            if owner["spec"]["scaleTargetRef"]["name"] != dep["metadata"]["name"]:
                continue
            top = owner["spec"].get("maxReplicas", owner["spec"].get("maxReplicaCount"))
            if top is not None and top > partitions:
                yield f"{name(owner)}: max replicas {top} > {partitions} topic partitions"


# Aggregate's consumer groups depend on its window definitions (apps/aggregate/src/repartition/window-routing.ts):
# a definition whose groupBy without tenantId starts with accountId is co-partitioned (<prefix>.aggregate on the
# input topic); any other is shuffled (<prefix>.aggregate-repartition on the input topic into TOPIC_EVENTS_REPARTITION,
# windowed there by <prefix>.aggregate-repartitioned). WINDOW_DEFINITIONS empty = the built-in defaults
# (apps/aggregate/src/aggregate.config.ts: account-1m by accountId, merchant-1h by merchantId), i.e. both.
def aggregate_stages(window_definitions):
    if not window_definitions:
        return True, True
    try:
        definitions = json.loads(window_definitions)
        group_bys = [[f for f in d["groupBy"] if f != "tenantId"] for d in definitions]
    except (ValueError, TypeError, KeyError):
        return None
    shuffled = any(gb[:1] != ["accountId"] for gb in group_bys)
    co_partitioned = any(gb[:1] == ["accountId"] for gb in group_bys) or not shuffled
    return co_partitioned, shuffled


def expected_lag_groups(component, env):
    """{consumer group: topic} the service runs, i.e. the kafka triggers its ScaledObject needs (no more: a group
    that never commits would count as the whole topic's lag under offsetResetPolicy earliest)."""
    prefix = env.get("KAFKA_GROUP_PREFIX")
    group = f"{prefix}.{component}"
    if component == "enrich":
        return {group: env.get("TOPIC_EVENTS_RAW")}
    if component != "aggregate":
        return {group: env.get("TOPIC_EVENTS_ENRICHED")}
    stages = aggregate_stages(env.get("WINDOW_DEFINITIONS", ""))
    if stages is None:
        return None
    co_partitioned, shuffled = stages
    groups = {}
    if co_partitioned:
        groups[group] = env.get("TOPIC_EVENTS_ENRICHED")
    if shuffled:
        groups[f"{group}-repartition"] = env.get("TOPIC_EVENTS_ENRICHED")
        groups[f"{group}-repartitioned"] = env.get("TOPIC_EVENTS_REPARTITION")
    return groups


def check_keda_triggers(docs):
    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment")}
    for so in by_kind(docs, "ScaledObject"):
        dep = deployments.get(so["spec"]["scaleTargetRef"]["name"])
        if not dep:
            continue
        env = config_env(docs, dep)
        component = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        expected = expected_lag_groups(component, env)
        if expected is None:
            yield f"{name(so)}: cannot read the window definitions of {name(dep)} (WINDOW_DEFINITIONS)"
            continue
        seen = {}
        for trig in so["spec"]["triggers"]:
            meta = trig.get("metadata", {})
            if trig["type"] != "kafka":
                continue
            group, topic = meta.get("consumerGroup"), meta.get("topic")
            if group in seen:
                yield f"{name(so)}: more than one trigger for consumerGroup {group}"
            seen[group] = topic
            if group not in expected:
                yield (f"{name(so)}: consumerGroup {group} is not a group {component} runs "
                       f"({', '.join(sorted(expected))})")
            elif topic != expected[group]:
                yield f"{name(so)}: consumerGroup {group} reads {expected[group]}, not topic {topic}"
        for group in sorted(set(expected) - set(seen)):
            yield f"{name(so)}: no kafka trigger for consumerGroup {group} (topic {expected[group]}): its lag is not seen"


def check_selectors(docs):
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in by_kind(docs, "Deployment")}
    for dep in by_kind(docs, "Deployment"):
        sel = dep["spec"]["selector"]["matchLabels"]
        if not matches(sel, pods[dep["metadata"]["name"]]):
            yield f"{name(dep)}: selector {sel} does not match its pod labels"
        for other, labels in pods.items():
            if other != dep["metadata"]["name"] and matches(sel, labels):
                yield f"{name(dep)}: selector also matches the pods of Deployment/{other}"
    for kind in ("Service", "PodDisruptionBudget"):
        for obj in by_kind(docs, kind):
            sel = obj["spec"]["selector"] if kind == "Service" else obj["spec"]["selector"]["matchLabels"]
            hits = [n for n, labels in pods.items() if matches(sel, labels)]
            if len(hits) != 1:
                yield f"{name(obj)}: selector {sel} matches {len(hits)} Deployments' pods, not 1"
    for svc in by_kind(docs, "Service"):
        for dep in by_kind(docs, "Deployment"):
            if matches(svc["spec"]["selector"], pods[dep["metadata"]["name"]]):
                ports = {p.get("name") for c in pod_spec(dep)["containers"] for p in c.get("ports", [])}
                for p in svc["spec"]["ports"]:
                    if isinstance(p["targetPort"], str) and p["targetPort"] not in ports:
                        yield f"{name(svc)}: targetPort {p['targetPort']} is not a container port of {name(dep)}"
    for dep in by_kind(docs, "Deployment"):
        labels = pods[dep["metadata"]["name"]]
        for tsc in pod_spec(dep).get("topologySpreadConstraints", []):
            if not matches(tsc.get("labelSelector", {}).get("matchLabels", {}), labels):
                yield f"{name(dep)}: topologySpreadConstraint on {tsc['topologyKey']} does not select its own pods"
    for sm in by_kind(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"].get("matchLabels", {})
        comps = next((e["values"] for e in sm["spec"]["selector"].get("matchExpressions", [])
                      if e["key"] == "app.kubernetes.io/component"), None)
        selected = [s for s in by_kind(docs, "Service") if matches(sel, s["metadata"]["labels"])
                    and (comps is None or s["metadata"]["labels"].get("app.kubernetes.io/component") in comps)]
        if len(selected) != len(by_kind(docs, "Service")):
            yield f"{name(sm)}: selects {len(selected)} of {len(by_kind(docs, 'Service'))} Services"
        for ep in sm["spec"]["endpoints"]:
            for s in selected:
                if ep.get("port") not in {p.get("name") for p in s["spec"]["ports"]}:
                    yield f"{name(sm)}: endpoint port {ep.get('port')} is not a port of {name(s)}"


def check_probes(docs):
    for dep in by_kind(docs, "Deployment"):
        for c in pod_spec(dep)["containers"]:
            where = f"{name(dep)} container {c['name']}"
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe not in c:
                    yield f"{where}: no {probe}"
            if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                yield f"{where}: liveness probe is not GET /healthz (it must not depend on Kafka)"
            if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                yield f"{where}: readiness probe is not GET /readyz"


def check_termination_grace(docs):
    for dep in by_kind(docs, "Deployment"):
        spec = pod_spec(dep)
        env = config_env(docs, dep)
        grace_ms = int(env.get("SHUTDOWN_GRACE_MS", 20000))
        pre_stop = 0
        cmd = spec["containers"][0].get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        if len(cmd) == 2 and cmd[0] == "sleep":
            pre_stop = int(cmd[1])
        tgps = spec.get("terminationGracePeriodSeconds", 30)
        if tgps <= grace_ms / 1000 + pre_stop:
            yield f"{name(dep)}: terminationGracePeriodSeconds {tgps} <= SHUTDOWN_GRACE_MS/1000 ({grace_ms / 1000}) + preStop {pre_stop}s"


def check_pod_template(docs):
    for dep in by_kind(docs, "Deployment"):
        meta = dep["spec"]["template"]["metadata"]
        if "checksum/config" not in meta.get("annotations", {}):
            yield f"{name(dep)}: no checksum/config annotation (config changes would not roll the pods)"
        for c in pod_spec(dep)["containers"]:
            res = c.get("resources", {})
            if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory"):
                yield f"{name(dep)}: no cpu/memory requests"
            if not res.get("limits", {}).get("memory"):
                yield f"{name(dep)}: no memory limit"
            if c["image"].endswith(":latest") or (":" not in c["image"].rsplit("/", 1)[-1] and "@" not in c["image"]):
                yield f"{name(dep)}: image {c['image']} is not pinned"
        if not pod_spec(dep).get("topologySpreadConstraints"):
            yield f"{name(dep)}: no topologySpreadConstraints"


def check_hooks(docs):
    for job in by_kind(docs, "Job"):
        hook = job["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        if "pre-install" not in hook or "pre-upgrade" not in hook:
            yield f"{name(job)}: not a pre-install,pre-upgrade hook"
    for pod in by_kind(docs, "Pod"):
        if pod["metadata"].get("annotations", {}).get("helm.sh/hook") != "test":
            yield f"{name(pod)}: a bare Pod that is not a helm test hook"


EXPONENT = re.compile(r"^-?\d+(\.\d+)?[eE][+-]?\d+$")


def check_config_numbers(docs):
    # Helm writes a float64 value >= 1e6 as 1.048576e+06, which the services' integer variables refuse.
    for cm in by_kind(docs, "ConfigMap"):
        for key, value in (cm.get("data") or {}).items():
            if isinstance(value, str) and EXPONENT.match(value.strip()):
                yield f"{name(cm)}: {key}={value} is in exponent notation (the services parse integers as digits)"


CHECKS = [check_security_context, check_service_accounts, check_autoscaling, check_partitions_bound, check_topic_durability,
          check_keda_triggers, check_selectors, check_probes, check_termination_grace, check_pod_template, check_hooks,
          check_config_numbers]


def run_checks(docs):
    return [(check.__name__, v) for check in CHECKS for v in check(docs)]


# --self-test: one mutation per check; each must make exactly that check report a violation.
def first(docs, kind, component=None):
    for d in docs:
        if d["kind"] == kind and (component is None or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component):
            return d
    raise SystemExit(f"self-test needs a {kind} ({component}) in the render")


def m_security(docs):
    pod_spec(first(docs, "Deployment"))["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False


def m_security_tmp(docs):
    c = pod_spec(first(docs, "Job"))["containers"][0]
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != "/tmp"]


def m_sa(docs):
    first(docs, "ServiceAccount")["automountServiceAccountToken"] = True


def m_replicas(docs):
    target = first(docs, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"]
    next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == target)["spec"]["replicas"] = 3


def m_double(docs):
    so = first(docs, "ScaledObject")
    hpa = copy.deepcopy(first(docs, "HorizontalPodAutoscaler"))
    hpa["metadata"]["name"] = "extra"
    hpa["spec"]["scaleTargetRef"]["name"] = so["spec"]["scaleTargetRef"]["name"]
    docs.append(hpa)


def m_partitions(docs):
    first(docs, "ScaledObject")["spec"]["maxReplicaCount"] = 10_000


def m_min_isr(docs):
    args = next(pod_spec(j)["containers"][0]["args"] for j in by_kind(docs, "Job") if "create-topics" in pod_spec(j)["containers"][0]["args"])
    args[args.index("--min-insync-replicas") + 1] = "1"


def m_keda_group(docs):
    first(docs, "ScaledObject")["spec"]["triggers"][0]["metadata"]["consumerGroup"] = "someone-else"


def m_keda_missing_group(docs):
    so = first(docs, "ScaledObject", "aggregate")
    so["spec"]["triggers"] = [t for t in so["spec"]["triggers"] if not t["metadata"]["consumerGroup"].endswith("-repartitioned")]


def m_keda_topic(docs):
    so = first(docs, "ScaledObject", "aggregate")
    trig = next(t for t in so["spec"]["triggers"] if t["metadata"]["consumerGroup"].endswith("-repartitioned"))
    trig["metadata"]["topic"] = trig["metadata"]["topic"].replace("repartition", "enriched")


def m_keda_idle_group(docs):
    # Only co-partitioned windows: the repartition groups never run, so their triggers would pin maxReplicas.
    first(docs, "ConfigMap", "aggregate")["data"]["WINDOW_DEFINITIONS"] = json.dumps(
        [{"name": "account-5m", "groupBy": ["accountId"], "window": {"type": "tumbling", "sizeMs": 300000}, "aggregations": []}])


def m_selector(docs):
    first(docs, "Service", "enrich")["spec"]["selector"]["app.kubernetes.io/component"] = "enrichh"


def m_liveness(docs):
    pod_spec(first(docs, "Deployment"))["containers"][0]["livenessProbe"]["httpGet"]["path"] = "/readyz"


def m_no_startup(docs):
    del pod_spec(first(docs, "Deployment"))["containers"][0]["startupProbe"]


def m_grace(docs):
    pod_spec(first(docs, "Deployment"))["terminationGracePeriodSeconds"] = 20


def m_checksum(docs):
    del first(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def m_hook(docs):
    del first(docs, "Job")["metadata"]["annotations"]["helm.sh/hook"]


def m_exponent(docs):
    first(docs, "ConfigMap", "ingest")["data"]["INGEST_MAX_BODY_BYTES"] = "1.048576e+06"


MUTATIONS = [
    ("check_security_context", m_security), ("check_security_context", m_security_tmp),
    ("check_service_accounts", m_sa), ("check_autoscaling", m_replicas), ("check_autoscaling", m_double),
    ("check_partitions_bound", m_partitions), ("check_topic_durability", m_min_isr), ("check_keda_triggers", m_keda_group),
    ("check_keda_triggers", m_keda_missing_group), ("check_keda_triggers", m_keda_topic),
    ("check_keda_triggers", m_keda_idle_group),
    ("check_selectors", m_selector), ("check_probes", m_liveness), ("check_probes", m_no_startup),
    ("check_termination_grace", m_grace), ("check_pod_template", m_checksum), ("check_hooks", m_hook),
    ("check_config_numbers", m_exponent),
]


def self_test(path):
    base = load(path)
    if run_checks(base):
        sys.exit(f"self-test: the unmutated render {path} already fails")
    tested, failed = set(), 0
    for check, mutate in MUTATIONS:
        docs = copy.deepcopy(base)
        mutate(docs)
        hits = [v for c, v in run_checks(docs) if c == check]
        tested.add(check)
        status = "ok" if hits else "MISSED"
        failed += not hits
        print(f"  self-test {mutate.__name__:20} -> {check}: {status}{' (' + hits[0] + ')' if hits else ''}")
    untested = {c.__name__ for c in CHECKS} - tested
    if untested or failed:
        sys.exit(f"self-test failed: {failed} mutation(s) not caught, checks without a mutation: {sorted(untested)}")


# --env-drift: the chart must know every env var the services read.
ENV_DECL = re.compile(r"\b\w*Var\(\s*'([A-Z0-9_]+)'")
TOPIC_DECL = re.compile(r"^\s+\w+: '(TOPIC_[A-Z_]+)',", re.M)
LEFT_AT_DEFAULT = {"HTTP_HOST"}  # binds 0.0.0.0, right for a pod


def env_drift(root, rendered):
    declared = {}
    walk = [w for top in ("apps", "libs") for w in os.walk(os.path.join(root, top))]
    for base, _, files in walk:
        if "node_modules" in base or "/dist" in base or "/test" in base:
            continue
        for f in files:
            if f.endswith(".config.ts") or f in ("common-env.ts", "topics.ts"):
                text = open(os.path.join(base, f)).read()
                for var in ENV_DECL.findall(text) + TOPIC_DECL.findall(text):
                    declared[var] = os.path.relpath(os.path.join(base, f), root)
    schema = json.load(open(os.path.join(root, "k8s/helm/streamguard/values.schema.json")))
    configurable = {k for svc in schema["properties"]["services"]["properties"].values()
                    for k in svc["properties"]["config"]["properties"]}
    docs = load(rendered)
    provided = set()
    for cm in by_kind(docs, "ConfigMap"):
        provided |= set(cm.get("data", {}))
    for obj in docs:
        if obj["kind"] in WORKLOADS:
            provided |= {e["name"] for c in pod_spec(obj)["containers"] for e in c.get("env", [])}
    missing = sorted(v for v in declared if v not in provided | configurable | LEFT_AT_DEFAULT)
    if not declared:
        sys.exit("env drift: found no env var declarations (did the config files move?)")
    for var in missing:
        print(f"  env var {var} ({declared[var]}) is neither set by the chart nor in services.<svc>.config")
    per_service = service_env_drift(root, schema, docs)
    for line in per_service:
        print(f"  {line}")
    if missing or per_service:
        sys.exit(1)
    print(f"  env drift: all {len(declared)} env vars the services declare are covered, each in the Deployments "
          f"of the services that read it")


# Per service: apps/<svc>/src/<svc>.config.ts declares its own variables and spreads shared groups
# (`...databaseEnv`) from libs/common/src/config/common-env.ts; topicEnv is built from topics.ts.
GROUP_DECL = re.compile(r"^export const (\w+)\s*=", re.M)
SPREAD = re.compile(r"\.\.\.(\w+)")


def env_groups(root):
    text = open(os.path.join(root, "libs/common/src/config/common-env.ts")).read()
    starts = [(m.group(1), m.start()) for m in GROUP_DECL.finditer(text)]
    groups = {name: set(ENV_DECL.findall(text[start:starts[i + 1][1] if i + 1 < len(starts) else len(text)]))
              for i, (name, start) in enumerate(starts)}
    groups["topicEnv"] = set(TOPIC_DECL.findall(open(os.path.join(root, "libs/common/src/contracts/topics.ts")).read()))
    return groups


def service_env_drift(root, schema, docs):
    groups = env_groups(root)
    deployments = {d["metadata"]["labels"].get("app.kubernetes.io/component"): d for d in by_kind(docs, "Deployment")}
    problems = []
    for svc, svc_schema in schema["properties"]["services"]["properties"].items():
        path = os.path.join(root, "apps", svc, "src", f"{svc}.config.ts")
        if not os.path.exists(path):
            problems.append(f"services.{svc}: no {os.path.relpath(path, root)} to read its env vars from")
            continue
        text = open(path).read()
        reads = {var: "" for var in ENV_DECL.findall(text)}
        for group in SPREAD.findall(text):
            if group not in groups:
                problems.append(f"{svc}: cannot resolve ...{group} in {os.path.relpath(path, root)} (not an export of common-env.ts)")
                continue
            reads.update({var: f" (via {group})" for var in groups[group]})
        dep = deployments.get(svc)
        if dep is None:
            problems.append(f"{svc}: no Deployment in the render")
            continue
        container = pod_spec(dep)["containers"][0]
        can_set = set(config_env(docs, dep)) | {e["name"] for e in container.get("env", [])}
        can_set |= set(svc_schema["properties"]["config"]["properties"]) | LEFT_AT_DEFAULT
        for var in sorted(set(reads) - can_set):
            problems.append(f"{svc} reads {var}{reads[var]} but its Deployment does not set it and services.{svc}.config cannot")
    return problems


def main(argv):
    if argv[1:2] == ["--self-test"]:
        return self_test(argv[2])
    if argv[1:2] == ["--env-drift"]:
        return env_drift(argv[2], argv[3])
    bad = 0
    for path in argv[1:]:
        violations = run_checks(load(path))
        for check, v in violations:
            print(f"  {os.path.basename(path)}: [{check}] {v}")
        bad += len(violations)
        if not violations:
            print(f"  {os.path.basename(path)}: {len(CHECKS)} checks passed")
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
