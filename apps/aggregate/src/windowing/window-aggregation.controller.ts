import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DecodedRecord, DEFAULT_TOPICS, InboundRecord, PartitionContext, StageController, StageOutput, TransformResult } from '@streamguard/common';
import type { EnrichedInput } from '../repartition/event-repartitioner';
import { RepartitionService } from '../repartition/repartition.service';
import { REPARTITION_PATTERN } from './window-aggregation.stages';
import type { WindowPartitionProcessor } from './window-partition.processor';

/**
 * Event-time windows, in up to three stages (window-aggregation.stages.ts): windows of co-partitioned
 * definitions on `events.enriched`, the shuffle (stage 1) and windows of the shuffled definitions on
 * `events.repartition` (stage 2). `<string>`: Nest's typed-event overload would type the context `unknown`.
 */
@StageController()
export class WindowAggregationController {
  constructor(private readonly repartitioning: RepartitionService) {}

  @EventPattern<string>(DEFAULT_TOPICS.enriched)
  aggregate(@Payload() events: InboundRecord[], @Ctx() context: PartitionContext<WindowPartitionProcessor>): StageOutput {
    return context.state.process(events);
  }

  @EventPattern<string>(REPARTITION_PATTERN)
  repartition(@Payload() events: DecodedRecord<EnrichedInput>[], @Ctx() _context: PartitionContext): TransformResult {
    return this.repartitioning.repartition(events);
  }

  @EventPattern<string>(DEFAULT_TOPICS.repartition)
  aggregateRepartitioned(@Payload() events: InboundRecord[], @Ctx() context: PartitionContext<WindowPartitionProcessor>): StageOutput {
    return context.state.process(events);
  }
}
