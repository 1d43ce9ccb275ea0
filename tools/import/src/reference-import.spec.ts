/* eslint-disable @nx/enforce-module-boundaries -- test of the import command, which uses the enrich service's record types */
import type { UpsertSummary } from '../../../apps/enrich/src/reference-data/reference-data.repository';
/* eslint-enable @nx/enforce-module-boundaries */
import type { ImportRow } from './import-rows';
import { importReferenceData, ImportTarget } from './reference-import';

/** An in-memory target that records upsert calls and whether the transaction committed. */
function fakeTarget() {
  const calls: unknown[][] = [];
  const state = { committed: false, rolledBack: false };
  const target: ImportTarget = {
    async transaction(work) {
      try {
        const result = await work(async (_kind, records): Promise<UpsertSummary> => {
          calls.push([...records]);
          return { inserted: records.length, updated: 0, unchanged: 0 };
        });
        state.committed = true;
        return result;
      } catch (error) {
        state.rolledBack = true;
        throw error;
      }
    },
  };
  return { target, calls, state };
}

async function* rowsOf(rows: ImportRow[]): AsyncGenerator<ImportRow> {
  yield* rows;
}

const rate = (line: number, currency: string, usdRate: unknown): ImportRow => ({ line, input: { currency, usdRate } });

describe('importReferenceData', () => {
  it('upserts valid rows in batches of batchSize and commits', async () => {
    const { target, calls, state } = fakeTarget();
    const result = await importReferenceData('fx-rates', rowsOf([rate(2, 'EUR', 1.08), rate(3, 'GBP', 1.27), rate(4, 'CHF', 1.13)]), target, { batchSize: 2 });
    expect(calls).toEqual([
      [{ currency: 'EUR', usdRate: 1.08 }, { currency: 'GBP', usdRate: 1.27 }],
      [{ currency: 'CHF', usdRate: 1.13 }],
    ]);
    expect(result).toEqual({ rows: 3, inserted: 3, updated: 0, unchanged: 0, problems: [], problemCount: 0 });
    expect(state.committed).toBe(true);
  });

  it('lets the last row of a repeated key win, written once per batch', async () => {
    const { target, calls } = fakeTarget();
    await importReferenceData('fx-rates', rowsOf([rate(2, 'EUR', 1), rate(3, 'GBP', 1.27), rate(4, 'EUR', 1.1)]), target);
    expect(calls).toEqual([[{ currency: 'GBP', usdRate: 1.27 }, { currency: 'EUR', usdRate: 1.1 }]]);
  });

  it('reports every problem of the file with its line and rolls everything back', async () => {
    const { target, state } = fakeTarget();
    const result = await importReferenceData('fx-rates', rowsOf([
      rate(2, 'EUR', 1.08), rate(3, 'eur', 0), { line: 4, problems: [{ field: '', reason: 'is not valid JSON' }] }, rate(5, 'GBP', 1.27),
    ]), target, { batchSize: 1 });
    expect(result).toEqual({
      rows: 4, inserted: 0, updated: 0, unchanged: 0, problemCount: 3,
      problems: [
        { line: 3, field: 'currency', reason: 'must be an ISO 4217 code of 3 upper-case letters' },
        { line: 3, field: 'usdRate', reason: 'must be > 0 and <= 1000000000' },
        { line: 4, field: '', reason: 'is not valid JSON' },
      ],
    });
    expect(state).toEqual({ committed: false, rolledBack: true });
  });

  it('lists at most maxProblems but counts them all', async () => {
    const { target } = fakeTarget();
    const bad = Array.from({ length: 5 }, (_, i) => rate(i + 2, 'EUR', -1));
    const result = await importReferenceData('fx-rates', rowsOf(bad), target, { maxProblems: 2 });
    expect([result.problems.length, result.problemCount]).toEqual([2, 5]);
  });

  it('refuses an empty file', async () => {
    const { target, state } = fakeTarget();
    expect((await importReferenceData('accounts', rowsOf([]), target)).problems).toEqual([{ line: 1, field: '', reason: 'the file has no rows' }]);
    expect(state.committed).toBe(false);
  });

  it('reports progress every progressEvery rows', async () => {
    const { target } = fakeTarget();
    const progress: unknown[] = [];
    const rows = Array.from({ length: 5 }, (_, i) => ({ line: i + 2, input: { accountId: `a${i}` } }));
    await importReferenceData('accounts', rowsOf(rows), target, { batchSize: 2, progressEvery: 2, onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([{ rows: 2, written: 2 }, { rows: 4, written: 4 }]);
  });

  it('passes a database failure through (the transaction rolls back)', async () => {
    const target: ImportTarget = { transaction: async (work) => work(async () => { throw new Error('connection refused'); }) };
    await expect(importReferenceData('fx-rates', rowsOf([rate(2, 'EUR', 1)]), target)).rejects.toThrow('connection refused');
  });
});
