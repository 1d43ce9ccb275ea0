import { parseCsvRecord, readCsvRecords } from './csv-reader';

async function* linesOf(text: string): AsyncGenerator<string> {
  for (const line of text.split(/\r?\n/)) yield line;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('parseCsvRecord', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c', ['a', '', 'c']],
    [',', ['', '']],
    ['"a,b",c', ['a,b', 'c']],
    ['"say ""hi""",x', ['say "hi"', 'x']],
    ['""', ['']],
    [' a , b ', [' a ', ' b ']],
  ])('splits %p', (text, expected) => {
    expect(parseCsvRecord(text, 1)).toEqual(expected);
  });

  it('returns undefined while a quoted field is open', () => {
    expect(parseCsvRecord('a,"multi', 1)).toBeUndefined();
  });

  it.each([['a"b,c'], ['"a"b,c']])('rejects a stray quote in %p', (text) => {
    expect(() => parseCsvRecord(text, 7)).toThrow(/quote/);
  });
});

describe('readCsvRecords', () => {
  it('numbers records by their first line, joins quoted newlines, skips blank lines and handles CRLF', async () => {
    const records = await collect(readCsvRecords(linesOf('h1,h2\r\n\r\na,"line one\nline two"\nb,c\n')));
    expect(records).toEqual([
      { line: 1, fields: ['h1', 'h2'] },
      { line: 3, fields: ['a', 'line one\nline two'] },
      { line: 5, fields: ['b', 'c'] },
    ]);
  });

  it('reports a syntax error with its line and carries on', async () => {
    expect(await collect(readCsvRecords(linesOf('h\nx"y\nok')))).toEqual([
      { line: 1, fields: ['h'] }, { line: 2, error: expect.stringContaining('quote') }, { line: 3, fields: ['ok'] },
    ]);
  });

  it('reports a quote left open at the end of the file', async () => {
    expect(await collect(readCsvRecords(linesOf('h\n"open\nstill open')))).toEqual([
      { line: 1, fields: ['h'] }, { line: 2, error: 'a quoted field is not closed before the end of the file' },
    ]);
  });
});
