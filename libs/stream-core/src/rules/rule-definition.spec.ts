import fc from 'fast-check';
import { DEFAULT_RULES } from './default-rules';
import { validateRule, type RuleDefinition, type RuleValidationError } from './rule-definition';
import { aggregateRule, anomalyRule, listRule, sequenceRule, thresholdRule, travelRule } from './test/fixtures';

const errorsOf = (input: unknown): RuleValidationError[] => {
  const result = validateRule(input);
  if (result.ok) throw new Error('expected validation errors');
  return result.errors;
};
const paths = (input: unknown): string[] => errorsOf(input).map((e) => e.path);
const json = (x: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(x)) as Record<string, unknown>;

describe('validateRule: valid rules', () => {
  it.each<[string, RuleDefinition]>([
    ['threshold', thresholdRule({ field: 'amountUsd', op: '>', value: 10_000 })],
    ['threshold on a string', thresholdRule({ field: 'merchant.country', op: '==', value: 'RU' })],
    ['aggregate count', aggregateRule({})],
    ['aggregate countDistinct', aggregateRule({ aggregation: 'countDistinct', field: 'deviceId', groupBy: ['accountId', 'merchantId'] })],
    ['impossible-travel', travelRule()],
    ['anomaly', anomalyRule({ field: 'amount', groupBy: ['cardId'] })],
    ['sequence', sequenceRule({ groupBy: ['cardId'], withinMs: 0 })],
    ['list', listRule({ kinds: ['merchant', 'card', 'device', 'ip', 'country'] })],
    ...DEFAULT_RULES.map((r): [string, RuleDefinition] => [`default ${r.id}`, r]),
  ])('accepts %s and returns an equal copy', (_name, rule) => {
    const input = json({
      ...rule,
      description: 'why',
      cooldownMs: 0,
      filters: [
        { field: 'channel', op: 'in', value: ['web', 'pos'] },
        { field: 'flags', op: 'exists' },
        { field: 'attributes.mcc', op: '!=', value: '6011' },
      ],
    });
    const result = validateRule(input);
    expect(result).toEqual({ ok: true, rule: input });
    if (result.ok) expect(result.rule).not.toBe(input);
  });

  it('does not fill in defaults', () => {
    const result = validateRule(json(anomalyRule()));
    expect(result.ok && result.rule).toEqual(json(anomalyRule()));
    expect(result.ok && 'cooldownMs' in result.rule).toBe(false);
  });
});

describe('validateRule: errors', () => {
  it('rejects non-objects at $', () => {
    for (const input of [null, undefined, 42, 'rule', [], true]) {
      expect(errorsOf(input)).toEqual([{ path: '$', message: 'must be a JSON object' }]);
    }
  });

  it('rejects an unknown type once, at $.type, without guessing params', () => {
    expect(errorsOf({ ...json(thresholdRule({ field: 'a', op: '>', value: 1 })), type: 'magic' })).toEqual([
      { path: '$.type', message: expect.stringContaining('must be one of') },
    ]);
  });

  it('reports missing params', () => {
    const { params: _omit, ...rest } = json(aggregateRule({}));
    void _omit;
    expect(errorsOf(rest)).toEqual([{ path: '$.params', message: 'must be an object' }]);
    expect(paths({ ...rest, params: {} })).toEqual([
      '$.params.aggregation',
      '$.params.groupBy',
      '$.params.windowMs',
      '$.params.op',
      '$.params.limit',
    ]);
  });

  it('reports a bad operator and a bad filter with their paths', () => {
    const rule = json(thresholdRule({ field: 'amountUsd', op: '>', value: 1 }));
    expect(paths({ ...rule, params: { field: 'amountUsd', op: '=>', value: 1 } })).toEqual(['$.params.op']);
    expect(
      paths({ ...rule, filters: [{ field: 'country', op: '==', value: 'FR' }, { field: 'country', op: 'like', value: 'F%' }] }),
    ).toEqual(['$.filters[1].op']);
  });

  it('rejects negative, zero, fractional and absurd windowMs', () => {
    for (const windowMs of [-1, 0, 1.5, '60000', 400 * 24 * 3600 * 1000]) {
      expect(paths(json(aggregateRule({ windowMs: windowMs as number })))).toEqual(['$.params.windowMs']);
    }
  });

  it('rejects unknown fields at the top level, in params and in filters', () => {
    const rule: Record<string, unknown> = { ...json(aggregateRule({})), enabled: true };
    (rule.params as Record<string, unknown>).windowMS = 1;
    rule.filters = [{ field: 'a', op: 'exists', values: [] }];
    expect(paths(rule)).toEqual(['$.enabled', '$.filters[0].values', '$.params.windowMS']);
  });

  it('rejects tenantId: it is runtime-only, set from who owns the rule, never from the rule JSON', () => {
    expect(paths({ ...json(listRule()), tenantId: 'acme' })).toEqual(['$.tenantId']);
  });

  it('rejects a __proto__ key rather than ignoring it', () => {
    const input = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
    expect(paths(input)).toContain('$.__proto__');
  });

  it('returns every base-field problem at once', () => {
    const input = { id: 'Bad Id', version: 0, name: ' ', severity: 'urgent', status: 'on', cooldownMs: -5, type: 'list', params: { kinds: [] } };
    expect(paths(input)).toEqual(['$.id', '$.version', '$.name', '$.severity', '$.status', '$.cooldownMs', '$.params.kinds']);
  });

  it('requires a field for every aggregation except count', () => {
    for (const aggregation of ['sum', 'avg', 'min', 'max', 'countDistinct'] as const) {
      expect(errorsOf(json(aggregateRule({ aggregation })))).toEqual([
        { path: '$.params.field', message: `is required for "${aggregation}"` },
      ]);
    }
  });

  it('validates field paths and group-bys', () => {
    expect(paths(json(thresholdRule({ field: 'a..b', op: '>', value: 1 })))).toEqual(['$.params.field']);
    expect(paths(json(thresholdRule({ field: 'merchant.__proto__', op: '>', value: 1 })))).toEqual(['$.params.field']);
    expect(paths(json(thresholdRule({ field: 'a:b', op: '>', value: 1 })))).toEqual(['$.params.field']);
    expect(paths(json(aggregateRule({ groupBy: [] })))).toEqual(['$.params.groupBy']);
    expect(paths(json(aggregateRule({ groupBy: ['accountId', 'accountId'] })))).toEqual(['$.params.groupBy']);
    expect(paths(json(aggregateRule({ groupBy: ['accountId', 7 as unknown as string] })))).toEqual(['$.params.groupBy[1]']);
  });

  it('allows 5 group-by fields besides tenantId, so a tenant-scoped rule stays valid', () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(validateRule(json(aggregateRule({ groupBy: five }))).ok).toBe(true);
    expect(validateRule(json(aggregateRule({ groupBy: ['tenantId', ...five] }))).ok).toBe(true);
    expect(paths(json(aggregateRule({ groupBy: [...five, 'f'] })))).toEqual(['$.params.groupBy']);
  });

  it('validates comparison values', () => {
    expect(paths(json(thresholdRule({ field: 'a', op: '>', value: true })))).toEqual(['$.params.value']);
    expect(paths(json(thresholdRule({ field: 'a', op: '==', value: null as unknown as string })))).toEqual(['$.params.value']);
    expect(validateRule(json(thresholdRule({ field: 'a', op: '==', value: true }))).ok).toBe(true);
    const withFilters = (filters: unknown[]) => ({ ...json(listRule()), filters });
    expect(paths(withFilters([{ field: 'a', op: 'in', value: [] }]))).toEqual(['$.filters[0].value']);
    expect(paths(withFilters([{ field: 'a', op: 'in', value: ['x', { y: 1 }] }]))).toEqual(['$.filters[0].value[1]']);
    expect(paths(withFilters([{ field: 'a', op: 'exists', value: 'yes' }]))).toEqual(['$.filters[0].value']);
    expect(paths(withFilters([{ field: 'a', op: '<' }]))).toEqual(['$.filters[0].value']);
    expect(paths(withFilters(['a > 1']))).toEqual(['$.filters[0]']);
    expect(paths({ ...json(listRule()), filters: {} })).toEqual(['$.filters']);
  });

  it('validates the params of every type', () => {
    expect(paths(json(travelRule({ maxKmh: 0, minKm: -1 })))).toEqual(['$.params.maxKmh', '$.params.minKm']);
    expect(paths(json(anomalyRule({ zScore: -3, minEvents: 0, field: '' })))).toEqual([
      '$.params.field',
      '$.params.zScore',
      '$.params.minEvents',
    ]);
    expect(paths(json(sequenceRule({ first: [], then: [{ field: 'a', op: 'nope' as '>' }], withinMs: -1 })))).toEqual([
      '$.params.first',
      '$.params.then[0].op',
      '$.params.withinMs',
    ]);
    expect(paths(json(listRule({ kinds: ['card', 'email' as 'card', 'card'] })))).toEqual(['$.params.kinds[1]', '$.params.kinds']);
    expect(paths({ ...json(aggregateRule({})), params: { ...json(aggregateRule({})).params as object, limit: Number.POSITIVE_INFINITY } })).toEqual([
      '$.params.limit',
    ]);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = validateRule(input);
        return result.ok || result.errors.length > 0;
      }),
      { numRuns: 300 },
    );
    const hostile = { get id(): string { throw new Error('boom'); } };
    expect(errorsOf(hostile)).toEqual([{ path: '$', message: 'unreadable input: boom' }]);
  });

  it('never throws on mutated valid rules either', () => {
    const valid = json(aggregateRule({ aggregation: 'sum', field: 'amountUsd' }));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(valid), 'params'), fc.anything(), (key, junk) => {
        const result = validateRule({ ...valid, [key]: junk });
        return result.ok || result.errors.every((e) => e.path.startsWith('$'));
      }),
      { numRuns: 300 },
    );
  });
});
