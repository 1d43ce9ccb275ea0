import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DecodedRecord, DEFAULT_TOPICS, PartitionContext, StageController, RawEventMessage, TransformResult } from '@streamguard/common';
import { EnrichmentService } from './enrichment.service';

/** `events.raw` → `events.enriched`: one partition's batch of raw events, enriched (see enrichment.stage.ts for the guarantees). */
@StageController()
export class EnrichmentController {
  constructor(private readonly enrichment: EnrichmentService) {}

  // `<string>`: Nest's typed-event overload would type the context `unknown`.
  @EventPattern<string>(DEFAULT_TOPICS.raw)
  enrich(@Payload() events: DecodedRecord<RawEventMessage>[], @Ctx() _context: PartitionContext): Promise<TransformResult> {
    return this.enrichment.enrich(events);
  }
}
