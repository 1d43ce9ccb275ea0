/**
 * A start-up that fails after the broker is up leaves nothing running (issue 13): the user gets one sentence
 * saying what to do, the broker is stopped, its port is free, and the next `npm start` can run. Even when the
 * stack process itself dies without cleaning up, `npm start` stops what it left behind.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { exitCodeWithin, fetchedKafkaJars, portOpen, processesMentioning, REPO_ROOT, runNpmStart, waitForOutput } from './support/npm-start-process';

// Below Linux's ephemeral range (32768–60999), as in npm-start-private-checkout.
const PORTS = { kafka: 27092, postgres: 27433, firstService: 27080 };

/** A STREAMGUARD_HOME of its own, with the already fetched Kafka jars (hard links) so nothing downloads. */
function scratchHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'streamguard-failed-start-'));
  chmodSync(home, 0o755); // reachable by the postgres OS user: no Postgres data relocated out of it
  const jars = fetchedKafkaJars();
  if (jars) {
    mkdirSync(join(home, 'kafka'));
    execFileSync('cp', ['-al', jars, join(home, 'kafka', basename(jars))]);
  }
  return home;
}

function removeScratchHome(home: string): void {
  for (const pid of processesMentioning(home)) process.kill(pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
}

/** The stack-main process that start.js runs (its only child). */
function stackMainPid(startPid: number): number | undefined {
  return processesMentioning('stack-main.js').find((pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === startPid);
}

describe('npm start that fails after Kafka started', () => {
  let home: string;
  let blocker: Server;

  beforeAll(async () => {
    home = scratchHome();
    // Something else holds the Postgres port: the stack gets as far as a running broker, then fails.
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(PORTS.postgres, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    removeScratchHome(home);
  });

  it('exits with one sentence, stops the broker and frees its port', async () => {
    const run = runNpmStart(REPO_ROOT, PORTS, { STREAMGUARD_HOME: home });
    await waitForOutput(run, /Kafka ready/, 180_000);
    expect(await exitCodeWithin(run, 90_000)).toBe(1);

    const output = run.output();
    expect(output).toContain(`port ${PORTS.postgres} is already in use: another Postgres running? Stop it, or set DATABASE_URL to use it.`);
    expect(output).not.toMatch(/^\s+at /m); // no stack trace
    expect(await portOpen(PORTS.kafka)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
  }, 300_000);

  it('lets the next npm start bring the broker up again on the same port', async () => {
    const run = runNpmStart(REPO_ROOT, PORTS, { STREAMGUARD_HOME: home });
    await waitForOutput(run, /Kafka ready/, 180_000);
    expect(run.output()).not.toContain(`port ${PORTS.kafka} is already in use`);
    expect(await exitCodeWithin(run, 90_000)).toBe(1); // Postgres' port is still taken: the same clean failure
    expect(await portOpen(PORTS.kafka)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
  }, 300_000);
});

describe('npm start whose stack process dies after Kafka started', () => {
  let home: string;

  beforeAll(() => { home = scratchHome(); });
  afterAll(() => removeScratchHome(home));

  it('stops the broker the dead stack left behind', async () => {
    const run = runNpmStart(REPO_ROOT, PORTS, { STREAMGUARD_HOME: home });
    await waitForOutput(run, /Kafka ready/, 180_000);
    const stackMain = stackMainPid(run.process.pid!);
    expect(stackMain).toBeDefined();
    process.kill(stackMain!, 'SIGKILL'); // no chance to stop anything itself

    expect(await exitCodeWithin(run, 60_000)).toBe(1);
    expect(run.output()).toContain('Stopping processes the stack left running');
    expect(await portOpen(PORTS.kafka)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
  }, 300_000);
});
