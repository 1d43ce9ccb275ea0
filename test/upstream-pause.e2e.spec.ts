/**
 * Time flows in-band: with the production defaults (idle rule on after 10 s, 2 s out-of-orderness, the default
 * window definitions including the repartitioned merchant-1h), live traffic at 100 events/s, and one part at a
 * time frozen for 20 s (SIGSTOP: a long GC pause, a stuck rolling deploy, a broker hiccup) — enrich, then
 * aggregate, then the broker — no record is late and every window equals what the acknowledged requests alone
 * say it must be. Then the traffic stops (ingest idle) and the last windows still close, by the progress
 * markers ingest keeps writing.
 *
 * Before progress markers, the enrich pause alone made about a fifth of the events TOO_LATE: the aggregate's
 * idle rule moved the watermark with its own clock while the records waited in events.raw.
 *
 * The oracle is plain arithmetic over the client's own log of acknowledged events (no code of the system).
 */
import { Database, KafkaPort, TopicNames } from '@streamguard/common';
import { AuthHeaders, ServiceStack } from './support/service-stack';
import { collectTopic, createTestTopics, suiteDatabase, testInfra, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const EVENTS_PER_REQUEST = 10;
const REQUEST_EVERY_MS = 100;
const PAUSE_MS = 20_000;

interface SentEvent { eventId: string; occurredAt: number; accountId: string; merchantId: string; amount: number }

/**
 * Live traffic, one request at a time: a request whose outcome is unknown (503, no answer) is sent again,
 * unchanged, until it is acknowledged, and only then the next one. So acknowledged event times never go
 * backwards beyond one request, and every event the log lists was acknowledged at least once.
 */
class LiveTraffic {
  readonly acknowledged: SentEvent[] = [];
  private seq = 0;
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly ingestUrl: string, private readonly auth: AuthHeaders, private readonly accounts: string[], private readonly merchants: string[]) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the request in flight is acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let due = Date.now();
    while (this.running) {
      due = Math.max(due + REQUEST_EVERY_MS, Date.now());
      const events = Array.from({ length: EVENTS_PER_REQUEST }, (): SentEvent => {
        const n = this.seq++;
        return { eventId: `live-${n}`, occurredAt: Date.now(), accountId: this.accounts[n % this.accounts.length], merchantId: this.merchants[n % this.merchants.length], amount: 1 + (n % 97) };
      });
      await this.sendUntilAcknowledged(events);
      this.acknowledged.push(...events);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  }

  private async sendUntilAcknowledged(events: SentEvent[]): Promise<void> {
    const body = JSON.stringify(events.map((e) => ({ ...e, currency: 'USD' })));
    const giveUpAt = Date.now() + 120_000;
    for (;;) {
      const status = await fetch(`${this.ingestUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...this.auth }, body, signal: AbortSignal.timeout(15_000) })
        .then((r) => r.status, () => 0);
      if (status === 202) return;
      if (status !== 503 && status !== 0) throw new Error(`ingest answered ${status} to a valid request`);
      if (Date.now() > giveUpAt) throw new Error('a request was not acknowledged within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The fault: the process frozen for `ms`, then thawed (also if the test fails meanwhile). */
async function freeze(pid: number, ms: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

type Totals = Map<string, { count: number; sum: number; max: number }>;

/** Per group and tumbling window: count, sum and max of the amounts (USD, so amountUsd = amount). */
function oracle(events: SentEvent[], groupOf: (e: SentEvent) => string, sizeMs: number): Totals {
  const unique = new Map(events.map((e) => [e.eventId, e]));
  const totals: Totals = new Map();
  for (const e of unique.values()) {
    const key = `${groupOf(e)}@${Math.floor(e.occurredAt / sizeMs) * sizeMs}`;
    const t = totals.get(key) ?? { count: 0, sum: 0, max: -Infinity };
    totals.set(key, { count: t.count + 1, sum: t.sum + e.amount, max: Math.max(t.max, e.amount) });
  }
  return totals;
}

describe('upstream pauses on the default configuration (in-band time)', () => {
  let kafka: KafkaPort;
  let topics: TopicNames;
  let stack: ServiceStack;
  const db: Database = suiteDatabase();

  beforeAll(async () => {
    kafka = testKafka();
    topics = await createTestTopics(kafka, 3);
    // No setting changed: the production defaults are what this test is about.
    stack = await new ServiceStack({ topics }).start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('enrich, aggregate and the broker frozen 20 s each: no late record, every window as the oracle says, and the last ones close once ingest is idle', async () => {
    const brokerPid = testInfra().brokerPid;
    if (brokerPid === undefined) throw new Error('this test pauses the test broker: it needs the broker started by the global setup (no KAFKA_BROKERS)');
    const accounts = Array.from({ length: 6 }, (_, i) => `${uniqueName('pause')}-${i}`);
    const merchants = [uniqueName('mer'), uniqueName('mer')];
    const late = await collectTopic(kafka, topics.late);
    const traffic = new LiveTraffic(stack.url('ingest'), stack.auth, accounts, merchants);
    const acknowledgedAtLeast = (n: number) => waitFor(`${n} events acknowledged`, () => traffic.acknowledged.length >= n || undefined, 120_000, 50);
    traffic.start();
    try {
      for (const part of ['enrich', 'aggregate', 'broker'] as const) {
        await acknowledgedAtLeast(traffic.acknowledged.length + 300); // a few seconds of traffic first
        // Each freeze spans the end of a minute: the account-1m windows that end meanwhile are the ones a
        // clock-driven idle rule closed while their last records were still held up (measured: 1,200 late).
        await waitFor('second 48 of a minute', () => Date.now() % 60_000 >= 48_000 || undefined, 70_000, 20);
        await freeze(part === 'broker' ? brokerPid : stack.get(part).process.pid!, PAUSE_MS);
      }
      await acknowledgedAtLeast(traffic.acknowledged.length + 300);
      // Stop a few seconds before a minute ends: the last account-1m windows then close soon after the idle timeout.
      await waitFor('a few seconds before the end of a minute', () => Date.now() % 60_000 >= 52_000 || undefined, 70_000, 20);
    } finally {
      await traffic.stop();
    }

    try {
      const expectedAccounts = oracle(traffic.acknowledged, (e) => e.accountId, 60_000);
      const expectedMerchants = oracle(traffic.acknowledged, (e) => e.merchantId, 3_600_000);
      // Ingest idle from here: only its progress markers move time on, and every account window must close.
      const windows = await waitFor('every account-1m window final', async () => {
        const { rows } = await db.query<{ account: string; start: Date; count: string; sum: number; max: number; final: boolean }>(
          `SELECT group_fields->>'accountId' AS account, window_start AS start, event_count AS count, (agg_values->>'sumUsd')::float8 AS sum,
                  (agg_values->>'maxUsd')::float8 AS max, is_final AS final
             FROM window_results WHERE tenant_id = $1 AND definition = 'account-1m'`, [stack.tenant]);
        return rows.length === expectedAccounts.size && rows.every((r) => r.final) ? rows : undefined;
      }, 90_000, 500);
      const actualAccounts: Totals = new Map(windows.map((r) => [`${r.account}@${r.start.getTime()}`, { count: Number(r.count), sum: r.sum, max: r.max }]));
      expect(actualAccounts).toEqual(expectedAccounts);

      // merchant-1h (repartitioned, emit update): the latest result of each window holds every event.
      const merchantWindows = await waitFor('merchant-1h windows hold every event', async () => {
        const { rows } = await db.query<{ merchant: string; start: Date; count: string; sum: number }>(
          `SELECT group_fields->>'merchantId' AS merchant, window_start AS start, event_count AS count, (agg_values->>'sumUsd')::float8 AS sum
             FROM window_results WHERE tenant_id = $1 AND definition = 'merchant-1h'`, [stack.tenant]);
        const total = rows.reduce((s, r) => s + Number(r.count), 0);
        return total === traffic.acknowledged.length ? rows : undefined;
      }, 60_000, 500);
      expect(new Map(merchantWindows.map((r) => [`${r.merchant}@${r.start.getTime()}`, { count: Number(r.count), sum: r.sum }])))
        .toEqual(new Map([...expectedMerchants].map(([k, v]) => [k, { count: v.count, sum: v.sum }])));

      // Not one record late: every window above is complete, and events.late holds nothing.
      expect(late.records.map((r) => r.value?.toString().slice(0, 200))).toEqual([]);
    } finally {
      await late.stop();
    }
  }, 480_000);
});
