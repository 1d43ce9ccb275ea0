import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AggregateResultMessage, DATABASE, Database, parseLimit, parseTimeParam, rejectUnknownParams } from '@streamguard/common';
import { WindowResultsRepository } from './window-results.repository';

/** `GET /v1/aggregates?accountId=&definition=&groupKey=&from=&to=&limit=`: window results, newest window first. */
@Controller('v1/aggregates')
export class AggregatesController {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(WindowResultsRepository) private readonly repository: WindowResultsRepository,
  ) {}

  @Get()
  async list(@Query() query: Record<string, string | undefined>): Promise<{ aggregates: AggregateResultMessage[] }> {
    rejectUnknownParams(query, ['accountId', 'definition', 'groupKey', 'from', 'to', 'limit']);
    const aggregates = await this.repository.find(this.db, {
      accountId: query.accountId, definition: query.definition, groupKey: query.groupKey,
      from: parseTimeParam('from', query.from), to: parseTimeParam('to', query.to), limit: parseLimit(query.limit),
    });
    return { aggregates };
  }
}
