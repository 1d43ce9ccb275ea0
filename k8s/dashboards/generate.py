#!/usr/bin/env python3
"""Generates the Grafana dashboards (*.json beside this file) from the panel lists below.

Run `python3 k8s/dashboards/generate.py` after editing; `--check` (used by k8s/ci/validate.sh) fails when the
JSON is stale.
The Prometheus datasource is the template variable ${datasource} (no __inputs), so the same JSON works
from the Grafana sidecar, the UI import and the API. `$namespace` narrows to one installation.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROM = {"type": "prometheus", "uid": "${datasource}"}
PG = {"type": "grafana-postgresql-datasource", "uid": "${pgdatasource}"}
NS = 'namespace=~"$namespace"'
STAGES = ("enrich", "aggregate", "alert")


def q(expr, legend="", instant=False):
    return {"expr": expr, "legendFormat": legend, **({"instant": True, "range": False} if instant else {})}


def sql(text, fmt="table"):
    return {"datasource": PG, "rawQuery": True, "editorMode": "code", "format": fmt, "rawSql": text}


def per_stage(template, legend):
    return [q(template.format(svc=s, ns=NS), legend) for s in STAGES]


def lag_per_group(template, legend):
    """Per stage, plus aggregate's repartition stage: its group (<prefix>.aggregate-repartition) reports its lag
    as aggregate_repartition_consumer_lag_records (apps/aggregate/src/repartition/repartition-stage.ts)."""
    return [q(template.format(svc=s, ns=NS), legend) for s in (*STAGES, "aggregate_repartition")]


def all_services(template):
    """One expression over the four services' own metric names (`ingest_x or enrich_x or ...`)."""
    return "\n  or\n".join(template.format(svc=s, ns=NS) for s in ("ingest", *STAGES))


class Board:
    def __init__(self, uid, title, description, extra_vars=()):
        self.uid, self.title, self.description, self.extra_vars = uid, title, description, extra_vars
        self.panels, self.x, self.y, self.row_h = [], 0, 0, 0

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "id": len(self.panels) + 1})
        self.y += 1

    def _newline(self):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0

    def panel(self, title, targets, unit="short", kind="timeseries", w=8, h=8, description="", datasource=PROM, **extra):
        if self.x + w > 24:
            self._newline()
        for i, t in enumerate(targets):
            t.setdefault("refId", chr(ord("A") + i))
            t.setdefault("datasource", datasource)
        panel = {"id": len(self.panels) + 1, "type": kind, "title": title, "description": description,
                 "datasource": datasource, "targets": targets,
                 "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
                 "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {}}
        if kind == "timeseries":
            panel["options"] = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                                "tooltip": {"mode": "multi", "sort": "desc"}}
        panel.update(extra)
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def json(self):
        variables = [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
            {"name": "namespace", "label": "Namespace", "type": "query", "datasource": PROM,
             "query": {"query": "label_values(process_start_time_seconds, namespace)", "refId": "ns"},
             "definition": "label_values(process_start_time_seconds, namespace)",
             "includeAll": True, "allValue": ".*", "multi": True, "refresh": 2, "sort": 1,
             "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "hide": 0, "options": []},
            *self.extra_vars,
        ]
        return {"uid": self.uid, "title": self.title, "description": self.description,
                "tags": ["streamguard"], "timezone": "", "editable": True, "graphTooltip": 1,
                "schemaVersion": 39, "version": 1, "refresh": "30s",
                "time": {"from": "now-3h", "to": "now"}, "timepicker": {},
                "annotations": {"list": []}, "links": [
                    {"type": "dashboards", "tags": ["streamguard"], "asDropdown": True, "title": "Streamguard", "includeVars": True, "keepTime": True}],
                "templating": {"list": variables}, "panels": self.panels}


def pipeline():
    b = Board("streamguard-pipeline", "Streamguard / Pipeline overview",
              "Ingest rate and status, throughput per stage, consumer lag, end-to-end latency, DLQ and late events, "
              "API key rejections and rate limiting.")
    b.row("Ingest")
    b.panel("Accepted events/s", [q(f'sum(rate(ingest_events_accepted_total{{{NS}}}[$__rate_interval]))', "accepted")], "ops",
            description="Events acknowledged to clients (HTTP 202), durable in Kafka.")
    b.panel("Rejected requests/s by reason", [q(f'sum by (reason) (rate(ingest_events_rejected_total{{{NS}}}[$__rate_interval]))', "{{reason}}")], "reqps",
            description="HTTP status by cause: unparseable 400, too-many 413, invalid 422, unavailable 503.")
    b.panel("Kafka produce latency (acks=all)", [
        q(f'histogram_quantile({p}, sum by (le) (rate(ingest_produce_duration_seconds_bucket{{{NS}}}[$__rate_interval])))', f"p{int(p * 100)}")
        for p in (0.5, 0.95, 0.99)], "s")
    b.row("Throughput and lag")
    b.panel("Records processed/s per stage", [
        q(f'sum(rate(ingest_events_accepted_total{{{NS}}}[$__rate_interval]))', "ingest"),
        *per_stage('sum by (service) (rate({svc}_records_processed_total{{{ns}}}[$__rate_interval]))', "{{service}}")], "ops")
    b.panel("Consumer lag per group and topic", lag_per_group('sum by (group, topic) ({svc}_consumer_lag_records{{{ns}}})', "{{group}} / {{topic}}"), "short",
            description="Log end offset minus committed offset, summed over partitions.")
    b.panel("Consumer lag per partition", lag_per_group('max by (group, topic, partition) ({svc}_consumer_lag_records{{{ns}}})', "{{group}} p{{partition}}"), "short")
    b.row("Latency")
    b.panel("End-to-end latency at alert (ingest -> alert committed)", [
        q(f'histogram_quantile({p}, sum by (le) (rate(alert_end_to_end_latency_seconds_bucket{{{NS}}}[$__rate_interval])))', f"p{int(p * 100)}")
        for p in (0.5, 0.95, 0.99)], "s", w=12)
    b.panel("End-to-end latency p50 / p95 / p99 per stage", [
        q(f'histogram_quantile({p}, sum by (le) (rate({s}_end_to_end_latency_seconds_bucket{{{NS}}}[$__rate_interval])))', f"{s} p{int(p * 100)}")
        for s in STAGES for p in (0.5, 0.95, 0.99)], "s", w=12)
    b.panel("Batch duration p95 per stage", per_stage(
        'histogram_quantile(0.95, sum by (le, service) (rate({svc}_batch_duration_seconds_bucket{{{ns}}}[$__rate_interval])))', "{{service}}"), "s")
    b.panel("Aggregate watermark lag per partition", [q(f'max by (partition) (aggregate_watermark_lag_seconds{{{NS}}})', "p{{partition}}")], "s",
            description="Processing time minus the partition watermark: how long windows wait before they can close.")
    b.panel("Aggregate open windows", [q(f'sum by (partition) (aggregate_open_windows{{{NS}}})', "p{{partition}}")], "short")
    b.row("Errors, dead letters and late events")
    b.panel("Dead-lettered records/s by stage and code", per_stage('sum by (service, code) (rate({svc}_dlq_records_total{{{ns}}}[$__rate_interval]))', "{{service}} {{code}}"), "ops")
    b.panel("Late events/s by window and reason", [
        q(f'sum by (definition, reason) (rate(aggregate_late_records_total{{{NS}}}[$__rate_interval]))', "{{definition}} {{reason}}")], "ops",
            description="Records sent to events.late: TOO_LATE (window already closed) or FUTURE_TS.")
    b.panel("Batch retries/s per stage", per_stage('sum by (service) (rate({svc}_batch_retries_total{{{ns}}}[$__rate_interval]))', "{{service}}"), "ops",
            description="Rolled back and retried after transient errors; steps here often coincide with rebalances and restarts.")
    b.panel("Blocked partitions: seconds stuck per stage and partition", per_stage(
        'max by (service, topic, partition) ({svc}_partition_blocked_seconds{{{ns}}})', "{{service}} {{topic}} p{{partition}}"), "s",
            description="How long a partition's batch has kept failing with retriable errors (0 while it flows). "
                        "Alert: StreamguardPartitionBlocked above 2 minutes; past PARTITION_BLOCKED_NOT_READY_MS the instance reports not ready.")
    b.panel("Partitions reporting per aggregate instance", [
        q(f'count by (instance) (aggregate_watermark_lag_seconds{{{NS}}})', "{{instance}}")], "short",
            description="No rebalance counter is exported yet; a change in partitions per instance marks a rebalance.")
    b.row("API access")
    b.panel("Rejected API requests/s by service and reason", [q(all_services(
        'sum by (service, reason) (rate({svc}_auth_rejected_total{{{ns}}}[$__rate_interval]))'), "{{service}} {{reason}}")], "reqps", w=12,
            description="Refused by API key checks: 401 API_KEY_REQUIRED / API_KEY_INVALID / API_KEY_REVOKED, 403 SCOPE_REQUIRED / "
                        "PLATFORM_ADMIN_REQUIRED, 503 AUTH_UNAVAILABLE (key table not loaded yet). Alert: StreamguardAuthFailureBurst.")
    b.panel("Rate-limited requests/s by tenant", [q(all_services(
        'sum by (service, tenant) (rate({svc}_rate_limited_total{{{ns}}}[$__rate_interval]))'), "{{tenant}} ({{service}})")], "reqps", w=12,
            description="Refused with 429 (or 413, a batch above the burst) because the tenant's API key was over its token bucket "
                        "(RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST or the key's own). Alert: StreamguardTenantRateLimited.")
    return b


def fraud():
    pg_var = {"name": "pgdatasource", "label": "Postgres", "type": "datasource", "query": "grafana-postgresql-datasource",
              "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []}
    b = Board("streamguard-fraud", "Streamguard / Fraud", "Fraud alerts by rule and severity, top accounts, recent alerts.", (pg_var,))
    b.row("Alerts")
    b.panel("Alerts in range by severity", [q(f'sum by (severity) (increase(alerts_total{{{NS}}}[$__range]))', "{{severity}}", instant=True)],
            "short", kind="stat", w=8, h=6, options={"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background", "graphMode": "none"})
    b.panel("Alerts/s by rule and severity", [q(f'sum by (rule, severity) (rate(alerts_total{{{NS}}}[$__rate_interval]))', "{{rule}} ({{severity}})")],
            "ops", w=16, h=6)
    b.panel("Alerts in range by rule", [q(f'sort_desc(sum by (rule) (increase(alerts_total{{{NS}}}[$__range])))', "{{rule}}", instant=True)],
            "short", kind="bargauge", w=8, h=10, options={"orientation": "horizontal", "displayMode": "gradient",
                                                          "reduceOptions": {"calcs": ["lastNotNull"]}})
    b.panel("Top accounts by alerts", [sql(
        "SELECT account_id, count(*) AS alerts, count(DISTINCT rule_id) AS rules, string_agg(DISTINCT severity, ', ') AS severities,\n"
        "       max(detected_at) AS last_alert\n"
        "FROM alerts\nWHERE $__timeFilter(detected_at)\nGROUP BY account_id\nORDER BY alerts DESC\nLIMIT 20")],
            kind="table", w=16, h=10, datasource=PG)
    b.panel("Recent alerts", [sql(
        "SELECT detected_at, occurred_at, severity, rule_id, rule_version, rule_type, account_id,\n"
        "       cardinality(event_ids) AS events, explanation::text AS explanation\n"
        "FROM alerts\nWHERE $__timeFilter(detected_at)\nORDER BY detected_at DESC\nLIMIT 200")],
            kind="table", w=24, h=12, datasource=PG)
    b.row("Inputs of the rules")
    b.panel("Window results/s by definition", [
        q(f'sum by (definition, final) (rate(aggregate_window_results_total{{{NS}}}[$__rate_interval]))', "{{definition}} final={{final}}")], "ops", w=12)
    b.panel("Events enriched with missing reference data/s", [
        q(f'sum by (flag) (rate(enrich_reference_missing_total{{{NS}}}[$__rate_interval]))', "{{flag}}")], "ops", w=12,
            description="A reference-data gap can make rules fire (or miss); compare with alert spikes.")
    return b


def health():
    b = Board("streamguard-health", "Streamguard / Service health", "CPU, memory, event-loop lag and restarts of every service instance.")
    b.row("Resources")
    b.panel("CPU (cores) per instance", [q(f'sum by (service, instance) (rate(process_cpu_seconds_total{{{NS}}}[$__rate_interval]))', "{{service}} {{instance}}")], "short", w=12)
    b.panel("Resident memory per instance", [q(f'sum by (service, instance) (process_resident_memory_bytes{{{NS}}})', "{{service}} {{instance}}")], "bytes", w=12)
    b.panel("Heap used per instance", [q(f'sum by (service, instance) (nodejs_heap_size_used_bytes{{{NS}}})', "{{service}} {{instance}}")], "bytes", w=12)
    b.panel("GC time share per instance", [
        q(f'sum by (service, instance) (rate(nodejs_gc_duration_seconds_sum{{{NS}}}[$__rate_interval]))', "{{service}} {{instance}}")], "percentunit", w=12)
    b.row("Event loop and restarts")
    b.panel("Event-loop lag p99 per instance", [q(f'max by (service, instance) (nodejs_eventloop_lag_p99_seconds{{{NS}}})', "{{service}} {{instance}}")], "s", w=12,
            description="A busy loop delays Kafka heartbeats and HTTP probes; sustained values near the probe timeout cause restarts.")
    b.panel("Event-loop lag (current) per instance", [q(f'max by (service, instance) (nodejs_eventloop_lag_seconds{{{NS}}})', "{{service}} {{instance}}")], "s", w=12)
    b.panel("Restarts in range per service", [
        q(f'sum by (service) (changes(process_start_time_seconds{{{NS}}}[$__range]))', "{{service}}", instant=True)], "short",
            kind="stat", w=8, h=6, description="Process restarts seen by Prometheus (process_start_time_seconds changed).",
            options={"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background", "graphMode": "none"})
    b.panel("Instances up per service", [q(f'count by (service) (process_start_time_seconds{{{NS}}})', "{{service}}")], "short", w=8, h=6)
    b.panel("Open file descriptors per instance", [q(f'max by (service, instance) (process_open_fds{{{NS}}})', "{{service}} {{instance}}")], "short", w=8, h=6)
    return b


def main():
    import sys
    stale = []
    for board, name in ((pipeline(), "pipeline-overview"), (fraud(), "fraud"), (health(), "service-health")):
        path = os.path.join(HERE, f"{name}.json")
        text = json.dumps(board.json(), indent=2) + "\n"
        if "--check" in sys.argv:
            if not os.path.exists(path) or open(path).read() != text:
                stale.append(path)
            continue
        with open(path, "w") as fh:
            fh.write(text)
    if stale:
        sys.exit(f"stale dashboards (run python3 k8s/dashboards/generate.py): {stale}")


if __name__ == "__main__":
    main()
