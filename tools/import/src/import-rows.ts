/**
 * Turns a CSV or NDJSON file into untyped row objects with their line numbers, ready for the shared
 * reference-data validators. Both formats use the API's field names (CSV: as the header row).
 */
/* eslint-disable @nx/enforce-module-boundaries -- the import command validates with the enrich service's rules (one source of truth) */
import { REFERENCE_FIELDS, ReferenceKind } from '../../../apps/enrich/src/reference-data/reference-validation';
/* eslint-enable @nx/enforce-module-boundaries */
import { readCsvRecords } from './csv-reader';

export type ImportFormat = 'csv' | 'ndjson';

export type ImportRow =
  | { line: number; input: Record<string, unknown> | unknown }
  | { line: number; problems: Array<{ field: string; reason: string }> };

export function formatOf(path: string): ImportFormat | undefined {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(path)) return 'ndjson';
  return undefined;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * CSV rows: the header names the columns (any order; unknown or repeated columns are an error). An empty
 * cell means "absent" (null). Cells of numeric fields that look like numbers become numbers; anything else
 * stays text, so the validator reports it as "must be a number".
 */
export async function* csvRows(kind: ReferenceKind, lines: AsyncIterable<string>): AsyncGenerator<ImportRow> {
  const fieldTypes = REFERENCE_FIELDS[kind].fields as Record<string, 'string' | 'number'>;
  let header: string[] | undefined;
  for await (const record of readCsvRecords(lines)) {
    if ('error' in record) {
      yield { line: record.line, problems: [{ field: '', reason: record.error }] };
      if (!header) return;
      continue;
    }
    if (!header) {
      header = record.fields.map((name) => name.trim().replace(/^\uFEFF/, ''));
      const problems = header.flatMap((name, index) => {
        if (!(name in fieldTypes)) return [{ field: name, reason: `unknown column; expected some of ${Object.keys(fieldTypes).join(', ')}` }];
        if (header!.indexOf(name) !== index) return [{ field: name, reason: 'repeated column' }];
        return [];
      });
      for (const key of REFERENCE_FIELDS[kind].key) if (!header.includes(key)) problems.push({ field: key, reason: 'required column is missing' });
      if (problems.length > 0) {
        yield { line: record.line, problems };
        return; // without a usable header no row can be read
      }
      continue;
    }
    if (record.fields.length !== header.length) {
      yield { line: record.line, problems: [{ field: '', reason: `has ${record.fields.length} cells; the header has ${header.length}` }] };
      continue;
    }
    const input: Record<string, unknown> = {};
    header.forEach((name, index) => {
      const cell = record.fields[index];
      if (cell === '') return;
      input[name] = fieldTypes[name] === 'number' && NUMBER.test(cell.trim()) ? Number(cell.trim()) : cell;
    });
    yield { line: record.line, input };
  }
  if (!header) yield { line: 1, problems: [{ field: '', reason: 'the file is empty; the first line must be the header' }] };
}

/** NDJSON rows: one JSON object per line; blank lines are skipped. */
export async function* ndjsonRows(lines: AsyncIterable<string>): AsyncGenerator<ImportRow> {
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    try {
      yield { line: lineNumber, input: JSON.parse(line) as unknown };
    } catch (error) {
      yield { line: lineNumber, problems: [{ field: '', reason: `is not valid JSON (${(error as Error).message})` }] };
    }
  }
}
