/**
 * The two ceilings every figure is divided by:
 * - transport: Kafka's own producer perf tool (`org.apache.kafka.tools.ProducerPerformance`, from the
 *   broker's jars) writing records of the ingest's average size with acks=all to the same broker;
 * - HTTP: a bare Fastify server (same version and options as the ingest's adapter, own process) that reads
 *   the same body and answers 202, under the same load tool and connections.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { portOpen } from '../../local-infra/src/kafka-broker';
import { StartupFailure, waitFor } from '../../local-infra/src/progress';

export interface ProducerPerfResult {
  records: number;
  recordBytes: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  latencyMs: { mean: number; p50: number; p95: number; p99: number; max: number };
  producerProps: string[];
}

export async function runProducerPerf(options: { libDir: string; brokers: string; topic: string; records: number; recordBytes: number; timeoutMs: number; onPid?: (pid: number) => void }): Promise<ProducerPerfResult> {
  const producerProps = [`bootstrap.servers=${options.brokers}`, 'acks=all'];
  const args = ['-Xmx512m', '-cp', `${join(options.libDir, '*')}`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', options.topic, '--num-records', String(options.records), '--record-size', String(options.recordBytes),
    '--throughput', '-1', '--producer-props', ...producerProps];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) options.onPid?.(child.pid);
    let text = '';
    child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { text = (text + c.toString()).slice(-20_000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`ProducerPerformance exited with ${code}:\n${text.slice(-2000)}`));
    });
  });
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, p50 ms 50th, p95 ms 95th, p99 ms 99th, …"
  const summary = output.split('\n').reverse().find((l) => /records sent, .* 50th/.test(l));
  if (!summary) throw new Error(`no summary line in ProducerPerformance output:\n${output.slice(-2000)}`);
  const num = (pattern: RegExp) => Number(pattern.exec(summary)?.[1] ?? NaN);
  return {
    records: num(/^(\d+) records sent/), recordBytes: options.recordBytes,
    recordsPerSecond: Math.round(num(/([\d.]+) records\/sec/)), mbPerSecond: num(/\(([\d.]+) MB\/sec\)/),
    latencyMs: { mean: num(/([\d.]+) ms avg latency/), p50: num(/(\d+) ms 50th/), p95: num(/(\d+) ms 95th/), p99: num(/(\d+) ms 99th/), max: num(/([\d.]+) ms max latency/) },
    producerProps,
  };
}

/** Starts the bare server (compiled `http-ceiling-server.js`) on `port`; resolves once it listens. */
export async function startHttpCeilingServer(port: number, bodyLimit: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, 'http-ceiling-server.js')], {
    env: { ...process.env, PORT: String(port), BODY_LIMIT: String(bodyLimit) }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitFor('bare HTTP server', async () => {
    if (child.exitCode !== null) throw new StartupFailure('the bare HTTP server exited');
    return portOpen(port);
  }, 15_000, 100);
  return child;
}
