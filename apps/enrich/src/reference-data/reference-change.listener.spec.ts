import { EventEmitter } from 'node:events';
import { JsonLogger, PrometheusMetrics } from '@streamguard/common';
import type { ReferenceChange } from './reference-change';
import { ReferenceChangeListener } from './reference-change.listener';

const logger = new JsonLogger('error', { service: 'test' });

/** A pooled connection double: records queries, can fail them, emits notifications and errors. */
class FakeConnection extends EventEmitter {
  readonly queries: string[] = [];
  released: Array<boolean | undefined> = [];
  failQueries = false;
  async query(sql: string): Promise<unknown> {
    this.queries.push(sql);
    if (this.failQueries) throw new Error('Connection terminated');
    return {};
  }
  release(destroy?: boolean): void {
    this.released.push(destroy);
  }
  notify(payload: string, channel = 'streamguard_reference'): void {
    this.emit('notification', { channel, payload });
  }
}

function setup(connectResults: Array<FakeConnection | Error>) {
  const changes: Array<ReferenceChange | 'all'> = [];
  const db = {
    connect: jest.fn(async () => {
      const next = connectResults.shift();
      if (!next || next instanceof Error) throw next ?? new Error('no more connections');
      return next;
    }),
  };
  const listener = new ReferenceChangeListener(db as never, (change) => changes.push(change), logger, new PrometheusMetrics('test'), 1_000, 500);
  return { changes, db, listener };
}

describe('ReferenceChangeListener', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('LISTENs, forgets everything once listening, then forwards each parsed change', async () => {
    const connection = new FakeConnection();
    const { changes, listener } = setup([connection]);
    listener.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.queries).toEqual(['LISTEN streamguard_reference']);
    expect(listener.isListening()).toBe(true);
    connection.notify('accounts:acme:acc-1');
    connection.notify('blocklist:*');
    connection.notify('something else');
    connection.notify('accounts:acme:acc-2', 'other_channel');
    expect(changes).toEqual(['all', { table: 'accounts', account: { tenantId: 'acme', accountId: 'acc-1' } }, { table: 'blocklist', key: null }, 'all']);
    await listener.stop();
  });

  it('on a connection error: destroys it, forgets everything, drops caches every poll while down, and reconnects', async () => {
    const first = new FakeConnection();
    const second = new FakeConnection();
    const { changes, db, listener } = setup([first, new Error('ECONNREFUSED'), second]);
    listener.start();
    await jest.advanceTimersByTimeAsync(0);
    changes.length = 0;

    first.emit('error', new Error('Connection terminated unexpectedly'));
    expect(first.released).toEqual([true]);
    expect(changes).toEqual(['all']);
    expect(listener.isListening()).toBe(false);

    await jest.advanceTimersByTimeAsync(500); // reconnect attempt 1: refused
    expect(db.connect).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(500); // poll while down (1 000 ms) + reconnect attempt 2: works
    expect(db.connect).toHaveBeenCalledTimes(3);
    expect(listener.isListening()).toBe(true);
    expect(changes).toEqual(['all', 'all', 'all']); // lost, poll while down, listening again
    await listener.stop();
  });

  it('notices a silently dead connection with the poll query', async () => {
    const first = new FakeConnection();
    const second = new FakeConnection();
    const { changes, listener } = setup([first, second]);
    listener.start();
    await jest.advanceTimersByTimeAsync(0);
    first.failQueries = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(first.queries.at(-1)).toBe('SELECT 1');
    expect(first.released).toEqual([true]);
    await jest.advanceTimersByTimeAsync(500);
    expect(listener.isListening()).toBe(true);
    expect(changes.filter((c) => c === 'all')).toHaveLength(3); // listening, lost, listening again
    await listener.stop();
  });

  it('stop() UNLISTENs and returns the connection to the pool', async () => {
    const connection = new FakeConnection();
    const { listener } = setup([connection]);
    listener.start();
    await jest.advanceTimersByTimeAsync(0);
    await listener.stop();
    expect(connection.queries.at(-1)).toBe('UNLISTEN streamguard_reference');
    expect(connection.released).toEqual([undefined]);
  });
});
