import { Controller, Get, Inject, Query } from '@nestjs/common';
import {
  AlertMessage, AuthenticatedCaller, Caller, DATABASE, Database, parseLimit, parseTimeParam, rejectUnknownParams, RequireScope,
} from '@streamguard/common';
import { AlertsRepository } from './alerts.repository';

/**
 * `GET /v1/alerts?accountId=&ruleId=&from=&to=&limit=`: the alerts of the caller's tenant (always its own,
 * platform keys included; global rules fire per tenant), newest first. Needs `read`.
 */
@Controller('v1/alerts')
export class AlertsController {
  constructor(@Inject(DATABASE) private readonly db: Database, @Inject(AlertsRepository) private readonly repository: AlertsRepository) {}

  @Get()
  @RequireScope('read')
  async list(@Query() query: Record<string, string | undefined>, @Caller() caller: AuthenticatedCaller): Promise<{ alerts: AlertMessage[] }> {
    rejectUnknownParams(query, ['accountId', 'ruleId', 'from', 'to', 'limit']);
    const alerts = await this.repository.find(this.db, {
      tenantId: caller.tenantId, accountId: query.accountId, ruleId: query.ruleId,
      from: parseTimeParam('from', query.from), to: parseTimeParam('to', query.to), limit: parseLimit(query.limit),
    });
    return { alerts };
  }
}
