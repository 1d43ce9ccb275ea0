#!/usr/bin/env python3
"""Generates k8s/helm/streamguard/values.schema.json from values.yaml.

Types come from the defaults; every object the chart defines is closed with `additionalProperties: false`
so a misspelt key fails `helm install`. The OVERRIDES table adds enums, ranges and the shapes of maps and
Kubernetes pass-through fields. `--check` exits 1 when the committed schema is stale (validate.sh uses it).
"""
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "helm", "streamguard")
RULES = os.path.join(ROOT, "prometheus", "streamguard-rules.yaml")

STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
K8S_LIST = {"type": "array", "items": {"type": "object"}}
K8S_OBJECT = {"type": "object", "description": "Kubernetes pass-through, validated by kubeconform on render."}
INT_OR_STRING = {"type": ["integer", "string"]}
QUANTITIES = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}
PROBE = {"type": "object", "additionalProperties": False, "properties": {
    k: {"type": "integer", "minimum": 0} for k in
    ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold")}}
DURATION = {"type": "string", "pattern": "^([0-9]+(ms|s|m|h))+$"}


def alert_names():
    with open(RULES) as fh:
        return sorted(r["alert"] for g in yaml.safe_load(fh)["groups"] for r in g["rules"] if "alert" in r)


# Dotted paths; `*` matches any key (the four services).
OVERRIDES = {
    "commonLabels": STRING_MAP,
    "imagePullSecrets": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                     "required": ["name"], "properties": {"name": {"type": "string"}}}},
    "image.digest": {"type": "string", "pattern": "^(sha256:[a-f0-9]{64})?$"},
    "image.pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
    "logLevel": {"enum": ["debug", "info", "warn", "error"]},
    "shutdownGraceMs": {"type": "integer", "minimum": 1000, "maximum": 600000},
    "terminationGracePeriodSeconds": {"type": "integer", "minimum": 1},
    "preStopSleepSeconds": {"type": "integer", "minimum": 0, "maximum": 60},
    "kafka.brokers": {"type": "string", "minLength": 1},
    "kafka.partitions": {"type": "integer", "minimum": 1, "maximum": 10000},
    "kafka.replicationFactor": {"type": "integer", "minimum": 1, "maximum": 10},
    "kafka.minInsyncReplicas": {"type": "integer", "minimum": 1, "maximum": 10},
    "kafka.sasl.mechanism": {"enum": ["plain", "scram-sha-256", "scram-sha-512"]},
    "postgres.poolSize": {"type": "integer", "minimum": 1, "maximum": 200},
    "serviceAccount.annotations": STRING_MAP,
    "securityContext.runAsUser": {"type": ["integer", "null"], "minimum": 1},
    "securityContext.runAsGroup": {"type": ["integer", "null"], "minimum": 1},
    "securityContext.fsGroup": {"type": ["integer", "null"], "minimum": 1},
    "topologySpread.whenUnsatisfiable": {"enum": ["ScheduleAnyway", "DoNotSchedule"]},
    "topologySpread.topologyKeys": {"type": "array", "items": {"type": "string"}},
    "extraEnv": K8S_LIST,
    "services.*.replicas": {"type": "integer", "minimum": 0},
    "services.*.resources": {"type": "object", "additionalProperties": False,
                             "properties": {"limits": QUANTITIES, "requests": QUANTITIES}},
    "services.*.autoscaling.minReplicas": {"type": "integer", "minimum": 1},
    "services.*.autoscaling.maxReplicas": {"type": "integer", "minimum": 1},
    "services.*.autoscaling.targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
    "services.*.autoscaling.lagThreshold": {"type": "integer", "minimum": 1},
    "services.*.pdb": {"type": "object", "additionalProperties": False, "properties": {
        "enabled": {"type": "boolean"}, "minAvailable": INT_OR_STRING, "maxUnavailable": INT_OR_STRING}},
    "services.*.service.type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "services.*.service.port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "services.*.service.annotations": STRING_MAP,
    "services.*.probes.*": PROBE,
    "services.*.config.RATE_LIMIT_PER_SECOND": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
    "services.*.config.RATE_LIMIT_BURST": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
    "services.*.config.API_KEYS_POLL_MS": {"type": "integer", "minimum": 100, "maximum": 3_600_000},
    "services.alert.config.RULES_MAX_PER_TENANT": {"type": "integer", "minimum": 0, "maximum": 100000},
    "services.alert.config.RULES_TENANT_MAX_WINDOW_MS": {"type": "integer", "minimum": 1000, "maximum": 31622400000},
    "services.*.podLabels": STRING_MAP,
    "services.*.podAnnotations": STRING_MAP,
    "services.*.nodeSelector": STRING_MAP,
    "services.*.affinity": K8S_OBJECT,
    "services.*.extraEnv": K8S_LIST,
    "services.*.extraEnvFrom": K8S_LIST,
    "services.*.extraVolumes": K8S_LIST,
    "services.*.extraVolumeMounts": K8S_LIST,
    "services.*.tolerations": K8S_LIST,
    "services.*.topologySpreadConstraints": K8S_LIST,
    "jobs.resources": {"type": "object", "additionalProperties": False,
                       "properties": {"limits": QUANTITIES, "requests": QUANTITIES}},
    "metrics.serviceMonitor.labels": STRING_MAP,
    "metrics.serviceMonitor.interval": DURATION,
    "metrics.serviceMonitor.scrapeTimeout": DURATION,
    "metrics.prometheusRule.labels": STRING_MAP,
    "metrics.prometheusRule.additionalRuleLabels": STRING_MAP,
    "metrics.prometheusRule.disabledAlerts": {"type": "array", "uniqueItems": True, "items": {"enum": alert_names()}},
    "grafana.dashboards.annotations": STRING_MAP,
    "grafana.postgresDatasource.sslmode": {"enum": ["disable", "require", "verify-ca", "verify-full"]},
    "tests.timeoutSeconds": {"type": "integer", "minimum": 10},
}


def override(path):
    for pattern, schema in OVERRIDES.items():
        parts = pattern.split(".")
        if len(parts) == len(path) and all(p in ("*", k) for p, k in zip(parts, path)):
            return schema
    return None


def infer(value, path):
    found = override(path)
    if found is not None:
        return found
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, dict):
        if not value:
            sys.exit(f"values.yaml: empty map at {'.'.join(path)} needs an entry in OVERRIDES")
        return {"type": "object", "additionalProperties": False,
                "properties": {k: infer(v, path + [k]) for k, v in value.items()}}
    sys.exit(f"values.yaml: cannot infer a type at {'.'.join(path)}")


def main():
    with open(os.path.join(CHART, "values.yaml")) as fh:
        values = yaml.safe_load(fh)
    schema = {"$schema": "https://json-schema.org/draft-07/schema#", "title": "streamguard chart values",
              **infer(values, [])}
    text = json.dumps(schema, indent=2) + "\n"
    target = os.path.join(CHART, "values.schema.json")
    if "--check" in sys.argv:
        current = open(target).read() if os.path.exists(target) else ""
        if current != text:
            sys.exit("values.schema.json is stale: run python3 k8s/ci/gen-values-schema.py")
        return
    with open(target, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
