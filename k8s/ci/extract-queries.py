#!/usr/bin/env python3
"""Lists every PromQL expression in the Grafana dashboards and the Prometheus rules.

  extract-queries.py                 JSON lines: {"source", "ref", "expr", "raw"} per expression
  extract-queries.py --metric-names  the metric names the expressions read, one per line (sample names as
                                     /metrics shows them: histograms appear as <name>_bucket/_sum/_count)
  extract-queries.py --rules-file F  writes F: every expression wrapped as a recording rule, so that
                                     `promtool check rules F` parses them all (promtool has no expr checker)
  extract-queries.py --check-source ROOT
                                     fail when a referenced metric is declared nowhere in ROOT/apps, ROOT/libs
                                     (metrics.counter/gauge/histogram calls) nor among prom-client's defaults
  --var NAME=VALUE                   value of a dashboard variable (default ".*", e.g. --var namespace=prod);
                                     Grafana's $__rate_interval, $__interval and $__range become 5m, 1m, 1h
  --dashboards DIR --rules FILE...   inputs (default: k8s/dashboards, k8s/prometheus/*.yaml)

Postgres (rawSql) targets and Grafana variable queries (label_values) are not PromQL and are skipped.
"""
import argparse
import glob
import json
import os
import re
import sys

import yaml

K8S = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAFANA_RANGES = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "offset", "inf", "nan", "atan2", "start", "end"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z]*'
                   r'|[a-zA-Z_:][a-zA-Z0-9_:]*|\s+|.', re.S)


def substitute(expr, variables):
    def repl(match):
        var = match.group(1) or match.group(2)
        var = var.split(":")[0]
        if var in GRAFANA_RANGES:
            return GRAFANA_RANGES[var]
        return variables.get(var, ".*")
    return re.sub(r"\$\{([^}]+)\}|\$([a-zA-Z_][a-zA-Z0-9_]*)", repl, expr)


def dashboard_queries(directory):
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as fh:
            board = json.load(fh)
        stack = list(board.get("panels", []))
        while stack:
            panel = stack.pop(0)
            stack.extend(panel.get("panels", []))
            for target in panel.get("targets", []):
                ds_type = (target.get("datasource") or panel.get("datasource") or {}).get("type", "prometheus")
                if ds_type == "prometheus" and target.get("expr"):
                    ref = f'{board.get("uid")}: {panel.get("title")} [{target.get("refId", "?")}]'
                    yield os.path.relpath(path, os.path.dirname(K8S)), ref, target["expr"]


def rule_queries(paths):
    for path in paths:
        with open(path) as fh:
            doc = yaml.safe_load(fh) or {}
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                ref = f'{group["name"]}: {rule.get("alert") or rule.get("record")}'
                yield os.path.relpath(path, os.path.dirname(K8S)), ref, rule["expr"]


def metric_names(expr):
    """Metric names an expression selects: identifiers that are not functions, keywords or label names."""
    names = set(re.findall(r'__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', expr))
    depth_brace = depth_bracket = 0
    tokens = [t for t in TOKEN.findall(expr)]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "{":
            depth_brace += 1
        elif tok == "}":
            depth_brace -= 1
        elif tok == "[":
            depth_bracket += 1
        elif tok == "]":
            depth_bracket -= 1
        elif depth_brace == 0 and depth_bracket == 0 and re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", tok):
            rest = [t for t in tokens[i + 1:] if not t.isspace()]
            nxt = rest[0] if rest else ""
            if tok in ("by", "without", "on", "ignoring", "group_left", "group_right") and nxt == "(":
                # Skip the label list.
                j = tokens.index("(", i + 1)
                while tokens[j] != ")":
                    j += 1
                i = j
            elif tok in AGGREGATIONS and nxt in ("by", "without"):
                pass  # `sum by (...) (...)`: an operator, not a metric
            elif tok.lower() not in KEYWORDS and nxt != "(":
                names.add(tok)
        i += 1
    return names


DECLARED = re.compile(r"metrics\.(counter|gauge|histogram)\(\s*[`'\"]([^`'\"]+)[`'\"]")
# Metric prefixes: the four services, and aggregate's repartition stage (its own prefix, repartition-stage.ts).
SERVICES = ("ingest", "enrich", "aggregate", "alert", "aggregate_repartition")


def declared_metrics(root):
    """Metric names the services register, plus prom-client's default Node metrics."""
    names = {}
    for top in ("apps", "libs"):
        for base, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith(".ts") and not f.endswith(".spec.ts"):
                    for kind, name in DECLARED.findall(open(os.path.join(base, f)).read()):
                        for svc in SERVICES:
                            names[re.sub(r"\$\{[^}]*service\}", svc, name)] = kind
    defaults = glob.glob(os.path.join(root, "node_modules", "prom-client", "lib", "metrics", "*.js"))
    for path in defaults:
        for name in re.findall(r"'((?:nodejs|process)_[a-z0-9_]+)'", open(path).read()):
            names[name] = "histogram" if name == "nodejs_gc_duration_seconds" else "default"
    if not defaults:
        print("warning: node_modules/prom-client missing; accepting any process_/nodejs_ metric", file=sys.stderr)
    return names


def unknown_metrics(root, referenced):
    declared = declared_metrics(root)
    missing = []
    for name in sorted(referenced):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in declared or declared.get(base) == "histogram":
            continue
        if not glob.glob(os.path.join(root, "node_modules", "prom-client")) and name.startswith(("process_", "nodejs_")):
            continue
        missing.append(name)
    return missing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dashboards", default=os.path.join(K8S, "dashboards"))
    parser.add_argument("--rules", nargs="*", default=sorted(glob.glob(os.path.join(K8S, "prometheus", "*.yaml"))))
    parser.add_argument("--var", action="append", default=[])
    parser.add_argument("--metric-names", action="store_true")
    parser.add_argument("--rules-file")
    parser.add_argument("--check-source", metavar="ROOT")
    args = parser.parse_args()
    variables = dict(v.split("=", 1) for v in args.var)

    queries = [(src, ref, raw, substitute(raw, variables))
               for src, ref, raw in [*dashboard_queries(args.dashboards), *rule_queries(args.rules)]]
    if not queries:
        sys.exit("no PromQL expressions found")
    if args.rules_file:
        rules = [{"record": f"check:expr_{i}", "expr": expr, "labels": {"source": f"{src} {ref}"[:200]}}
                 for i, (src, ref, _, expr) in enumerate(queries)]
        with open(args.rules_file, "w") as fh:
            yaml.safe_dump({"groups": [{"name": "extracted", "rules": rules}]}, fh, sort_keys=False)
        print(f"{len(queries)} expressions -> {args.rules_file}", file=sys.stderr)
    elif args.check_source:
        referenced = set().union(*(metric_names(expr) for *_, expr in queries))
        missing = unknown_metrics(args.check_source, referenced)
        for name in missing:
            print(f"  metric {name} is used by a dashboard or rule but no service declares it", file=sys.stderr)
        if missing:
            sys.exit(1)
        print(f"  all {len(referenced)} metric names used by {len(queries)} expressions are declared by the services")
    elif args.metric_names:
        print("\n".join(sorted(set().union(*(metric_names(expr) for *_, expr in queries)))))
    else:
        for src, ref, raw, expr in queries:
            print(json.dumps({"source": src, "ref": ref, "expr": expr, "raw": raw}))


if __name__ == "__main__":
    main()
