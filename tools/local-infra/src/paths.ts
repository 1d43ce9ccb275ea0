import { join, resolve, sep } from 'node:path';

/** Repository root, whether this runs from source (tools/…, under Jest) or compiled (dist/tools/…). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', ...(__dirname.split(sep).includes('dist') ? ['..'] : []));

/** Where local state lives (jars, broker and Postgres data). Override with STREAMGUARD_HOME. */
export function streamguardHome(): string {
  return process.env.STREAMGUARD_HOME ?? join(REPO_ROOT, '.streamguard');
}

/** The test suite's broker and Postgres (and the broker's jars), apart from `npm start`'s. */
export function testInfraHome(): string {
  return join(streamguardHome(), 'test');
}
