import { csvRows, formatOf, ImportRow, ndjsonRows } from './import-rows';

async function* linesOf(text: string): AsyncGenerator<string> {
  for (const line of text.split('\n')) yield line;
}

async function collect(rows: AsyncIterable<ImportRow>): Promise<ImportRow[]> {
  const out: ImportRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('formatOf', () => {
  it.each([['a.csv', 'csv'], ['A.CSV', 'csv'], ['x.ndjson', 'ndjson'], ['x.jsonl', 'ndjson'], ['x.json', undefined], ['x', undefined]])('%p → %p', (path, expected) => {
    expect(formatOf(path)).toBe(expected);
  });
});

describe('csvRows', () => {
  it('maps cells to fields by header, drops empty cells and turns numeric cells of number fields into numbers', async () => {
    const rows = await collect(csvRows('merchants', linesOf('riskScore,merchantId,mcc,name\n0.5,m-1,5411,\nhigh,m-2,0042,"A, B"')));
    expect(rows).toEqual([
      { line: 2, input: { riskScore: 0.5, merchantId: 'm-1', mcc: '5411' } },
      // 'high' stays text so the validator reports it; an MCC stays text (it is a string field).
      { line: 3, input: { riskScore: 'high', merchantId: 'm-2', mcc: '0042', name: 'A, B' } },
    ]);
  });

  it('rejects a header with unknown, repeated or missing key columns, and reads no rows then', async () => {
    expect(await collect(csvRows('accounts', linesOf('homeCountry,homecountry,homeCountry\nDE,DE,DE')))).toEqual([{
      line: 1,
      problems: [
        { field: 'homecountry', reason: 'unknown column; expected some of accountId, homeCountry, riskTier, openedAt' },
        { field: 'homeCountry', reason: 'repeated column' },
        { field: 'accountId', reason: 'required column is missing' },
      ],
    }]);
  });

  it('reports a row with the wrong number of cells', async () => {
    expect(await collect(csvRows('fx-rates', linesOf('currency,usdRate\nEUR,1.08,extra')))).toEqual([
      { line: 2, problems: [{ field: '', reason: 'has 3 cells; the header has 2' }] },
    ]);
  });

  it('reports an empty file', async () => {
    expect(await collect(csvRows('fx-rates', linesOf('')))).toEqual([{ line: 1, problems: [{ field: '', reason: 'the file is empty; the first line must be the header' }] }]);
  });

  it('ignores a byte-order mark before the header', async () => {
    expect(await collect(csvRows('fx-rates', linesOf('\uFEFFcurrency,usdRate\nEUR,1.08')))).toEqual([{ line: 2, input: { currency: 'EUR', usdRate: 1.08 } }]);
  });
});

describe('ndjsonRows', () => {
  it('parses each non-blank line and reports invalid JSON with its line', async () => {
    expect(await collect(ndjsonRows(linesOf('{"currency":"EUR","usdRate":1.08}\n\n{"currency":\n[1]')))).toEqual([
      { line: 1, input: { currency: 'EUR', usdRate: 1.08 } },
      { line: 3, problems: [{ field: '', reason: expect.stringContaining('is not valid JSON') }] },
      { line: 4, input: [1] },
    ]);
  });
});
