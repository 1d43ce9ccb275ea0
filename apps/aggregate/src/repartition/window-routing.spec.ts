import { parseWindowDefinitions, tenantDedupKey, tenantScopedWindowDefinition } from '@streamguard/stream-core';
import { isCoPartitioned, repartitionDedupKey, repartitionedDefinition, repartitionKey, routeWindowDefinitions } from './window-routing';
import { DEFAULT_WINDOW_DEFINITIONS } from '../aggregate.config';

function scoped(name: string, groupBy: string[]) {
  const [definition] = parseWindowDefinitions([{ name, groupBy, window: { type: 'tumbling', sizeMs: 60_000 }, aggregations: [{ name: 'n', fn: 'count' }] }]);
  return tenantScopedWindowDefinition(definition);
}

describe('window routing', () => {
  it('runs definitions grouped by account first on events.enriched, every other one through the repartition topic', () => {
    expect(isCoPartitioned(scoped('a', ['accountId']))).toBe(true);
    expect(isCoPartitioned(scoped('a', ['tenantId', 'accountId']))).toBe(true);
    expect(isCoPartitioned(scoped('a', ['accountId', 'cardId']))).toBe(true);
    expect(isCoPartitioned(scoped('a', ['accountId', 'tenantId']))).toBe(true); // tenant scoping moves tenantId first
    expect(isCoPartitioned(scoped('m', ['merchantId']))).toBe(false);
    expect(isCoPartitioned(scoped('m', ['cardId', 'accountId']))).toBe(false); // only a prefix of the input key counts
    expect(isCoPartitioned(scoped('t', ['tenantId']))).toBe(false);
    expect(isCoPartitioned(scoped('n', ['account.id']))).toBe(false);
  });

  it('splits the defaults: account-1m co-partitioned, merchant-1h repartitioned', () => {
    const routing = routeWindowDefinitions(parseWindowDefinitions(DEFAULT_WINDOW_DEFINITIONS).map(tenantScopedWindowDefinition));
    expect(routing.coPartitioned.map((d) => d.name)).toEqual(['account-1m']);
    expect(routing.repartitioned.map((d) => d.name)).toEqual(['merchant-1h']);
  });

  it('keys repartition records by definition and group key', () => {
    expect(repartitionKey('merchant-1h', 'acme|m-1')).toBe('merchant-1h|acme|m-1');
    // A `|` inside a value is escaped in the group key, and definition names cannot contain one.
    expect(repartitionKey('merchant-1h', 'acme|m\\|1')).toBe('merchant-1h|acme|m\\|1');
  });

  it('deduplicates per definition and tenant', () => {
    expect(repartitionDedupKey('acme', 'e-1', 'merchant-1h')).toBe(`merchant-1h|${tenantDedupKey('acme', 'e-1')}`);
    expect(repartitionDedupKey('acme', 'e-1', 'merchant-1h')).not.toBe(repartitionDedupKey('acme', 'e-1', 'country-1h'));
    expect(repartitionDedupKey('acme', 'e-1', 'merchant-1h')).not.toBe(repartitionDedupKey('globex', 'e-1', 'merchant-1h'));
  });

  it('reads the definition header', () => {
    expect(repartitionedDefinition({ 'x-window-definition': 'merchant-1h' })).toBe('merchant-1h');
    expect(repartitionedDefinition({})).toBeUndefined();
    expect(repartitionedDefinition({ 'x-window-definition': '' })).toBeUndefined();
  });
});
