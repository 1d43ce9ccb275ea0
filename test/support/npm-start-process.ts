/**
 * Runs `npm start` (dist/tools/stack/src/start.js of a checkout) as a child process on test ports, so a test
 * sees exactly what a user sees: its output, its exit code, and what it leaves running.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { portOpen } from '../../tools/local-infra/src/kafka-broker';
import { REPO_ROOT, streamguardHome, testInfraHome } from '../../tools/local-infra/src/paths';

export { portOpen, REPO_ROOT };

export interface StackPorts {
  kafka: number;
  postgres: number;
  /** ingest; enrich, aggregate and alert use the next three. */
  firstService: number;
}

export interface NpmStart {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

export function runNpmStart(checkout: string, ports: StackPorts, env: NodeJS.ProcessEnv = {}): NpmStart {
  const inherited = { ...process.env };
  // The stack must start its own broker and Postgres, not use the suite's.
  delete inherited.KAFKA_BROKERS;
  delete inherited.DATABASE_URL;
  const child = spawn(process.execPath, [join(checkout, 'dist', 'tools', 'stack', 'src', 'start.js')], {
    cwd: checkout,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      STACK_KAFKA_PORT: String(ports.kafka),
      STACK_POSTGRES_PORT: String(ports.postgres),
      STACK_PARTITIONS: '1',
      STACK_PRETTY_LOGS: 'false',
      INGEST_PORT: String(ports.firstService),
      ENRICH_PORT: String(ports.firstService + 1),
      AGGREGATE_PORT: String(ports.firstService + 2),
      ALERT_PORT: String(ports.firstService + 3),
      ...env,
    },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

/**
 * Waits for `pattern` in the output; fails at once when npm start exited without printing it (waiting out the
 * timeout then only delays the failure: an early exit once made a run look hung for minutes).
 */
export async function waitForOutput(run: NpmStart, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pattern.test(run.output())) return;
    const { exitCode, signalCode } = run.process;
    if (exitCode !== null || signalCode !== null) throw new Error(`npm start exited (${exitCode ?? signalCode}) before ${pattern}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in the npm start output\noutput so far:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Pids of live processes whose command line mentions `needle` (a path only one test uses). */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /.test(stat)) return false; // a zombie is gone, only not reaped yet
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false; // exited meanwhile
    }
  }).map(Number);
}

/** The Kafka jars global setup (or an earlier `npm start`) already fetched, so a test never downloads them. */
export function fetchedKafkaJars(): string | undefined {
  for (const home of [testInfraHome(), streamguardHome()]) {
    const kafkaDir = join(home, 'kafka');
    if (!existsSync(kafkaDir)) continue;
    const lib = readdirSync(kafkaDir).find((name) => name.startsWith('lib-') && existsSync(join(kafkaDir, name, '.complete')));
    if (lib) return join(kafkaDir, lib);
  }
  return undefined;
}

/** The exit code, or a failure (with the output) if the process is still running after `timeoutMs`. */
export async function exitCodeWithin(run: NpmStart, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start still running after ${timeoutMs} ms:\n${run.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
