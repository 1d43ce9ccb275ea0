import { JsonLogger, KafkaPort, OutboundRecord, PROGRESS_MARKER_HEADER, RecordProducer, TransactionEvent } from '@streamguard/common';
import { ManualClock } from '@streamguard/stream-core';
import { KafkaEventPublisher } from './event-publisher';

/** Records every send; a send waits until the test settles it. */
class ManualProducer implements RecordProducer {
  readonly writes: Array<{ records: OutboundRecord[]; settle: () => void }> = [];
  send(records: OutboundRecord[]): Promise<void> {
    return new Promise((resolve) => this.writes.push({ records, settle: resolve }));
  }
  isConnected(): boolean {
    return true;
  }
  async disconnect(): Promise<void> {}
}

function setup() {
  const producers: ManualProducer[] = [];
  const kafka = {
    producer: async () => { const p = new ManualProducer(); producers.push(p); return p; },
    admin: async () => ({ partitionCount: async () => 3, disconnect: async () => undefined }),
  } as unknown as KafkaPort;
  const clock = new ManualClock(1_000_000);
  // A long interval: the test drives rounds itself (the first round runs at start).
  const publisher = new KafkaEventPublisher(kafka, 'events.raw', 1, { intervalMs: 3_600_000, clock, logger: new JsonLogger('error', { service: 'test' }) });
  return { publisher, producers, clock };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const markersIn = (p: ManualProducer) => p.writes.flatMap((w) => w.records).filter((r) => r.headers?.[PROGRESS_MARKER_HEADER] !== undefined);
const event = { eventId: 'e1', accountId: 'a' } as unknown as TransactionEvent;

describe('ingest progress markers', () => {
  it('marks every partition before the instance\'s first event is written, and events wait for that', async () => {
    const { publisher, producers } = setup();
    await publisher.connect();
    await flush();
    const [markers, lane] = producers; // the marker producer is made first (start), then the lane
    const published = publisher.publish([event], 't', 999_000);
    await flush();
    expect(lane.writes).toHaveLength(0); // waits for the first marker round
    expect(markersIn(markers).map((r) => [r.partition, JSON.parse(String(r.value)).time])).toEqual([[0, 1_000_000], [1, 1_000_000], [2, 1_000_000]]);
    markers.writes[0].settle();
    await flush();
    await flush();
    expect(lane.writes).toHaveLength(1);
    lane.writes[0].settle();
    await published;
    const shutdown = publisher.onApplicationShutdown();
    await flush();
    await flush();
    markers.writes.at(-1)!.settle();
    await shutdown;
    const last = markersIn(markers).at(-1)!;
    expect(JSON.parse(String(last.value))).toMatchObject({ final: true }); // all writes settled: the instance leaves cleanly
  });

  it('marks the receive time of the oldest event Kafka has not settled, not the clock, while one is in flight', async () => {
    const { publisher, producers, clock } = setup();
    await publisher.connect();
    await flush();
    const [markers, lane] = producers;
    markers.writes[0].settle();
    await flush();
    const slow = publisher.publish([event], 't', 1_000_500); // accepted at 1 000 500, not yet acknowledged
    await flush();
    clock.advance(10_000);
    // The next round (its timer, driven by hand): it waits for Kafka, so it is not awaited here.
    void (publisher as unknown as { progress: { tick(): Promise<void> } }).progress.tick();
    await flush();
    await flush();
    expect(JSON.parse(String(markersIn(markers).at(-1)!.value)).time).toBe(1_000_500);
    lane.writes[0].settle();
    await slow;
    markers.writes.at(-1)!.settle();
    await flush();
  });
});
