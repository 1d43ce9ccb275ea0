/**
 * A streaming CSV reader (RFC 4180): comma-separated, fields optionally in double quotes, `""` for a quote
 * inside a quoted field, quoted fields may span lines, LF or CRLF line ends. Memory stays at one record.
 */
export interface CsvRecord {
  /** 1-based line number where the record starts (what a user looks up in an editor). */
  line: number;
  fields: string[];
}

/** A record that is not valid CSV; reading goes on with the next line. */
export interface CsvError {
  line: number;
  error: string;
}

export class CsvSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/** Splits one logical record; `undefined` when a quoted field is still open at the end (it continues on the next line). */
export function parseCsvRecord(text: string, line: number): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let afterQuote = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
        afterQuote = true;
      } else {
        field += c;
      }
    } else if (c === ',') {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (c === '"') {
      if (field !== '' || afterQuote) throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      quoted = true;
    } else {
      if (afterQuote) throw new CsvSyntaxError(line, 'text after a closing quote (a field is either all quoted or not at all)');
      field += c;
    }
    i += 1;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/** Records of `lines` (without their line ends), numbered from 1. Blank lines outside quotes are skipped. */
export async function* readCsvRecords(lines: AsyncIterable<string>): AsyncGenerator<CsvRecord | CsvError> {
  let lineNumber = 0;
  let pending: { text: string; line: number } | undefined;
  for await (const line of lines) {
    lineNumber += 1;
    const text = pending ? `${pending.text}\n${line}` : line;
    const start = pending ? pending.line : lineNumber;
    if (!pending && text.trim() === '') continue;
    let fields: string[] | undefined;
    try {
      fields = parseCsvRecord(text, start);
    } catch (error) {
      pending = undefined;
      yield { line: start, error: (error as Error).message };
      continue;
    }
    if (fields === undefined) {
      pending = { text, line: start };
      continue;
    }
    pending = undefined;
    yield { line: start, fields };
  }
  if (pending) yield { line: pending.line, error: 'a quoted field is not closed before the end of the file' };
}
