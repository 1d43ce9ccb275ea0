import type { KafkaPort, OutboundRecord, RecordProducer, TransactionEvent } from '@streamguard/common';
import { KafkaEventPublisher } from './event-publisher';

/** A producer whose writes wait until the test settles them. */
class ManualProducer implements RecordProducer {
  readonly writes: Array<{ records: OutboundRecord[]; settle: (error?: Error) => void }> = [];
  send(records: OutboundRecord[]): Promise<void> {
    return new Promise((resolve, reject) => this.writes.push({ records, settle: (error) => (error ? reject(error) : resolve()) }));
  }
  isConnected(): boolean {
    return true;
  }
  async disconnect(): Promise<void> {}
}

function setup(lanes: number) {
  const producers: ManualProducer[] = [];
  const kafka = { producer: async () => { const p = new ManualProducer(); producers.push(p); return p; } } as unknown as KafkaPort;
  const publisher = new KafkaEventPublisher(kafka, 'events.raw', lanes);
  return { publisher, producers };
}

const event = (id: string): TransactionEvent => ({ eventId: id, accountId: `acc-${id}` }) as unknown as TransactionEvent;
const settledWith = (promise: Promise<void>) => promise.then(() => 'ok', (error: Error) => error.message);
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('KafkaEventPublisher lanes', () => {
  it('sends concurrent requests through different producers, and queued ones together through the least busy', async () => {
    const { publisher, producers } = setup(2);
    await publisher.connect();
    const first = publisher.publish([event('a')], 'demo', 1);
    const second = publisher.publish([event('b')], 'demo', 1);
    await flush();
    expect(producers.map((p) => p.writes.map((w) => w.records.map((r) => r.key)))).toEqual([[['acc-a']], [['acc-b']]]);
    const third = publisher.publish([event('c')], 'demo', 1);
    const fourth = publisher.publish([event('d'), event('e')], 'demo', 1);
    producers[1].writes[0].settle();
    await flush();
    expect(await settledWith(second)).toBe('ok');
    // c queued behind lane 0's write, d+e behind lane 1's (idle again, so its queue is shorter): each lane's next write
    expect(producers[1].writes[1]?.records.map((r) => r.key)).toEqual(['acc-d', 'acc-e']);
    producers[0].writes[0].settle(new Error('broker gone'));
    await flush();
    expect(await settledWith(first)).toBe('broker gone'); // a failed write fails only the requests it carried
    producers[1].writes[1].settle();
    expect(await settledWith(fourth)).toBe('ok');
    await flush();
    // Lane 0 dropped its failed producer: its next write (c) goes through a fresh one.
    expect(producers).toHaveLength(3);
    expect(producers[2].writes.map((w) => w.records.map((r) => r.key))).toEqual([['acc-c']]);
    producers[2].writes[0].settle();
    expect(await settledWith(third)).toBe('ok');
  });

  it('uses one producer while it keeps up (a single lane groups everything)', async () => {
    const { publisher, producers } = setup(1);
    await publisher.connect();
    const requests = ['a', 'b', 'c'].map((id) => publisher.publish([event(id)], 'demo', 1));
    await flush();
    producers[0].writes[0].settle();
    await flush();
    expect(producers[0].writes.map((w) => w.records.map((r) => r.key))).toEqual([['acc-a'], ['acc-b', 'acc-c']]);
    producers[0].writes[1].settle();
    expect(await Promise.all(requests.map(settledWith))).toEqual(['ok', 'ok', 'ok']);
  });
});
