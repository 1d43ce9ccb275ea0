/**
 * Fields every log line carries while a piece of work runs (e.g. the topic, partition and first offset of the
 * batch a handler processes), without passing a logger around: AsyncLocalStorage follows the work across awaits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, work);
}

export function currentLogContext(): Record<string, unknown> | undefined {
  return storage.getStore();
}
