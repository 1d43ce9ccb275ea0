/**
 * What the dashboards (k8s/dashboards/*.json) and alert rules (k8s/prometheus/*.yaml) query, in a form a
 * test can run: PromQL from k8s/ci/extract-queries.py (the same lister CI uses), Postgres SQL with Grafana's
 * macros expanded, and the metric families a service's /metrics text declares.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const K8S_DIR = join(__dirname, '..', '..', 'k8s');

export interface PromQuery {
  /** File the expression comes from (k8s/dashboards/x.json, k8s/prometheus/y.yaml). */
  source: string;
  /** `<dashboard uid>: <panel> [refId]` or `<rule group>: <alert>`. */
  ref: string;
  /** With dashboard variables substituted. */
  expr: string;
  raw: string;
}

function extractQueries(args: string[]): string {
  const run = spawnSync('python3', [join(K8S_DIR, 'ci', 'extract-queries.py'), ...args], { encoding: 'utf8' });
  if (run.error || run.status !== 0) throw new Error(`extract-queries.py ${args.join(' ')} failed: ${run.error?.message ?? run.stderr}`);
  return run.stdout;
}

/** Every PromQL expression, dashboard variables set as Grafana would (`vars`: namespace=…). */
export function promQueries(vars: Record<string, string>): PromQuery[] {
  const args = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`]);
  return extractQueries(args).split('\n').filter(Boolean).map((line) => JSON.parse(line) as PromQuery);
}

/** Metric names the expressions read (histograms as <name>_bucket/_sum/_count). */
export function referencedMetricNames(): string[] {
  return extractQueries(['--metric-names']).split('\n').filter(Boolean);
}

export const isRuleQuery = (q: PromQuery): boolean => q.source.startsWith('k8s/prometheus/');

/**
 * An alert expression is a condition: `X > threshold` (possibly several joined by `and`) returns nothing
 * while everything is fine, so "returns no data" would not tell a healthy pipeline from a rule that reads a
 * metric nobody exports. This adds the `bool` modifier to every comparison operator (outside label matchers
 * and strings): a comparison then yields 0/1 for every series of its operands instead of filtering, so the
 * rewritten expression evaluates exactly the same operands and label matching (on/ignoring/group_left,
 * `and` between the conditions) and is empty only when an operand has no data or the sides never match.
 */
export function comparisonsAsBool(expr: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      out += expr.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '{') braces++;
    if (c === '}') braces--;
    const two = expr.slice(i, i + 2);
    const op = braces > 0 ? undefined : ['==', '!=', '>=', '<='].includes(two) ? two : c === '>' || c === '<' ? c : undefined;
    if (!op) {
      out += c;
      continue;
    }
    out += op;
    i += op.length - 1;
    if (!/^\s*bool\b/.test(expr.slice(i + 1))) out += ' bool';
  }
  return out;
}

export interface DashboardSql {
  source: string;
  ref: string;
  rawSql: string;
}

/** Every Postgres (rawSql) target of every dashboard, nested row panels included. */
export function dashboardSql(): DashboardSql[] {
  const dir = join(K8S_DIR, 'dashboards');
  const out: DashboardSql[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const board = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { uid: string; panels?: Panel[] };
    const stack = [...(board.panels ?? [])];
    while (stack.length > 0) {
      const panel = stack.shift()!;
      stack.push(...(panel.panels ?? []));
      for (const target of panel.targets ?? []) {
        if (typeof target.rawSql === 'string') {
          out.push({ source: `k8s/dashboards/${file}`, ref: `${board.uid}: ${panel.title} [${target.refId ?? '?'}]`, rawSql: target.rawSql });
        }
      }
    }
  }
  return out;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ refId?: string; rawSql?: unknown }>;
}

/**
 * Grafana's Postgres macros, expanded the way Grafana does for a dashboard showing the last hour
 * (`$__timeFilter(col)` → `col BETWEEN <from> AND <to>`), with `now()`-relative bounds so the SQL runs as is;
 * `$__interval` becomes 1 minute, other template variables (`$var`, `${var}`) their value in `vars`.
 * Throws on a macro it does not know, so a new macro in a dashboard cannot pass untested.
 */
export function expandGrafanaSql(sql: string, vars: Record<string, string> = {}): string {
  const from = "(now() - interval '1 hour')";
  const to = 'now()';
  const expanded = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col.trim()} BETWEEN ${from} AND ${to}`)
    .replace(/\$__timeFrom\(\)/g, from)
    .replace(/\$__timeTo\(\)/g, to)
    .replace(/\$__unixEpochFilter\(([^)]+)\)/g, (_, col: string) => `${col.trim()} BETWEEN extract(epoch from ${from}) AND extract(epoch from ${to})`)
    .replace(/\$__interval_ms\b/g, '60000')
    .replace(/\$__interval\b/g, "'1 minute'");
  return expanded.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (match, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (name.startsWith('__') || !(name in vars)) throw new Error(`unknown Grafana macro or variable ${match} in: ${sql}`);
    return vars[name];
  });
}

/**
 * Names a /metrics text exposes: every `# TYPE` family and every sample name. A histogram family `x` also
 * counts as exposing `x_bucket`, `x_sum` and `x_count` (and a summary `x_sum`/`x_count`).
 */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(type[1] + s);
      if (type[2] === 'summary') for (const s of ['_sum', '_count']) names.add(type[1] + s);
    } else if (line && !line.startsWith('#')) {
      names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '');
    }
  }
  names.delete('');
  return names;
}
