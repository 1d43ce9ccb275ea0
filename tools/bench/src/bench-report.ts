/** The report: JSON (every figure), a Markdown summary (figures as ratios to their ceilings) and an SVG chart. */
import type { ProducerPerfResult } from './ceilings';
import type { LoadResult } from './load';
import type { StageLag } from './pipeline-probe';
import type { PhaseUsage } from './resource-sampler';

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Share of records at or under 250 ms (a bucket bound: exact). */
  within250ms: number | null;
  records: number;
}

export interface IngestPhase {
  name: string;
  eventsPerRequest: number;
  connections: number;
  result: LoadResult;
  ceiling: 'transport' | 'http';
  /** events/s ÷ the transport ceiling's records/s, or requests/s ÷ the HTTP ceiling's requests/s. */
  ratioToCeiling: number;
  resources: PhaseUsage;
}

export interface PipelineStep {
  targetEventsPerSecond: number;
  durationS: number;
  final: boolean;
  load: LoadResult;
  alertLatencyMs: Percentiles;
  aggregateLatencyMs: Percentiles;
  /** Lag sampled every 2 s: enrich (Kafka group), aggregate and alert (Postgres offsets). */
  lag: Array<{ t: number } & StageLag>;
  /** Records not yet processed when the step began (the previous step's backlog, if it did not drain). */
  backlogAtStart: number;
  lagAtEnd: number;
  lagBound: number;
  /** Seconds after the load stopped until every stage had caught up (null: not within the wait). */
  drainS: number | null;
  sustained: boolean;
  verdict: string;
  resources: PhaseUsage;
}

export interface TargetCheck {
  target: string;
  required: string;
  measured: string;
  met: boolean | null;
  /** How far off, when missed. */
  shortfall?: string;
}

export interface BenchReport {
  schemaVersion: 1;
  profile: string;
  startedAt: string;
  finishedAt: string;
  runSeconds: number;
  completed: boolean;
  error?: string;
  machine: Record<string, string | number>;
  setup: Record<string, string | number>;
  ceilings: { transport?: ProducerPerfResult & { resources: PhaseUsage }; http?: { connections: number; result: LoadResult; resources: PhaseUsage } };
  ingest: IngestPhase[];
  pipeline: { batchSize: number; steps: PipelineStep[]; sustainedEventsPerSecond: number | null };
  targets: TargetCheck[];
  notes: string[];
}

const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
/** A latency; 30 s is the histograms' last finite bucket bound, so it means "30 s or more". */
const ms = (n: number | null) => (n !== null && n >= 30_000 ? '≥ 30,000' : fmt(n));
const pct = (r: number | null | undefined) => (r === null || r === undefined || Number.isNaN(r) ? '–' : `${Math.round(r * 1000) / 10} %`);

export function markdownSummary(r: BenchReport): string {
  const out: string[] = [];
  const t = r.ceilings.transport;
  const h = r.ceilings.http;
  out.push(`# Streamguard benchmark (${r.profile} profile)`, '');
  out.push(`${r.startedAt} · ${r.runSeconds} s · ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB · Node ${r.machine.node} · Kafka ${r.setup.kafka} (1 broker) · Postgres 18 (embedded) · ${r.setup.partitions} partitions per topic · everything on this one machine${r.completed ? '' : ` · **incomplete: ${r.error}**`}`, '');
  out.push('## Ceilings', '');
  out.push('| Ceiling | Throughput | Latency p50 / p99 |', '|---|---|---|');
  if (t) out.push(`| Kafka producer perf tool, ${t.recordBytes}-byte records, acks=all (tool ${fmt(t.resources.exitedChildrenCpuPercent)} % CPU, broker ${fmt(t.resources.groups['kafka']?.cpuPercent)} %) | ${fmt(t.recordsPerSecond)} records/s (${t.mbPerSecond} MB/s) | ${t.latencyMs.p50} / ${t.latencyMs.p99} ms |`);
  if (h) out.push(`| Bare Fastify answering 202 (single event, ${h.connections} connections; server ${fmt(h.resources.groups['bare-http']?.cpuPercent)} % CPU, load tool ${fmt(h.resources.groups['bench']?.cpuPercent)} %) | ${fmt(h.result.requestsPerSecond)} requests/s | ${h.result.latencyMs.p50} / ${h.result.latencyMs.p99} ms |`);
  out.push('', '## Ingest (alone, to a topic nobody consumes)', '');
  out.push('| Request | Connections | Events/s | Requests/s | p50 / p99 ms | Failed | Ratio to ceiling | CPU ingest / broker |', '|---|---|---|---|---|---|---|---|');
  for (const p of r.ingest) {
    out.push(`| ${p.name} | ${p.connections} | ${fmt(p.result.eventsPerSecond)} | ${fmt(p.result.requestsPerSecond)} | ${p.result.latencyMs.p50} / ${p.result.latencyMs.p99} | ${p.result.failed} | ${pct(p.ratioToCeiling)} of ${p.ceiling === 'http' ? 'bare HTTP requests/s' : 'perf-tool records/s'} | ${fmt(p.resources.groups['ingest']?.cpuPercent)} % / ${fmt(p.resources.groups['kafka']?.cpuPercent)} % |`);
  }
  out.push('', `## Pipeline (all four services, batches of ${r.pipeline.batchSize} events per request)`, '');
  out.push('End-to-end latency = from ingest acceptance (`receivedAt`) to the alert stage / aggregate stage committing the record\'s result, from the services\' `*_end_to_end_latency_seconds` histograms (interpolated within buckets: 25 ms apart from 50 to 200 ms, then 250, 300, 400, 500, 750 ms, 1 s, …).', '');
  out.push('| Target events/s | Achieved | Ratio to transport | Alert p50 / p95 / p99 ms | Aggregate p50 / p95 / p99 ms | ≤ 250 ms (alert) | Lag at end (bound) | Sustained |', '|---|---|---|---|---|---|---|---|');
  for (const s of r.pipeline.steps) {
    const a = s.alertLatencyMs;
    const g = s.aggregateLatencyMs;
    out.push(`| ${fmt(s.targetEventsPerSecond)}${s.final ? ` (final, ${s.durationS} s)` : ` (${s.durationS} s)`} | ${fmt(s.load.eventsPerSecond)} | ${t ? pct(s.load.eventsPerSecond / t.recordsPerSecond) : '–'} | ${ms(a.p50)} / ${ms(a.p95)} / ${ms(a.p99)} | ${ms(g.p50)} / ${ms(g.p95)} / ${ms(g.p99)} | ${pct(a.within250ms)} | ${fmt(s.lagAtEnd)} (${fmt(s.lagBound)}) | ${s.sustained ? 'yes' : `no: ${s.verdict}`} |`);
  }
  out.push('', `Highest rate sustained: **${r.pipeline.sustainedEventsPerSecond === null ? 'none' : `${fmt(r.pipeline.sustainedEventsPerSecond)} events/s`}**.`, '');
  out.push('## Resources (CPU in % of one core, peak RSS in MB)', '');
  const names = ['ingest', 'enrich', 'aggregate', 'alert', 'kafka', 'postgres', 'bench'];
  out.push(`| Step | ${names.join(' | ')} | machine busy | other processes | load 1m |`, `|---|${names.map(() => '---').join('|')}|---|---|---|`);
  for (const s of r.pipeline.steps) {
    const g = s.resources.groups;
    out.push(`| ${fmt(s.targetEventsPerSecond)}/s${s.final ? ' final' : ''} | ${names.map((n) => (g[n] ? `${fmt(g[n].cpuPercent)} % · ${fmt(g[n].peakRssMb)}` : '–')).join(' | ')} | ${fmt(s.resources.machineCpuPercent)} % | ${fmt(s.resources.otherCpuPercent)} % | ${s.resources.loadAverage1m} |`);
  }
  out.push('', '## Targets', '', '| Target | Required | Measured | Met |', '|---|---|---|---|');
  for (const c of r.targets) out.push(`| ${c.target} | ${c.required} | ${c.measured} | ${c.met === null ? 'not measured' : c.met ? 'yes' : `**no** (${c.shortfall})`} |`);
  out.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** A small hand-written line chart: alert end-to-end p50/p95/p99 (solid) and aggregate p99 (dashed) against rate. */
export function latencySvg(r: BenchReport): string {
  const steps = r.pipeline.steps.filter((s) => !s.final).sort((a, b) => a.targetEventsPerSecond - b.targetEventsPerSecond);
  const W = 640;
  const H = 360;
  const m = { l: 60, r: 130, t: 30, b: 45 };
  const series: Array<{ name: string; color: string; dash?: string; values: Array<[number, number | null]> }> = [
    { name: 'alert p50', color: '#2b8cbe', values: steps.map((s) => [s.load.eventsPerSecond, s.alertLatencyMs.p50]) },
    { name: 'alert p95', color: '#f28e2b', values: steps.map((s) => [s.load.eventsPerSecond, s.alertLatencyMs.p95]) },
    { name: 'alert p99', color: '#e15759', values: steps.map((s) => [s.load.eventsPerSecond, s.alertLatencyMs.p99]) },
    { name: 'aggregate p99', color: '#59a14f', dash: '5,4', values: steps.map((s) => [s.load.eventsPerSecond, s.aggregateLatencyMs.p99]) },
  ];
  const xs = steps.map((s) => s.load.eventsPerSecond);
  const ys = series.flatMap((s) => s.values.map(([, y]) => y ?? 0));
  const xMax = Math.max(1000, ...xs) * 1.05;
  // Log scale: latencies span milliseconds to seconds.
  const yMin = 1;
  const yMax = Math.max(300, ...ys) * 1.2;
  const x = (v: number) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="18" font-size="13" font-weight="bold">End-to-end latency vs rate (${r.machine.cores} cores, ${r.startedAt.slice(0, 10)})</text>`);
  for (const tick of [1, 10, 100, 1000, 10000].filter((v) => v <= yMax)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(tick) + 4}" text-anchor="end">${tick >= 1000 ? `${tick / 1000} s` : `${tick} ms`}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(250)}" y2="${y(250)}" stroke="#999" stroke-dasharray="2,3"/><text x="${W - m.r + 4}" y="${y(250) + 4}" fill="#666">250 ms target</text>`);
  const xStep = xMax > 20000 ? 5000 : xMax > 8000 ? 2000 : 1000;
  for (let v = 0; v <= xMax; v += xStep) parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#333"/><text x="${x(v)}" y="${H - m.b + 16}" text-anchor="middle">${v >= 1000 ? `${v / 1000}k` : v}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">achieved events/s (batches of ${r.pipeline.batchSize})</text>`);
  series.forEach((s, i) => {
    const points = s.values.filter(([, v]) => v !== null).map(([vx, vy]) => `${x(vx).toFixed(1)},${y(vy as number).toFixed(1)}`);
    if (points.length > 0) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${points.join(' ')}"/>`);
    for (const p of points) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    const ly = m.t + 10 + i * 18;
    parts.push(`<line x1="${W - m.r + 8}" x2="${W - m.r + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${W - m.r + 34}" y="${ly + 4}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
