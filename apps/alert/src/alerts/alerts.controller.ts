import { Controller, Get, Inject, Query } from '@nestjs/common';
import { AlertMessage, DATABASE, Database, parseLimit, parseTimeParam, rejectUnknownParams } from '@streamguard/common';
import { AlertsRepository } from './alerts.repository';

/** `GET /v1/alerts?accountId=&ruleId=&from=&to=&limit=`: newest first. */
@Controller('v1/alerts')
export class AlertsController {
  constructor(@Inject(DATABASE) private readonly db: Database, @Inject(AlertsRepository) private readonly repository: AlertsRepository) {}

  @Get()
  async list(@Query() query: Record<string, string | undefined>): Promise<{ alerts: AlertMessage[] }> {
    rejectUnknownParams(query, ['accountId', 'ruleId', 'from', 'to', 'limit']);
    const alerts = await this.repository.find(this.db, {
      accountId: query.accountId, ruleId: query.ruleId,
      from: parseTimeParam('from', query.from), to: parseTimeParam('to', query.to), limit: parseLimit(query.limit),
    });
    return { alerts };
  }
}
