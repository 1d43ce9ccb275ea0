/**
 * Request bodies for the benchmark, built from the scenario generator's background traffic (amounts,
 * currencies, merchants, channels) with event time = now, so windows close by watermark as in production.
 *
 * Accounts are used round-robin from a pool of `12 × rate` accounts, so no account sees more than 6 events
 * in any minute (the velocity rule's limit is 7). One event in `plantEvery` is a planted large transaction
 * (15 000 USD, over the `large-amount` threshold) on its own account: alerts at a known rate.
 */
import type { RawEventMessage, TransactionEvent } from '@streamguard/common';
import { generateScenario } from '../../scenario/src/scenario';

const TEMPLATES = generateScenario({ seed: 8, runId: 'tpl', startTime: 0, backgroundAccounts: 500, backgroundEvents: 2000 })
  .events.filter((e) => e.eventId.includes('-bg-'));

export class EventFactory {
  private seq = 0;

  constructor(private readonly runId: string, private readonly accounts: number, private readonly plantEvery = 1000) {}

  next(now: number): TransactionEvent {
    const n = this.seq++;
    const template = TEMPLATES[n % TEMPLATES.length];
    if (n % this.plantEvery === this.plantEvery - 1) {
      return { ...template, eventId: `${this.runId}-${n}`, occurredAt: now, accountId: `${this.runId}-large-${n}`, amount: 15_000, currency: 'USD' };
    }
    return { ...template, eventId: `${this.runId}-${n}`, occurredAt: now, accountId: `${this.runId}-acc-${n % this.accounts}` };
  }

  /** A JSON array (or, for one event, a JSON object) of `size` events, as a request body. */
  body(size: number): string {
    const now = Date.now();
    if (size === 1) return JSON.stringify(this.next(now));
    return JSON.stringify(Array.from({ length: size }, () => this.next(now)));
  }

  get produced(): number {
    return this.seq;
  }
}

/** Average size in bytes of an `events.raw` record value (the record size for Kafka's producer perf tool). */
export function averageRawRecordBytes(): number {
  const factory = new EventFactory('bench-size-0000', 1000);
  const samples = 1000;
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const message: RawEventMessage = { schemaVersion: 1, tenantId: 'bench', ...factory.next(Date.now()), receivedAt: Date.now() };
    total += Buffer.byteLength(JSON.stringify(message));
  }
  return Math.round(total / samples);
}
