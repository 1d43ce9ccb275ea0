/**
 * The command line of `npm run import`:
 *   npm run import -- accounts <file.csv|file.ndjson> --tenant <id>
 *   npm run import -- <merchants|fx-rates|blocklist> <file.csv|file.ndjson>
 * Accounts belong to a tenant, so `--tenant` is required for them; the other kinds are platform data shared by
 * all tenants, so it is refused for them (silently ignoring it would let a user believe the rows are private).
 */
import { ApiKeyValidationError, checkTenantId } from '@streamguard/common';
/* eslint-disable @nx/enforce-module-boundaries -- the import command knows the enrich service's kinds (one source of truth) */
import { REFERENCE_KINDS, ReferenceKind } from '../../../apps/enrich/src/reference-data/reference-validation';
/* eslint-enable @nx/enforce-module-boundaries */
import { formatOf, ImportFormat } from './import-rows';

const PLATFORM_KINDS = REFERENCE_KINDS.filter((kind) => kind !== 'accounts');

export const USAGE = [
  'usage: npm run import -- accounts <file.csv|file.ndjson> --tenant <id>',
  `       npm run import -- <${PLATFORM_KINDS.join('|')}> <file.csv|file.ndjson>`,
].join('\n');

export interface ImportArgs {
  kind: ReferenceKind;
  path: string;
  format: ImportFormat;
  /** The tenant the accounts belong to; undefined for the platform kinds. */
  tenantId?: string;
}

/** The parsed arguments, or the message to print (with exit code 2). */
export function parseImportArgs(argv: readonly string[]): { ok: true; args: ImportArgs } | { ok: false; message: string } {
  const fail = (message: string) => ({ ok: false as const, message: `${message}\n${USAGE}` });
  const positional: string[] = [];
  let tenantId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--tenant' || arg.startsWith('--tenant=')) {
      if (tenantId !== undefined) return fail('--tenant given twice');
      const value = arg === '--tenant' ? argv[++i] : arg.slice('--tenant='.length);
      if (value === undefined || value === '' || value.startsWith('--')) return fail('--tenant needs a tenant id');
      tenantId = value;
    } else if (arg.startsWith('--')) {
      return fail(`unknown option "${arg}"`);
    } else {
      positional.push(arg);
    }
  }
  const [kindArg, path, ...extra] = positional;
  if (!kindArg || !path) return fail('a kind and a file are required');
  if (extra.length > 0) return fail(`unexpected argument(s): ${extra.join(' ')}`);
  if (!(REFERENCE_KINDS as readonly string[]).includes(kindArg)) return fail(`unknown kind "${kindArg}"`);
  const kind = kindArg as ReferenceKind;
  const format = formatOf(path);
  if (!format) return fail(`cannot tell the format of ${path}: name it *.csv or *.ndjson (or *.jsonl)`);
  if (kind === 'accounts') {
    if (tenantId === undefined) return fail('accounts belong to a tenant: add --tenant <id>');
    try {
      checkTenantId(tenantId);
    } catch (error) {
      if (error instanceof ApiKeyValidationError) return fail(error.message);
      throw error;
    }
  } else if (tenantId !== undefined) {
    return fail(`${kind} are platform data shared by all tenants: --tenant applies to accounts only`);
  }
  return { ok: true, args: { kind, path, format, tenantId } };
}
