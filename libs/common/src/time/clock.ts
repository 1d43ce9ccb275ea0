// One Clock for the whole code base: the stream core defines it, services inject it.
export { systemClock, ManualClock } from '@streamguard/stream-core';
export type { Clock } from '@streamguard/stream-core';
