/**
 * Bulk import of reference data into Postgres:
 *   npm run import -- accounts <file.csv|file.ndjson> --tenant <id>
 *   npm run import -- <merchants|fx-rates|blocklist> <file.csv|file.ndjson>
 * Accounts are written to the named tenant's accounts; the other kinds are platform data shared by all
 * tenants. Reads DATABASE_URL like the services. All or nothing: any invalid row → nothing imported, exit
 * code 1, every problem listed as `<file>:<line>: <field> <reason>`. Enrich instances see the change within
 * about a second (the tables' NOTIFY triggers), without a restart.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Database, databaseEnv, JsonLogger, loadConfig, Queryable } from '@streamguard/common';
/* eslint-disable @nx/enforce-module-boundaries -- the import command writes with the enrich service's repository and validators (one source of truth) */
import { ReferenceDataRepository } from '../../../apps/enrich/src/reference-data/reference-data.repository';
/* eslint-enable @nx/enforce-module-boundaries */
import { parseImportArgs } from './import-args';
import { csvRows, ndjsonRows } from './import-rows';
import { importReferenceData } from './reference-import';

/**
 * Lines of the file, read as they are consumed. The readline interface is created only when iteration
 * starts: lines it emits before someone iterates would be lost (and the iteration would never end).
 */
async function* fileLines(path: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}

function exit(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const parsed = parseImportArgs(process.argv.slice(2));
  if (!parsed.ok) exit(parsed.message, 2);
  const { kind, path, format, tenantId } = parsed.args;
  await access(path).catch(() => exit(`cannot read ${path}`, 2));

  const { databaseUrl } = loadConfig({ databaseUrl: databaseEnv.databaseUrl });
  const db = new Database(databaseUrl, 1, new JsonLogger('error', { service: 'import' }), 'streamguard-import');
  const repository = new ReferenceDataRepository(db);
  const lines = fileLines(path);
  const started = Date.now();
  try {
    const result = await importReferenceData(kind, format === 'csv' ? csvRows(kind, lines) : ndjsonRows(lines), {
      transaction: (work) => db.transaction((tx: Queryable) => work((k, records) => repository.upsert(k, records, { db: tx, tenantId }))),
    }, {
      onProgress: ({ rows, written }) => process.stderr.write(`${kind}: ${rows.toLocaleString('en')} rows read, ${written.toLocaleString('en')} written…\n`),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.problemCount > 0) {
      for (const p of result.problems) process.stderr.write(`${path}:${p.line}: ${p.field ? `${p.field} ` : ''}${p.reason}\n`);
      const more = result.problemCount - result.problems.length;
      if (more > 0) process.stderr.write(`… and ${more} more problem(s)\n`);
      process.stderr.write(`nothing imported: ${result.problemCount} problem(s) in ${path} (${result.rows} rows read in ${seconds} s)\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`imported ${kind}${tenantId === undefined ? '' : ` of tenant ${tenantId}`} from ${path}: ${result.rows} rows → ${result.inserted} inserted, ${result.updated} updated, ${result.unchanged} unchanged (${seconds} s)\n`);
  } finally {
    await db.close();
  }
}

main().catch((error) => exit(`import failed, nothing imported: ${(error as Error).message}`, 1));
