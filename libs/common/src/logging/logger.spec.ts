import { JsonLogger, LogLevel, serializeError } from './logger';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A logger writing into an array; `entries()` returns the parsed lines. */
function capture(minLevel?: LogLevel, base?: Record<string, unknown>) {
  const lines: string[] = [];
  const logger = new JsonLogger(minLevel, base, (line) => lines.push(line));
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function logAtEveryLevel(logger: JsonLogger): void {
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
}

describe('JsonLogger', () => {
  it.each<[LogLevel, string[]]>([
    ['debug', ['d', 'i', 'w', 'e']],
    ['info', ['i', 'w', 'e']],
    ['warn', ['w', 'e']],
    ['error', ['e']],
  ])('at minimum level %s writes %p', (minLevel, expected) => {
    const { logger, entries } = capture(minLevel);
    logAtEveryLevel(logger);
    expect(entries().map((e) => e.msg)).toEqual(expected);
  });

  it('defaults to level info', () => {
    const { logger, entries } = capture();
    logAtEveryLevel(logger);
    expect(entries().map((e) => e.level)).toEqual(['info', 'warn', 'error']);
  });

  it('writes one JSON object per call, without a trailing newline, in the order ts, level, base fields, msg, fields', () => {
    const { logger, lines } = capture('info', { service: 'ingest' });
    logger.warn('late record', { topic: 'events.raw', partition: 2, offset: '17' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual(['ts', 'level', 'service', 'msg', 'topic', 'partition', 'offset']);
    expect(entry).toEqual({ ts: expect.stringMatching(ISO), level: 'warn', service: 'ingest', msg: 'late record', topic: 'events.raw', partition: 2, offset: '17' });
    expect(lines[0].endsWith('\n')).toBe(false);
  });

  it('child loggers add fields to the base, override clashing ones and leave the parent untouched', () => {
    const { logger, entries } = capture('info', { service: 'enrich', instance: 'a' });
    const child = logger.child({ partition: 4, instance: 'b' });
    const grandchild = child.child({ offset: '9' });
    grandchild.info('g');
    child.info('c');
    logger.info('p');
    expect(entries().map(({ ts: _ts, ...rest }) => rest)).toEqual([
      { level: 'info', service: 'enrich', instance: 'b', partition: 4, offset: '9', msg: 'g' },
      { level: 'info', service: 'enrich', instance: 'b', partition: 4, msg: 'c' },
      { level: 'info', service: 'enrich', instance: 'a', msg: 'p' },
    ]);
  });

  it('child loggers keep the minimum level and the writer', () => {
    const { logger, entries } = capture('warn');
    const child = logger.child({ c: 1 });
    child.info('dropped');
    child.error('kept');
    expect(entries().map((e) => [e.msg, e.c])).toEqual([['kept', 1]]);
  });

  it('serialises Error field values (class, message, code, stack) instead of writing {}', () => {
    const { logger, entries } = capture();
    const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
    logger.error('failed', { error, attempt: 2 });
    const [entry] = entries();
    expect(entry.error).toEqual({ class: 'TypeError', message: 'bad input', code: 'E_BAD', stack: expect.stringMatching(/^TypeError: bad input\n/) });
    expect(entry.attempt).toBe(2);
  });

  it('keeps field values that are not errors as they are', () => {
    const { logger, entries } = capture();
    logger.info('m', { nested: { a: [1, 'x'] }, nothing: null, flag: false });
    expect(entries()[0]).toMatchObject({ nested: { a: [1, 'x'] }, nothing: null, flag: false });
  });

  it('does not call the writer for filtered levels', () => {
    const write = jest.fn();
    new JsonLogger('error', {}, write).warn('w');
    expect(write).not.toHaveBeenCalled();
  });

  it('never lets fields replace the reserved ts, level and msg keys', () => {
    const { logger, entries } = capture('info', { ts: 'base-ts' });
    logger.error('payment failed', { level: 'low', msg: 'other', ts: 'field-ts' });
    const [entry] = entries();
    expect(entry.level).toBe('error');
    expect(entry.msg).toBe('payment failed');
    expect(entry.ts).toMatch(ISO);
  });
});

describe('serializeError', () => {
  it('keeps at most the first 6 lines of the stack', () => {
    const error = new Error('deep');
    error.stack = ['Error: deep', ...Array.from({ length: 10 }, (_, i) => `    at f${i} (file.ts:${i}:1)`)].join('\n');
    expect(serializeError(error).stack).toBe(['Error: deep', ...Array.from({ length: 5 }, (_, i) => `    at f${i} (file.ts:${i}:1)`)].join('\n'));
  });

  it('leaves code and stack undefined when absent', () => {
    const error = new Error('plain');
    error.stack = undefined;
    expect(serializeError(error)).toEqual({ class: 'Error', message: 'plain', code: undefined, stack: undefined });
  });
});
