import { Inject, Injectable } from '@nestjs/common';
import { Clock, CLOCK, DecodedRecord, LOGGER, Logger, METRICS, Metrics, OutboundRecord, TransformResult } from '@streamguard/common';
import { EnrichedInput, EventRepartitioner } from './event-repartitioner';

/** Metric prefix of the repartition stage: its records are also processed by the co-partitioned stage, so not `aggregate_`. */
export const REPARTITION_SERVICE = 'aggregate_repartition';

/** Stage 1 of the shuffle, per batch: each event re-keyed by `<definition>|<groupKey>` (see EventRepartitioner). */
@Injectable()
export class RepartitionService {
  private readonly skipped;

  constructor(
    private readonly repartitioner: EventRepartitioner,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.skipped = metrics.counter(`${REPARTITION_SERVICE}_records_skipped_total`,
      'Records not repartitioned because the co-partitioned stage dead-letters or reports them (undecodable, invalid, future_ts).', ['reason']);
  }

  repartition(records: DecodedRecord<EnrichedInput>[]): TransformResult {
    const now = this.clock.now();
    const outputs: OutboundRecord[] = [];
    const rejected: Array<{ offset: string; error: Error }> = [];
    for (const { value: input } of records) {
      const outcome = this.repartitioner.route(input, now);
      outputs.push(...outcome.outputs);
      if (outcome.rejected) rejected.push({ offset: input.record.offset, error: outcome.rejected });
      if (outcome.skipped) {
        this.skipped.inc({ reason: outcome.skipped });
        this.logger.debug('record left to the co-partitioned stage', {
          topic: input.record.topic, partition: input.record.partition, offset: input.record.offset, reason: outcome.skipped,
        });
      }
    }
    return { outputs, rejected };
  }
}
