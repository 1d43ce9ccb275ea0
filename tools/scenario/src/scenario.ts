/**
 * Synthetic traffic with planted fraud: realistic background transactions across many accounts and merchants,
 * plus one planted pattern per rule type, each with the exact alert it must produce. Deterministic for a seed.
 *
 * Background traffic is shaped to trigger nothing: amounts 20–200 USD-equivalent, at most one event per
 * account every 13 s of event time (so never more than 5 in a minute), no locations, no blocklisted values;
 * keep `backgroundEvents <= 10 × backgroundAccounts` so no account reaches the anomaly rule's minimum history.
 */
import type { TransactionEvent } from '@streamguard/common';

export interface ExpectedAlert {
  ruleId: string;
  accountId: string;
  pattern: string;
}

export interface Scenario {
  events: TransactionEvent[];
  expected: ExpectedAlert[];
}

export interface ScenarioOptions {
  seed: number;
  /** Prefix of every id, so runs never collide. */
  runId: string;
  /** Event time of the first event. */
  startTime: number;
  backgroundAccounts: number;
  backgroundEvents: number;
  /** Tag events with `attributes.scenario` (and use tagged rules, see scenarioRules). */
  tag?: string;
  /** Rule ids the planted patterns target (default: untagged scenario rules + seeded defaults). */
  ruleIds?: Partial<Record<PatternName, string>>;
}

export type PatternName = 'large-amount' | 'velocity' | 'card-testing' | 'impossible-travel' | 'anomaly' | 'sequence' | 'blocklist';

const MERCHANTS = ['mer-1', 'mer-2', 'mer-3', 'mer-4'];
const CURRENCIES: Array<[string, number]> = [['USD', 1], ['EUR', 1.08], ['GBP', 1.27]];

export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function generateScenario(options: ScenarioOptions): Scenario {
  const random = prng(options.seed);
  const { runId, startTime } = options;
  const attributes = options.tag ? { scenario: options.tag } : undefined;
  const rule = (name: PatternName, fallback: string) => options.ruleIds?.[name] ?? fallback;
  const events: TransactionEvent[] = [];
  const expected: ExpectedAlert[] = [];
  const event = (id: string, accountId: string, occurredAt: number, amount: number, extra: Partial<TransactionEvent> = {}): TransactionEvent => ({
    eventId: `${runId}-${id}`, occurredAt, accountId, amount, currency: 'USD', merchantId: 'mer-1', ...(attributes ? { attributes } : {}), ...extra,
  });

  // Background: accounts in turn (so none builds the anomaly rule's history unless there are more than
  // 10 events per account), each account's events 13–40 s apart in event time.
  const nextTime = new Map<string, number>();
  for (let i = 0; i < options.backgroundEvents; i++) {
    const accountId = `${runId}-acc-${i % options.backgroundAccounts}`;
    const t = nextTime.get(accountId) ?? startTime + Math.floor(random() * 30_000);
    nextTime.set(accountId, t + 13_000 + Math.floor(random() * 27_000));
    const [currency, rate] = CURRENCIES[Math.floor(random() * CURRENCIES.length)];
    const amount = Math.round(((20 + random() * 180) / rate) * 100) / 100;
    events.push(event(`bg-${i}`, accountId, t, amount, { currency, merchantId: MERCHANTS[Math.floor(random() * MERCHANTS.length)], channel: random() < 0.5 ? 'web' : 'pos' }));
  }

  // Planted patterns, each on its own account so they cannot interfere with each other.
  const planted = (name: string) => `${runId}-${name}`;
  const t0 = startTime + 60_000;

  const big = planted('large');
  events.push(event('large-1', big, t0, 15_000));
  expected.push({ ruleId: rule('large-amount', 'large-amount'), accountId: big, pattern: 'threshold: one transaction over 10 000 USD' });

  const fast = planted('velocity');
  for (let i = 0; i < 7; i++) events.push(event(`velocity-${i}`, fast, t0 + i * 5_000, 30 + i));
  expected.push({ ruleId: rule('velocity', 'velocity-1m'), accountId: fast, pattern: 'aggregate: 7 transactions within a minute (one alert: 60 s cooldown)' });

  const tester = planted('cardtest');
  for (let i = 0; i < 5; i++) events.push(event(`cardtest-${i}`, tester, t0 + i * 20_000, 1 + i * 0.5, { merchantId: `mer-${i + 1}` }));
  expected.push({ ruleId: rule('card-testing', 'card-testing'), accountId: tester, pattern: 'aggregate: 5 distinct merchants with amounts under 5 USD in 10 minutes' });

  const traveller = planted('travel');
  events.push(event('travel-1', traveller, t0, 80, { location: { lat: 52.52, lon: 13.405 } })); // Berlin
  events.push(event('travel-2', traveller, t0 + 3_600_000, 95, { location: { lat: 40.7128, lon: -74.006 } })); // New York, 1 h later
  expected.push({ ruleId: rule('impossible-travel', 'impossible-travel'), accountId: traveller, pattern: 'impossible travel: Berlin → New York in 1 hour' });

  const steady = planted('anomaly');
  for (let i = 0; i < 12; i++) events.push(event(`anomaly-${i}`, steady, t0 + i * 60_000, 50 + (i % 3) * 2));
  events.push(event('anomaly-spike', steady, t0 + 13 * 60_000, 5_000));
  expected.push({ ruleId: rule('anomaly', 'amount-anomaly'), accountId: steady, pattern: 'anomaly: 5 000 USD after twelve ~50 USD transactions' });

  const prober = planted('probe');
  events.push(event('probe-1', prober, t0, 0.5));
  events.push(event('probe-2', prober, t0 + 30_000, 800));
  expected.push({ ruleId: rule('sequence', 'probe-then-spend'), accountId: prober, pattern: 'sequence: 0.50 USD then 800 USD within a minute' });

  const blocked = planted('blocked');
  events.push(event('blocked-1', blocked, t0, 42, { merchantId: 'mer-blocked' }));
  expected.push({ ruleId: rule('blocklist', 'blocklisted'), accountId: blocked, pattern: 'list: transaction at a blocklisted merchant' });

  return { events, expected };
}

/**
 * Delivery order with realistic disorder: background events are shuffled within small windows (out of order
 * in event time) and a share of them is delivered twice; planted patterns keep their order (their expected
 * alerts name the triggering event) but are interleaved with the background.
 */
export function deliveryOrder(scenario: Scenario, seed: number, duplicateShare = 0.05): TransactionEvent[] {
  const random = prng(seed);
  const background = scenario.events.filter((e) => e.eventId.includes('-bg-')).sort((a, b) => a.occurredAt - b.occurredAt);
  const planted = scenario.events.filter((e) => !e.eventId.includes('-bg-'));
  for (let i = 0; i < background.length; i += 8) {
    const block = background.slice(i, i + 8);
    for (let j = block.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [block[j], block[k]] = [block[k], block[j]];
    }
    background.splice(i, block.length, ...block);
  }
  const out: TransactionEvent[] = [];
  let p = 0;
  for (const e of background) {
    out.push(e);
    if (random() < duplicateShare) out.push(e);
    if (p < planted.length && random() < planted.length / Math.max(1, background.length) * 2) out.push(planted[p++]);
  }
  while (p < planted.length) out.push(planted[p++]);
  return out;
}
