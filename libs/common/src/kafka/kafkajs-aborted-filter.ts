/**
 * Fix for KafkaJS 2.2.4's read_committed filtering (loaded before `kafkajs` by kafkajs-client.ts).
 *
 * A fetch response lists the aborted transactions of the fetched range; the broker orders that list by where
 * each transaction ENDED (its abort marker), not where it started. KafkaJS's `filterAbortedMessages` looks only
 * at the head of the list and activates at most one transaction per message, so when transactions of several
 * producers interleave — several transactional producers writing the same partition and aborted together, as
 * after a crash of a stage or a broker restart — records of an aborted transaction can be delivered to a
 * read_committed consumer. The Java consumer orders the list by first offset and activates every transaction
 * that has started; this does the same.
 */
/** Key of an ABORT control record: version 0, type 0. */
function isAbortMarker(key: Uint8Array | null | undefined): boolean {
  return !!key && key.length === 4 && key[0] === 0 && key[1] === 0 && key[2] === 0 && key[3] === 0;
}

interface FetchedMessage {
  offset: string;
  key?: Uint8Array | null;
  batchContext: { producerId: string | number; inTransaction: boolean };
}
interface AbortedTransaction {
  firstOffset: string;
  producerId: string | number;
}

export function filterAbortedMessages({ messages, abortedTransactions }: { messages: FetchedMessage[]; abortedTransactions?: AbortedTransaction[] }): FetchedMessage[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => {
    const d = BigInt(a.firstOffset) - BigInt(b.firstOffset);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  const aborting = new Set<string>();
  return messages.filter((message) => {
    const offset = BigInt(message.offset);
    while (pending.length > 0 && offset >= BigInt(pending[0].firstOffset)) aborting.add(String(pending.shift()!.producerId));
    const producerId = String(message.batchContext.producerId);
    if (isAbortMarker(message.key)) {
      aborting.delete(producerId); // the transaction ends at its marker (kept: control records are dropped later)
      return true;
    }
    return !(message.batchContext.inTransaction && aborting.has(producerId));
  });
}

/** Puts {@link filterAbortedMessages} in place of KafkaJS's before KafkaJS's consumer code is loaded. */
function install(): void {
  const path = require.resolve('kafkajs/src/consumer/filterAbortedMessages');
  if (require.cache[path]?.loaded && require.cache[path]?.exports === filterAbortedMessages) return;
  const Module = require('node:module') as { new (id: string): NodeJS.Module };
  const replacement = new Module(path);
  replacement.filename = path;
  replacement.loaded = true;
  replacement.exports = filterAbortedMessages;
  require.cache[path] = replacement;
}

install();
