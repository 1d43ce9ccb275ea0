/**
 * `npm run bench`: measures the ingest and the whole pipeline on this machine next to their ceilings (Kafka's
 * own producer perf tool, a bare Fastify server) and writes `bench/results/<timestamp>/` (report.json,
 * summary.md, latency.svg), copied to `bench/latest/`.
 *
 * Runs its own broker, Postgres and services on separate ports (Kafka 31192, Postgres 31533, services
 * 31080–31083, bare HTTP 31090) with fresh data under `.streamguard/bench/`; everything on 127.0.0.1. Always
 * tears down (also on Ctrl-C, failure or the hard deadline) and writes whatever it measured.
 *
 * Options: `--quick` (about 3 minutes, shorter phases: a smoke test, not the figures to publish).
 */
import { ChildProcess, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { KAFKA_VERSION, stopProcess } from '../../local-infra/src/kafka-broker';
import { REPO_ROOT } from '../../local-infra/src/paths';
import { done, step } from '../../local-infra/src/progress';
import { BenchPorts, BenchStack } from './bench-stack';
import { averageRawRecordBytes, EventFactory } from './bench-events';
import { BenchReport, IngestPhase, latencySvg, markdownSummary, Percentiles, PipelineStep, TargetCheck } from './bench-report';
import { runProducerPerf, startHttpCeilingServer } from './ceilings';
import { runLoad, stopAllLoad } from './load';
import { histogramDelta, LagProbe, quantileMs, scrapeHistogram, shareAtMost, StageLag, Histogram } from './pipeline-probe';
import { ResourceSampler } from './resource-sampler';

interface Profile {
  name: 'full' | 'quick';
  deadlineMs: number;
  perfRecords: number;
  ingestS: number;
  stepRates: number[];
  stepS: number;
  finalS: number;
  drainMaxS: number;
}

const PROFILES: Record<Profile['name'], Profile> = {
  full: { name: 'full', deadlineMs: 14.5 * 60_000, perfRecords: 1_000_000, ingestS: 15, stepRates: [1000, 2000, 5000, 10_000, 20_000, 30_000], stepS: 30, finalS: 60, drainMaxS: 120 },
  quick: { name: 'quick', deadlineMs: 6 * 60_000, perfRecords: 300_000, ingestS: 5, stepRates: [1000, 5000, 10_000], stepS: 15, finalS: 20, drainMaxS: 45 },
};

// Below the kernel's ephemeral range (32768+): a port there can be taken as the source port of any outgoing
// connection (the load tool opens many), and a listen on it then fails with EADDRINUSE.
const PORTS: BenchPorts = { kafka: 31192, postgres: 31533, services: { ingest: 31080, enrich: 31081, aggregate: 31082, alert: 31083 }, httpCeiling: 31090 };
const PARTITIONS = 3;
const PIPELINE_BATCH = 100;
const PIPELINE_CONNECTIONS = 32;
/** A backlog left at the end of a step that drains within this many seconds is a transient, not lost ground. */
const TRANSIENT_DRAIN_S = 5;
const INGEST_SHAPES = [
  { name: 'single event', eventsPerRequest: 1, connections: 32 },
  { name: 'batch of 100', eventsPerRequest: 100, connections: 16 },
  { name: 'batch of 1,000', eventsPerRequest: 1000, connections: 8 },
];
const INGEST_ONLY_TOPIC = 'bench.ingest-only';
const PERF_TOPIC = 'bench.producer-perf';

class DeadlineExceeded extends Error {}

function machine(): Record<string, string | number> {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return {
    cpuModel, cores: cpus().length, memoryGb: Math.round(totalmem() / 1e9), kernel: release(), node: process.versions.node,
    java: /version "([^"]+)"/.exec(`${java.stderr}${java.stdout}`)?.[1] ?? 'unknown',
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

function percentiles(h: Histogram): Percentiles {
  return { p50: quantileMs(h, 0.5), p95: quantileMs(h, 0.95), p99: quantileMs(h, 0.99), within250ms: shareAtMost(h, 0.25), records: h.count };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chainLag = (l: StageLag) => l.enrich + Math.max(l.aggregate, l.alert);

async function main(): Promise<void> {
  const profile = PROFILES[process.argv.includes('--quick') ? 'quick' : 'full'];
  const started = Date.now();
  const deadline = started + profile.deadlineMs;
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const stack = new BenchStack(PORTS, PARTITIONS);
  const extras = new Map<string, number>();
  const sampler = new ResourceSampler(() => ({ ...stack.processIds(), ...Object.fromEntries([...extras].map(([k, pid]) => [k, [pid]])) }));
  const recordBytes = averageRawRecordBytes();
  const report: BenchReport = {
    schemaVersion: 1, profile: profile.name, startedAt: new Date(started).toISOString(), finishedAt: '', runSeconds: 0, completed: false,
    machine: machine(),
    setup: { kafka: KAFKA_VERSION, partitions: PARTITIONS, recordBytes, kafkaPort: PORTS.kafka, postgresPort: PORTS.postgres, servicePorts: '31080-31083', services: 'one instance each, default settings (LOG_LEVEL=warn)' },
    ceilings: {}, ingest: [], pipeline: { batchSize: PIPELINE_BATCH, steps: [], sustainedEventsPerSecond: null }, targets: [], notes: [],
  };
  let ceilingServer: ChildProcess | undefined;
  let lagProbe: LagProbe | undefined;
  let finishing = false;

  const finish = async (error?: unknown) => {
    if (finishing) return;
    finishing = true;
    stopAllLoad();
    if (error) report.error = error instanceof Error ? error.message : String(error);
    step('Tearing down the benchmark stack…');
    sampler.stop();
    if (ceilingServer) await stopProcess(ceilingServer, 3_000);
    await lagProbe?.close();
    await stack.teardown();
    report.finishedAt = new Date().toISOString();
    report.runSeconds = Math.round((Date.now() - started) / 1000);
    evaluateTargets(report);
    const dir = join(REPO_ROOT, 'bench', 'results', stamp);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(dir, 'summary.md'), markdownSummary(report));
    writeFileSync(join(dir, 'latency.svg'), latencySvg(report));
    const latest = join(REPO_ROOT, 'bench', 'latest');
    rmSync(latest, { recursive: true, force: true });
    cpSync(dir, latest, { recursive: true });
    done(`Report: ${join(dir, 'summary.md')} (copied to bench/latest/) after ${report.runSeconds} s`);
    process.stdout.write(`\n${markdownSummary(report)}\n`);
  };

  const onSignal = (signal: string) => {
    report.notes.push(`Interrupted by ${signal}.`);
    void finish(new Error(`interrupted (${signal})`)).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const hardStop = setTimeout(() => {
    report.notes.push(`Hard deadline (${profile.deadlineMs / 60_000} min) reached; later phases were not run.`);
    void finish(new DeadlineExceeded('hard deadline reached')).finally(() => process.exit(2));
  }, profile.deadlineMs + 20_000);
  hardStop.unref();
  /** Skips a phase that would not finish before the deadline. */
  const timeLeftFor = (seconds: number) => Date.now() + seconds * 1000 < deadline;

  try {
    step(`Benchmark (${profile.name} profile): own Kafka on ${PORTS.kafka}, Postgres on ${PORTS.postgres}, services on 31080-31083`);
    await stack.startInfrastructure([INGEST_ONLY_TOPIC, PERF_TOPIC]);
    sampler.start();

    // Transport ceiling: Kafka's own producer perf tool, same broker, same record size, acks=all.
    step(`Transport ceiling: ProducerPerformance, ${profile.perfRecords.toLocaleString('en-US')} records of ${recordBytes} bytes, acks=all…`);
    sampler.begin('perf');
    const perf = await runProducerPerf({ libDir: stack.kafkaLibDir, brokers: stack.brokers, topic: PERF_TOPIC, records: profile.perfRecords, recordBytes, timeoutMs: 120_000, onPid: (pid) => extras.set('producer-perf', pid) });
    report.ceilings.transport = { ...perf, resources: sampler.end('perf') };
    extras.delete('producer-perf');
    done(`Transport ceiling: ${perf.recordsPerSecond.toLocaleString('en-US')} records/s, p99 ${perf.latencyMs.p99} ms`);

    // HTTP ceiling: bare Fastify, single-event bodies, same connections as the single-event ingest run.
    const single = new EventFactory('bench-http', 10_000).body(1);
    ceilingServer = await startHttpCeilingServer(PORTS.httpCeiling, 1_048_576);
    if (ceilingServer.pid) extras.set('bare-http', ceilingServer.pid);
    step(`HTTP ceiling: bare Fastify, ${profile.ingestS} s…`);
    await runLoad({ url: `http://127.0.0.1:${PORTS.httpCeiling}`, connections: INGEST_SHAPES[0].connections, durationS: 2, eventsPerRequest: 1, body: single }); // warm-up
    sampler.begin('http');
    const http = await runLoad({ url: `http://127.0.0.1:${PORTS.httpCeiling}`, connections: INGEST_SHAPES[0].connections, durationS: profile.ingestS, eventsPerRequest: 1, body: single });
    report.ceilings.http = { connections: INGEST_SHAPES[0].connections, result: http, resources: sampler.end('http') };
    await stopProcess(ceilingServer, 3_000);
    ceilingServer = undefined;
    extras.delete('bare-http');
    done(`HTTP ceiling: ${http.requestsPerSecond.toLocaleString('en-US')} requests/s, p99 ${http.latencyMs.p99} ms`);

    // Ingest alone, writing to a topic nobody consumes, so the downstream stages take no CPU.
    step('Ingest alone (to a topic nobody consumes)…');
    await stack.start('ingest', 'ingest', { TOPIC_EVENTS_RAW: INGEST_ONLY_TOPIC });
    const ingestUrl = stack.url('ingest');
    for (const shape of INGEST_SHAPES) {
      const body = new EventFactory(`bench-ingest-${shape.eventsPerRequest}`, 100_000).body(shape.eventsPerRequest);
      await runLoad({ url: ingestUrl, connections: shape.connections, durationS: 2, eventsPerRequest: shape.eventsPerRequest, body, apiKey: stack.apiKey }); // warm-up
      sampler.begin(shape.name);
      const result = await runLoad({ url: ingestUrl, connections: shape.connections, durationS: profile.ingestS, eventsPerRequest: shape.eventsPerRequest, body, apiKey: stack.apiKey });
      const resources = sampler.end(shape.name);
      const phase: IngestPhase = shape.eventsPerRequest === 1
        ? { name: shape.name, eventsPerRequest: 1, connections: shape.connections, result, ceiling: 'http', ratioToCeiling: result.requestsPerSecond / http.requestsPerSecond, resources }
        : { name: shape.name, eventsPerRequest: shape.eventsPerRequest, connections: shape.connections, result, ceiling: 'transport', ratioToCeiling: result.eventsPerSecond / perf.recordsPerSecond, resources };
      report.ingest.push(phase);
      done(`Ingest ${shape.name}: ${result.eventsPerSecond.toLocaleString('en-US')} events/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, failed ${result.failed}`);
    }
    await stack.stop('ingest');

    // The whole pipeline.
    step('Starting the four services…');
    for (const service of ['enrich', 'aggregate', 'alert', 'ingest'] as const) await stack.start(service);
    lagProbe = new LagProbe(await stack.admin(), stack.databaseUrl);
    const probe = lagProbe;
    const urls = { ingest: stack.url('ingest'), aggregate: stack.url('aggregate'), alert: stack.url('alert') };
    const warm = new EventFactory('bench-warm', 12_000);
    await runLoad({ url: urls.ingest, connections: PIPELINE_CONNECTIONS, durationS: 5, eventsPerRequest: PIPELINE_BATCH, body: () => warm.body(PIPELINE_BATCH), requestsPerSecond: 10, apiKey: stack.apiKey });
    await drain(probe, profile.drainMaxS);

    const runStep = async (rate: number, durationS: number, final: boolean): Promise<PipelineStep> => {
      const name = `pipeline-${rate}${final ? '-final' : ''}`;
      const factory = new EventFactory(`bench-${rate}${final ? 'f' : ''}-${stamp.slice(11, 19)}`, 12 * rate);
      const backlogAtStart = chainLag(await probe.lag());
      const before = await Promise.all([scrapeHistogram(urls.alert, 'alert_end_to_end_latency_seconds'), scrapeHistogram(urls.aggregate, 'aggregate_end_to_end_latency_seconds')]);
      const lag: PipelineStep['lag'] = [];
      const t0 = Date.now();
      let sampling = true;
      const lagLoop = (async () => {
        while (sampling) {
          await sleep(2000);
          if (!sampling) break;
          const l = await probe.lag().catch(() => undefined);
          if (l) lag.push({ t: Math.round((Date.now() - t0) / 100) / 10, ...l });
        }
      })();
      sampler.begin(name);
      const load = await runLoad({ url: urls.ingest, connections: PIPELINE_CONNECTIONS, durationS, eventsPerRequest: PIPELINE_BATCH, body: () => factory.body(PIPELINE_BATCH), requestsPerSecond: rate / PIPELINE_BATCH, apiKey: stack.apiKey });
      const resources = sampler.end(name);
      sampling = false;
      await lagLoop;
      const atEnd = await probe.lag();
      lag.push({ t: Math.round((Date.now() - t0) / 100) / 10, ...atEnd });
      const drainS = await drain(probe, profile.drainMaxS);
      const after = await Promise.all([scrapeHistogram(urls.alert, 'alert_end_to_end_latency_seconds'), scrapeHistogram(urls.aggregate, 'aggregate_end_to_end_latency_seconds')]);
      const lagBound = Math.max(2000, 2 * rate); // two seconds of input
      const lagAtEnd = chainLag(atEnd);
      const secondHalf = lag.filter((l) => l.t >= durationS / 2).map(chainLag).sort((a, b) => a - b);
      const medianSecondHalf = secondHalf[Math.floor(secondHalf.length / 2)] ?? lagAtEnd;
      const reasons: string[] = [];
      if (load.eventsPerSecond < 0.95 * rate) reasons.push(`ingest accepted only ${load.eventsPerSecond} events/s`);
      if (load.failed > 0) reasons.push(`${load.failed} requests failed`);
      // Lag bounded = it does not grow: the median over the second half stays within two seconds of input, and
      // what is left at the end is within that bound too, or a transient that drains within TRANSIENT_DRAIN_S
      // after the load stops. Why the exception: tumbling windows close together at each minute, a burst of
      // results (one per active account) that briefly stalls the aggregate stage; a rate the pipeline cannot
      // keep up with leaves a backlog that takes far longer to drain.
      const transient = lagAtEnd > lagBound && drainS !== null && drainS <= TRANSIENT_DRAIN_S;
      if (lagAtEnd > lagBound && !transient) reasons.push(`lag ${lagAtEnd} at the end${drainS === null ? ', not drained' : `, drained in ${drainS} s`}`);
      else if (medianSecondHalf > lagBound) reasons.push(`median lag ${medianSecondHalf} over the second half`);
      if (backlogAtStart > 1000) reasons.push(`started with a backlog of ${backlogAtStart} from the previous step`);
      const crashed = stack.crashed();
      if (crashed.length > 0) reasons.push(`crashed: ${crashed.join(', ')}`);
      if (transient && reasons.length === 0) report.notes.push(`${name}: lag ${lagAtEnd} at the end (bound ${lagBound}) was a transient, drained in ${drainS} s.`);
      const result: PipelineStep = {
        targetEventsPerSecond: rate, durationS, final, load,
        alertLatencyMs: percentiles(histogramDelta(after[0], before[0])), aggregateLatencyMs: percentiles(histogramDelta(after[1], before[1])),
        lag, backlogAtStart, lagAtEnd, lagBound, drainS, sustained: reasons.length === 0, verdict: reasons.join('; ') || 'lag bounded', resources,
      };
      report.pipeline.steps.push(result);
      done(`Pipeline ${rate.toLocaleString('en-US')}/s for ${durationS} s: achieved ${load.eventsPerSecond.toLocaleString('en-US')}/s, alert p99 ${result.alertLatencyMs.p99} ms, lag at end ${lagAtEnd} → ${result.sustained ? 'sustained' : `not sustained (${result.verdict})`}`);
      if (crashed.length > 0) throw new Error(`service crashed under load: ${crashed.join(', ')}`);
      return result;
    };

    let best: PipelineStep | undefined; // the highest rate that passed its step
    let firstFail: number | undefined;
    for (const rate of profile.stepRates) {
      if (!timeLeftFor(profile.stepS + profile.drainMaxS + profile.finalS + profile.drainMaxS + 30)) {
        report.notes.push(`Step ${rate}/s skipped: not enough time left before the deadline.`);
        break;
      }
      const s = await runStep(rate, profile.stepS, false);
      if (s.sustained) best = s;
      else {
        firstFail = rate;
        break;
      }
    }
    // Up to two bisection steps between the highest sustained rate and the lowest that was not.
    for (let i = 0; i < 2 && best && firstFail !== undefined; i++) {
      if (!timeLeftFor(profile.stepS + profile.finalS + 2 * profile.drainMaxS + 30)) break;
      const mid = Math.round((best.targetEventsPerSecond + firstFail) / 2 / 500) * 500;
      if (mid <= best.targetEventsPerSecond || mid >= firstFail) break;
      const s = await runStep(mid, profile.stepS, false);
      if (s.sustained) best = s;
      else firstFail = mid;
    }
    // The final run: the highest rate that passed its step, for the full duration; if that does not hold,
    // the next lower one that passed.
    const candidates = report.pipeline.steps.filter((s) => s.sustained).map((s) => s.targetEventsPerSecond).sort((a, b) => b - a);
    for (const rate of candidates) {
      if (!timeLeftFor(profile.finalS + profile.drainMaxS + 20)) {
        report.notes.push(`No time left for a ${profile.finalS} s run at ${rate}/s.`);
        break;
      }
      const final = await runStep(rate, profile.finalS, true);
      if (final.sustained) {
        report.pipeline.sustainedEventsPerSecond = final.load.eventsPerSecond;
        break;
      }
      report.notes.push(`${rate}/s passed its ${profile.stepS} s step but not ${profile.finalS} s (${final.verdict}).`);
    }
    report.completed = true;
    await finish();
  } catch (error) {
    process.stderr.write(`benchmark failed: ${(error as Error).stack}\n`);
    await finish(error);
    process.exit(1);
  }
  clearTimeout(hardStop);
}

/** Waits until every stage has caught up (or `maxS` passed); the seconds it took, null if it did not. */
async function drain(probe: LagProbe, maxS: number): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxS * 1000) {
    const l = await probe.lag().catch(() => undefined);
    if (l && chainLag(l) === 0) return Math.round((Date.now() - t0) / 100) / 10;
    await sleep(500);
  }
  return null;
}

function evaluateTargets(r: BenchReport): void {
  const t = r.ceilings.transport;
  const h = r.ceilings.http;
  const checks: TargetCheck[] = [];
  const batch = r.ingest.filter((p) => p.eventsPerRequest > 1).sort((a, b) => b.result.eventsPerSecond - a.result.eventsPerSecond)[0];
  if (t && batch) {
    const ratio = batch.result.eventsPerSecond / t.recordsPerSecond;
    checks.push({ target: 'Batch ingest vs Kafka producer perf tool', required: '≥ 50 %', measured: `${Math.round(ratio * 1000) / 10} % (${batch.result.eventsPerSecond.toLocaleString('en-US')} of ${t.recordsPerSecond.toLocaleString('en-US')} events/s, ${batch.name})`, met: ratio >= 0.5, shortfall: `${Math.round((0.5 - ratio) * 1000) / 10} points short; ${Math.round(0.5 * t.recordsPerSecond - batch.result.eventsPerSecond).toLocaleString('en-US')} events/s missing` });
  } else checks.push({ target: 'Batch ingest vs Kafka producer perf tool', required: '≥ 50 %', measured: 'not measured', met: null });
  const single = r.ingest.find((p) => p.eventsPerRequest === 1);
  if (h && single) {
    const ratio = single.result.requestsPerSecond / h.result.requestsPerSecond;
    checks.push({ target: 'Single-event ingest vs bare HTTP server', required: '≥ 50 %', measured: `${Math.round(ratio * 1000) / 10} % (${single.result.requestsPerSecond.toLocaleString('en-US')} of ${h.result.requestsPerSecond.toLocaleString('en-US')} requests/s)`, met: ratio >= 0.5, shortfall: `${Math.round((0.5 - ratio) * 1000) / 10} points short (×${Math.round((0.5 * h.result.requestsPerSecond / Math.max(1, single.result.requestsPerSecond)) * 10) / 10} needed)` });
  } else checks.push({ target: 'Single-event ingest vs bare HTTP server', required: '≥ 50 %', measured: 'not measured', met: null });
  const sustained = r.pipeline.sustainedEventsPerSecond;
  checks.push({ target: 'Pipeline sustained end to end (lag bounded)', required: '≥ 20,000 events/s for 60 s', measured: sustained === null ? 'none sustained' : `${sustained.toLocaleString('en-US')} events/s for ${r.pipeline.steps.find((s) => s.final)?.durationS ?? '?'} s`, met: sustained !== null && sustained >= 20_000, shortfall: `${sustained === null ? '100' : Math.round((1 - sustained / 20_000) * 100)} % below` });
  const at5k = r.pipeline.steps.find((s) => s.targetEventsPerSecond === 5000 && !s.final);
  if (at5k && at5k.alertLatencyMs.records > 0) {
    const share = at5k.alertLatencyMs.within250ms ?? 0;
    checks.push({ target: 'p99 end-to-end latency (to the alert stage) at 5,000 events/s', required: '< 250 ms', measured: `p99 ≈ ${at5k.alertLatencyMs.p99} ms (${Math.round(share * 1000) / 10} % within 250 ms)${at5k.sustained ? '' : ', rate not sustained'}`, met: share >= 0.99 && at5k.sustained, shortfall: `p99 ≈ ${at5k.alertLatencyMs.p99} ms, ${Math.round((0.99 - share) * 1000) / 10} points of records too slow` });
  } else checks.push({ target: 'p99 end-to-end latency at 5,000 events/s', required: '< 250 ms', measured: 'not measured', met: null });
  const top = [...r.pipeline.steps].filter((s) => s.sustained).sort((a, b) => b.targetEventsPerSecond - a.targetEventsPerSecond || Number(b.final) - Number(a.final))[0];
  if (top) {
    const rss = ['ingest', 'enrich', 'aggregate', 'alert'].map((n) => [n, top.resources.groups[n]?.peakRssMb ?? 0] as const);
    const worst = rss.reduce((a, b) => (b[1] > a[1] ? b : a));
    checks.push({ target: 'Each service under 200 MB RSS at the highest sustained rate', required: '< 200 MB', measured: rss.map(([n, mb]) => `${n} ${mb}`).join(', ') + ` MB at ${top.targetEventsPerSecond.toLocaleString('en-US')}/s`, met: worst[1] < 200, shortfall: `${worst[0]} ${worst[1] - 200} MB over` });
  } else checks.push({ target: 'Each service under 200 MB RSS', required: '< 200 MB', measured: 'no sustained rate', met: null });
  for (const c of checks) if (c.met !== false) delete c.shortfall;
  r.targets = checks;
  const busy = [...r.ingest.map((p) => p.resources), ...r.pipeline.steps.map((s) => s.resources)].filter((u) => u.otherCpuPercent > 25);
  if (busy.length > 0) r.notes.push(`Other processes used more than 25 % of a core during ${busy.length} phase(s) (see "other processes"): those figures are pessimistic.`);
}

void main();
