import { Controller, Get, Inject, Query } from '@nestjs/common';
import {
  AggregateResultMessage, AuthenticatedCaller, Caller, DATABASE, Database, parseLimit, parseTimeParam, rejectUnknownParams, RequireScope,
} from '@streamguard/common';
import { WindowResultsRepository } from './window-results.repository';

/**
 * `GET /v1/aggregates?accountId=&definition=&groupKey=&from=&to=&limit=`: window results of the caller's tenant
 * (always its own, platform keys included), newest window first. Needs `read`.
 */
@Controller('v1/aggregates')
export class AggregatesController {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(WindowResultsRepository) private readonly repository: WindowResultsRepository,
  ) {}

  @Get()
  @RequireScope('read')
  async list(@Query() query: Record<string, string | undefined>, @Caller() caller: AuthenticatedCaller): Promise<{ aggregates: AggregateResultMessage[] }> {
    rejectUnknownParams(query, ['accountId', 'definition', 'groupKey', 'from', 'to', 'limit']);
    const aggregates = await this.repository.find(this.db, {
      tenantId: caller.tenantId, accountId: query.accountId, definition: query.definition, groupKey: query.groupKey,
      from: parseTimeParam('from', query.from), to: parseTimeParam('to', query.to), limit: parseLimit(query.limit),
    });
    return { aggregates };
  }
}
