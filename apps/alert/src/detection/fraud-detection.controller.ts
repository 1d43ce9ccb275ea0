import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DEFAULT_TOPICS, InboundRecord, PartitionContext, StageController, StageOutput } from '@streamguard/common';
import type { RulePartitionProcessor } from './rule-partition.processor';

/** Fraud detection: one partition's batch of enriched events through its rule state (see fraud-detection.stage.ts). */
@StageController()
export class FraudDetectionController {
  // `<string>`: Nest's typed-event overload would type the context `unknown`.
  @EventPattern<string>(DEFAULT_TOPICS.enriched)
  detect(@Payload() events: InboundRecord[], @Ctx() context: PartitionContext<RulePartitionProcessor>): StageOutput {
    return context.state.process(events);
  }
}
