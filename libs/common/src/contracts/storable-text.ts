/**
 * Text that Postgres can store. `text` and `jsonb` refuse U+0000, and `jsonb` refuses a UTF-16 surrogate without
 * its partner (JSON.stringify writes it as a `\udXXX` escape; it is not valid Unicode, so not encodable as
 * UTF-8 either). Ingest refuses such strings with a 422; a consumer refuses records carrying them as poison
 * (UNSTORABLE_TEXT → DLQ), because once in operator state, a result or an alert row they would fail every
 * commit of their batch and stall the partition.
 */

/** A UTF-16 surrogate without its partner. */
export const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
}

/**
 * In JSON text, only a `\u` escape can produce U+0000 or a lone surrogate (raw bytes that are not UTF-8 decode to
 * U+FFFD, and raw control characters are not valid JSON). A cheap pre-check on the text: false means
 * every string of the parsed value is storable; true (which an escaped backslash before `u0000` also gives)
 * means look with {@link unstorableTextPath}.
 */
const SUSPICIOUS_ESCAPE = /\\u(?:0000|[dD][89abcdefABCDEF])/;

export function mayHoldUnstorableText(jsonText: string): boolean {
  return SUSPICIOUS_ESCAPE.test(jsonText);
}

/**
 * The path (`accountId`, `account.note`, `flags[2]`) of a string or object key in a parsed JSON value that
 * Postgres cannot store (one of them, if there are several), or undefined when there is none. Iterative, so any
 * nesting depth is safe.
 */
export function unstorableTextPath(value: unknown): string | undefined {
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return path || '(value)';
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        const itemPath = path === '' ? key : `${path}.${key}`;
        if (!isStorableText(key)) return `${path === '' ? '' : `${path}.`}(a key)`;
        pending.push([item, itemPath]);
      }
    }
  }
  return undefined;
}
