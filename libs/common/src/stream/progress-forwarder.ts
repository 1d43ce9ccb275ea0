/**
 * The forwarding half of in-band time for a stateless stage (enrich, the shuffle): per input partition, the
 * progress learnt from the markers read there (SourceProgress), and the markers that pass it on to every
 * partition of the output topic, behind the outputs of the records read before them (they are appended to the
 * same Kafka transaction, after the batch's outputs). Output records of one input partition can land in any
 * output partition, so each output partition hears from every input partition (a fixed family of `of` = the
 * input's partition count) and takes the minimum.
 *
 * Forwarding is throttled in marker time (at most one per FORWARD_INTERVAL_MS of progress per input partition),
 * so a stage catching up on a backlog forwards as densely as one that is live. What was forwarded is remembered
 * only once the transaction committed ({@link committed}); a rolled-back batch is simply read again.
 */
import { SourceProgress, type ProgressMarker } from '@streamguard/stream-core';
import type { InboundRecord, KafkaAdminPort, OutboundRecord } from '../kafka/kafka.port';
import { decodeProgressMarker, progressMarkerRecord } from '../contracts/progress-marker-record';

/** Least progress (ms of marker time) between two forwarded markers of one input partition. */
export const FORWARD_INTERVAL_MS = 1_000;

export interface ProgressForwarderOptions {
  /** Where the stage's outputs go; every partition of it gets the markers. */
  outputTopic: string;
  /** For an open family of sources (ingest instances) on the input: see SourceProgress. */
  sourceTimeoutMs: number;
}

interface InputPartitionProgress {
  sources: SourceProgress;
  /** Last forwarded (committed) progress. */
  forwarded?: number;
}

export class ProgressForwarder {
  private readonly partitions = new Map<string, InputPartitionProgress>();
  private readonly partitionCounts = new Map<string, Promise<number>>();

  constructor(private readonly options: ProgressForwarderOptions, private readonly admin: () => Promise<KafkaAdminPort>) {}

  /** Whether the partition's progress is being learnt already (else call {@link startsAtLogStart} first, if so). */
  knows(topic: string, partition: number): boolean {
    return this.partitions.has(`${topic}-${partition}`);
  }

  /** The partition is read from its log start: every marker ever written there will be read (no warm-up). */
  startsAtLogStart(topic: string, partition: number): void {
    this.stateOf(topic, partition).sources.readsWholeLog();
  }

  /**
   * Reads the batch's markers (throws PoisonRecordError through `onPoison` for a malformed one) and returns the
   * markers to append to the batch's outputs, with the progress they carry (pass it to {@link committed}).
   */
  async forward(topic: string, partition: number, markers: InboundRecord[], onPoison: (record: InboundRecord, error: Error) => void): Promise<{ records: OutboundRecord[]; time?: number }> {
    const state = this.stateOf(topic, partition);
    for (const record of markers) {
      let marker: ProgressMarker;
      try {
        marker = decodeProgressMarker(record);
      } catch (error) {
        onPoison(record, error as Error);
        continue;
      }
      state.sources.observe(marker);
    }
    const time = state.sources.time;
    if (time === undefined || (state.forwarded !== undefined && time < state.forwarded + FORWARD_INTERVAL_MS)) return { records: [] };
    const [inputPartitions, outputPartitions] = await Promise.all([this.partitionCount(topic), this.partitionCount(this.options.outputTopic)]);
    const marker: ProgressMarker = { source: `${topic}/${partition}`, time, of: inputPartitions };
    const records = Array.from({ length: outputPartitions }, (_, p) => progressMarkerRecord(this.options.outputTopic, p, marker));
    return { records, time };
  }

  /** The batch that carried `time` committed. */
  committed(topic: string, partition: number, time: number | undefined): void {
    if (time !== undefined) this.stateOf(topic, partition).forwarded = time;
  }

  /** The partition moved away (or its batch failed for good): its progress is learnt afresh. */
  forget(topic: string, partition: number): void {
    this.partitions.delete(`${topic}-${partition}`);
  }

  private stateOf(topic: string, partition: number): InputPartitionProgress {
    const key = `${topic}-${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { sources: new SourceProgress(this.options.sourceTimeoutMs) };
      this.partitions.set(key, state);
    }
    return state;
  }

  /** Partition counts do not change under a running stage (the input partition guard refuses that). */
  private partitionCount(topic: string): Promise<number> {
    let count = this.partitionCounts.get(topic);
    if (!count) {
      count = this.admin().then((admin) => admin.partitionCount(topic));
      count.catch(() => this.partitionCounts.delete(topic));
      this.partitionCounts.set(topic, count);
    }
    return count;
  }
}
