/**
 * Bulk import of one kind of reference data: validates every row with the API's validators and upserts
 * them in batches (one `unnest` statement each) inside ONE transaction: a file with any bad row imports
 * nothing, and every problem of the file is reported (line, field, reason), not only the first.
 *
 * A key that appears several times: the last row wins, as if the rows had been PUT one after the other.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the import command writes with the enrich service's repository and validators (one source of truth) */
import type { UpsertSummary } from '../../../apps/enrich/src/reference-data/reference-data.repository';
import { recordKey, REFERENCE_VALIDATORS, ReferenceKind, ReferenceRecords } from '../../../apps/enrich/src/reference-data/reference-validation';
/* eslint-enable @nx/enforce-module-boundaries */
import type { ImportRow } from './import-rows';

export interface ImportProblem {
  line: number;
  field: string;
  reason: string;
}

export interface ImportResult extends UpsertSummary {
  rows: number;
  /** Every problem found, up to `maxProblems`; `problemCount` counts them all. Non-zero: nothing was imported. */
  problems: ImportProblem[];
  problemCount: number;
}

/** Where the rows go: `upsert` runs inside the import's transaction. */
export interface ImportTarget {
  transaction<T>(work: (upsert: <K extends ReferenceKind>(kind: K, records: ReadonlyArray<ReferenceRecords[K]>) => Promise<UpsertSummary>) => Promise<T>): Promise<T>;
}

export interface ImportOptions {
  batchSize?: number;
  maxProblems?: number;
  /** Called after every `progressEvery` rows. */
  onProgress?: (progress: { rows: number; written: number }) => void;
  progressEvery?: number;
}

class RollBack extends Error {}

export async function importReferenceData<K extends ReferenceKind>(kind: K, rows: AsyncIterable<ImportRow>, target: ImportTarget, options: ImportOptions = {}): Promise<ImportResult> {
  const { batchSize = 1000, maxProblems = 100, progressEvery = 10_000, onProgress } = options;
  const result: ImportResult = { rows: 0, inserted: 0, updated: 0, unchanged: 0, problems: [], problemCount: 0 };
  const report = (line: number, problems: Array<{ field: string; reason: string }>) => {
    result.problemCount += problems.length;
    for (const p of problems) if (result.problems.length < maxProblems) result.problems.push({ line, ...p });
  };
  const validate = REFERENCE_VALIDATORS[kind] as (input: unknown) => ReturnType<(typeof REFERENCE_VALIDATORS)[K]>;
  try {
    await target.transaction(async (upsert) => {
      // Keyed, so a key repeated within a batch is written once (Postgres cannot update a row twice in one statement).
      let batch = new Map<string, ReferenceRecords[K]>();
      const flush = async () => {
        if (batch.size === 0) return;
        const summary = await upsert(kind, [...batch.values()]);
        result.inserted += summary.inserted;
        result.updated += summary.updated;
        result.unchanged += summary.unchanged;
        batch = new Map();
      };
      for await (const row of rows) {
        result.rows += 1;
        if ('problems' in row) {
          report(row.line, row.problems);
        } else {
          const validated = validate(row.input);
          if (!validated.ok) report(row.line, validated.problems);
          // After the first problem the file will be rolled back: keep validating, stop writing.
          else if (result.problemCount === 0) {
            const record = validated.record as ReferenceRecords[K];
            const key = recordKey(kind, record);
            batch.delete(key); // re-inserted at the end: the last row wins
            batch.set(key, record);
            if (batch.size >= batchSize) await flush();
          }
        }
        if (onProgress && result.rows % progressEvery === 0) onProgress({ rows: result.rows, written: result.inserted + result.updated + result.unchanged });
      }
      if (result.problemCount === 0 && result.rows === 0) report(1, [{ field: '', reason: 'the file has no rows' }]);
      if (result.problemCount > 0) throw new RollBack();
      await flush();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
    result.inserted = result.updated = result.unchanged = 0;
  }
  return result;
}
