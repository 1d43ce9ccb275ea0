/**
 * Barrier events: one per partition, sent after everything else. Kafka keeps order within a partition, and
 * every stage processes a partition in order, so once a stage has handled the barrier of every partition it
 * has handled every earlier event: "nothing more will come" becomes a condition to wait for, not a sleep.
 */
import { partitionForKey } from '@streamguard/common';

/** One account id per partition, each hashing to its partition. */
export function barrierAccounts(prefix: string, partitions: number): string[] {
  const accounts: string[] = [];
  for (let p = 0; p < partitions; p++) {
    let i = 0;
    while (partitionForKey(`${prefix}-barrier-${p}-${i}`, partitions) !== p) i++;
    accounts.push(`${prefix}-barrier-${p}-${i}`);
  }
  return accounts;
}
