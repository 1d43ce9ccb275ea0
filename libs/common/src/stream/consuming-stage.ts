/**
 * A consuming stage as the Nest transport (nest/stage-transport.ts) sees it: which handler pattern it serves,
 * and a runtime that drives it — partition assignment, restore, fencing, ticks, commits, the outbox. The
 * runtime calls the handler with one partition's batch and takes back what the handler returns (outputs for a
 * transform stage, a StageOutput for a stateful one). Framework-free: the transport is the only Nest part.
 */

/** The partition a batch comes from, handed to the handler as its context. */
export interface PartitionInfo {
  topic: string;
  partition: number;
  /** Offset of the batch's first record (for logs). */
  firstOffset: string;
  records: number;
  /** A stateful stage's per-partition state (its processor, restored from Postgres); undefined otherwise. */
  state?: unknown;
}

/** Runs the handler registered for a stage's pattern on one batch. */
export type StageHandler = (payload: unknown, partition: PartitionInfo) => Promise<unknown>;

export interface ConsumingStage {
  /** The `@EventPattern` of its handler: the input topic's default name (`events.raw`), `…:<stage>` for a second group on one topic. */
  readonly pattern: string;
  /** Starts consuming in the background (retrying until Kafka and Postgres are reachable). */
  start(handle: StageHandler): void;
  isReady(): boolean;
  /** Orderly: stop fetching, finish and commit the in-flight batch, leave the group. */
  stop(): Promise<void>;
}

interface StageRuntime {
  start(): void;
  isReady(): boolean;
  stop(): Promise<void>;
}

/** A ConsumingStage whose runtime is built once the handler is known (TransformStageRunner, StatefulStageRunner). */
export class HandledStage implements ConsumingStage {
  private runtime?: StageRuntime;

  constructor(readonly pattern: string, private readonly build: (handle: StageHandler) => StageRuntime) {}

  start(handle: StageHandler): void {
    this.runtime ??= this.build(handle);
    this.runtime.start();
  }

  isReady(): boolean {
    return this.runtime?.isReady() ?? false;
  }

  async stop(): Promise<void> {
    await this.runtime?.stop();
  }
}
