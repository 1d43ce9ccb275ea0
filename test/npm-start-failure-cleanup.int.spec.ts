/**
 * A start-up that fails after the broker is up leaves nothing running (issue 13): the user gets one sentence
 * saying what to do, the broker is stopped, its port is free, and the next `npm start` can run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { exitCodeWithin, fetchedKafkaJars, portOpen, processesMentioning, REPO_ROOT, runNpmStart, waitForOutput } from './support/npm-start-process';

const PORTS = { kafka: 39192, postgres: 35633, firstService: 38180 };

describe('npm start that fails after Kafka started', () => {
  let home: string;
  let blocker: Server;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'streamguard-failed-start-'));
    const jars = fetchedKafkaJars();
    if (jars) {
      mkdirSync(join(home, 'kafka'));
      execFileSync('cp', ['-al', jars, join(home, 'kafka', basename(jars))]);
    }
    // Something else holds the Postgres port: the stack gets as far as a running broker, then fails.
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(PORTS.postgres, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    for (const pid of processesMentioning(home)) process.kill(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
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
