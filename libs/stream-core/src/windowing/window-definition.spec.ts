import { parseWindowDefinitions, WindowDefinitionError } from './window-definition';

const base = { name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60000 }, aggregations: [{ name: 'n', fn: 'count' }] };

function errorOf(input: unknown): WindowDefinitionError {
  try {
    parseWindowDefinitions(input);
  } catch (e) {
    expect(e).toBeInstanceOf(WindowDefinitionError);
    return e as WindowDefinitionError;
  }
  throw new Error('expected parseWindowDefinitions to throw');
}

describe('parseWindowDefinitions', () => {
  it('applies defaults (offsetMs 0, allowedLatenessMs 0, emit final)', () => {
    expect(parseWindowDefinitions([base])).toEqual([
      { name: 'account-1m', groupBy: ['accountId'], window: { type: 'tumbling', sizeMs: 60000, offsetMs: 0 }, aggregations: [{ name: 'n', fn: 'count' }], allowedLatenessMs: 0, emit: 'final' },
    ]);
  });

  it('accepts every window type and aggregation fn', () => {
    const defs = parseWindowDefinitions([
      { ...base, name: 'a', window: { type: 'hopping', sizeMs: 10, advanceMs: 5, offsetMs: 2 }, emit: 'update', allowedLatenessMs: 7 },
      { ...base, name: 'b', window: { type: 'sliding', sizeMs: 10 } },
      { ...base, name: 'c', window: { type: 'session', gapMs: 10 }, groupBy: ['location.country', 'cardId'] },
      {
        ...base,
        name: 'd',
        window: { type: 'count', size: 3 },
        aggregations: ['count', 'sum', 'min', 'max', 'avg', 'stddev', 'countDistinct', 'first', 'last'].map((fn) => ({ name: `x_${fn}`, fn, field: 'amount' })),
      },
    ]);
    expect(defs.map((d) => d.window.type)).toEqual(['hopping', 'sliding', 'session', 'count']);
    expect(defs[0]).toMatchObject({ emit: 'update', allowedLatenessMs: 7, window: { offsetMs: 2 } });
  });

  it.each([
    ['not an array', { a: 1 }, undefined, '', /must be an array/],
    ['bad name', [{ ...base, name: 'Bad Name' }], 0, 'name', /must match/],
    ['duplicate name', [base, base], 1, 'name', /duplicate definition name 'account-1m'/],
    ['empty groupBy', [{ ...base, groupBy: [] }], 0, 'groupBy', /non-empty array/],
    ['bad groupBy path', [base, { ...base, name: 'x', groupBy: ['a..b'] }], 1, 'groupBy[0]', /field path/],
    ['unknown window type', [{ ...base, window: { type: 'rolling', sizeMs: 1 } }], 0, 'window.type', /must be one of/],
    ['negative size', [{ ...base, window: { type: 'tumbling', sizeMs: -5 } }], 0, 'window.sizeMs', /positive integer \(got -5\)/],
    ['offset >= size', [{ ...base, window: { type: 'tumbling', sizeMs: 10, offsetMs: 10 } }], 0, 'window.offsetMs', /\[0, sizeMs\)/],
    ['advance > size', [{ ...base, window: { type: 'hopping', sizeMs: 10, advanceMs: 11 } }], 0, 'window.advanceMs', /<= sizeMs/],
    ['missing gap', [{ ...base, window: { type: 'session' } }], 0, 'window.gapMs', /positive integer/],
    ['unknown window key', [{ ...base, window: { type: 'tumbling', sizeMs: 10, advanceMs: 5 } }], 0, 'window.advanceMs', /unknown field/],
    ['unknown key (typo)', [{ ...base, allowedLateness: 5 }], 0, 'allowedLateness', /unknown field/],
    ['bad fn', [{ ...base, aggregations: [{ name: 'p', fn: 'median', field: 'x' }] }], 0, 'aggregations[0].fn', /must be one of/],
    ['field missing for sum', [{ ...base, aggregations: [{ name: 'n', fn: 'count' }, { name: 's', fn: 'sum' }] }], 0, 'aggregations[1].field', /required for fn 'sum'/],
    ['duplicate aggregation name', [{ ...base, aggregations: [{ name: 'n', fn: 'count' }, { name: 'n', fn: 'count' }] }], 0, 'aggregations[1].name', /duplicate/],
    ['negative lateness', [{ ...base, allowedLatenessMs: -1 }], 0, 'allowedLatenessMs', /integer >= 0/],
    ['bad emit', [{ ...base, emit: 'eager' }], 0, 'emit', /'final' or 'update'/],
    ['definition not an object', [base, 'x'], 1, '', /must be an object/],
  ])('%s → error names index and field', (_label, input, index, field, reason) => {
    const error = errorOf(input);
    expect(error.code).toBe('INVALID_WINDOW_DEFINITION');
    expect(error.index).toBe(index);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(reason);
    const prefix = index === undefined ? 'windowDefinitions' : `windowDefinitions[${index}]`;
    expect(error.message.startsWith(field ? `${prefix}.${field}: ` : `${prefix}: `)).toBe(true);
  });
});
