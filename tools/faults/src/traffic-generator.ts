/**
 * Sequenced traffic through the real ingest endpoint: unique event ids `<run>-<seq>`, event time advancing
 * by a fixed step per event (so windows close as the stream advances, independent of wall-clock pauses
 * during faults), few accounts (velocity fires every event-minute per account), a planted large amount
 * every `largeEvery` events, and every `invalidEvery`-th request carrying one invalid event (the whole
 * request must be rejected and none of its events may appear anywhere).
 *
 * Requests go one at a time in small NDJSON batches at a bounded rate. An unknown outcome is retried with
 * the same events until a definite answer or the retry deadline; each attempt is logged.
 */
import type { TransactionEvent } from '@streamguard/common';
import { classifyResponse, RequestLog } from './request-log';

export interface TrafficOptions {
  runId: string;
  ingestUrl: string;
  /** An API key with the `ingest` scope. */
  apiKey: string;
  accounts: number;
  /** Event time of sequence number 0 (epoch ms). */
  startTime: number;
  eventTimeStepMs: number;
  batchSize: number;
  eventsPerSecond: number;
  largeEvery: number;
  invalidEvery: number;
  requestTimeoutMs: number;
  /** Give up retrying one request after this long (its events stay "unknown"). */
  retryDeadlineMs: number;
}

/** Deterministic pseudo-random numbers (same generator as the scenario tool), so runs are reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function accountId(runId: string, index: number): string {
  return `${runId}-acc-${index}`;
}

export class TrafficGenerator {
  readonly log = new RequestLog();
  private seq = 0;
  private requestId = 0;
  private stopping = false;
  private running?: Promise<void>;
  private readonly random: () => number;
  private lastEventTime = 0;
  private startedAt = Date.now();

  constructor(private readonly options: TrafficOptions) {
    this.random = prng(0x5eed ^ options.runId.length);
  }

  /** Event time of the newest generated event. */
  maxEventTime(): number {
    return this.lastEventTime;
  }

  start(): void {
    this.running = this.loop();
  }

  /** Stops after the request in flight has a final outcome. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private nextEvent(): TransactionEvent {
    const { runId, accounts, startTime, eventTimeStepMs, largeEvery } = this.options;
    const seq = this.seq++;
    const occurredAt = startTime + seq * eventTimeStepMs;
    this.lastEventTime = occurredAt;
    const amount = seq % largeEvery === largeEvery - 1 ? 12_000 + (seq % 1000) : 5 + Math.floor(this.random() * 495);
    return { eventId: `${runId}-${seq}`, occurredAt, accountId: accountId(runId, seq % accounts), amount, currency: 'USD', merchantId: 'mer-1' };
  }

  private async loop(): Promise<void> {
    const { batchSize, eventsPerSecond, invalidEvery } = this.options;
    let generated = 0;
    while (!this.stopping) {
      const events = Array.from({ length: batchSize }, () => this.nextEvent());
      const request = ++this.requestId;
      if (request % invalidEvery === 0) events[events.length - 1] = { ...events[events.length - 1], amount: -1 };
      await this.send(events, request);
      generated += events.length;
      // Pacing only (never for correctness): keep the average rate at eventsPerSecond.
      // After an outage, resume at the normal rate instead of bursting to catch up.
      const due = this.startedAt + (generated / eventsPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -1_000) this.startedAt -= wait;
    }
  }

  /** Sends one request, retrying unknown outcomes; resolves with the final outcome. */
  async send(events: TransactionEvent[], request = ++this.requestId): Promise<'acknowledged' | 'rejected' | 'unknown'> {
    const { ingestUrl, requestTimeoutMs, retryDeadlineMs } = this.options;
    const body = events.map((e) => JSON.stringify(e)).join('\n');
    const eventIds = events.map((e) => e.eventId);
    this.log.recordSent(events.map((e) => ({
      eventId: e.eventId, occurredAt: Number(e.occurredAt), accountId: e.accountId, amount: e.amount, currency: e.currency, merchantId: String(e.merchantId),
    })));
    const deadline = Date.now() + retryDeadlineMs;
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      let status = 0;
      let detail = '';
      try {
        const response = await fetch(`${ingestUrl}/v1/events`, {
          method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${this.options.apiKey}` }, body, signal: AbortSignal.timeout(requestTimeoutMs),
        });
        status = response.status;
        const text = await response.text();
        detail = status === 202 ? '' : (safeJson(text) as { error?: { code?: string } } | undefined)?.error?.code ?? text.slice(0, 80);
      } catch (error) {
        detail = (error as Error).name === 'TimeoutError' ? 'client timeout' : String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
      }
      const outcome = classifyResponse(status);
      this.log.record({ requestId: request, attempt, eventIds, outcome, status, detail, startedAt, durationMs: Date.now() - startedAt });
      if (outcome !== 'unknown' || Date.now() > deadline) return outcome;
      await sleep(Math.min(2_000, 200 * attempt));
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
