import { filterAbortedMessages } from './kafkajs-aborted-filter';

// That KafkaJS really uses it at run time (Jest's module registry bypasses require.cache) is checked by
// test/kafkajs-read-committed.int.spec.ts against the compiled build.
const ABORT = new Uint8Array([0, 0, 0, 0]);
const COMMIT = new Uint8Array([0, 0, 0, 1]);
const record = (offset: number, producerId: number, key: Uint8Array | null = null, inTransaction = true) => ({ offset: String(offset), key, batchContext: { producerId: String(producerId), inTransaction } });

describe('filterAbortedMessages (read_committed)', () => {
  // Two producers' transactions interleave in one partition and both abort; the broker lists aborted
  // transactions in the order they ended (A's marker at 13 before B's at 14), though B started first.
  const log = [
    record(10, 2), record(11, 1), record(12, 2), record(13, 1, ABORT), record(14, 2, ABORT),
    record(15, 3), record(16, 3, COMMIT), record(17, 9, null, false),
  ];
  const aborted = [{ firstOffset: '11', producerId: '1' }, { firstOffset: '10', producerId: '2' }];

  it('drops every record of every aborted transaction, however the list is ordered', () => {
    const kept = filterAbortedMessages({ messages: log, abortedTransactions: aborted }).map((m) => m.offset);
    expect(kept).toEqual(['13', '14', '15', '16', '17']); // markers stay (control records are dropped later), committed and plain records stay
  });

  it('keeps everything when nothing was aborted', () => {
    expect(filterAbortedMessages({ messages: log, abortedTransactions: [] })).toHaveLength(log.length);
  });
});
