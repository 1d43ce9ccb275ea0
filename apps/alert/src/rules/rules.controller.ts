import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiError, AuthenticatedCaller, Caller, RequireScope } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import { canSeeRule, decideRuleChange, tenantOfNewRule } from './rule-access';
import { LoadedRule, RuleSet } from './rule-set';
import { RulesRepository } from './rules.repository';

/** Omit on each member of a union (a plain Omit would merge the rule types into one). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A rule as the API shows it: the definition plus its owner, `tenantId` (null: a global rule). */
export type RuleView = OmitEach<RuleDefinition, 'tenantId'> & { tenantId: string | null };

/**
 * `/v1/rules`: rules are data. Every change bumps the rule's version and reaches every alert instance
 * within about a second (LISTEN/NOTIFY); alerts record the version that fired.
 *
 * Every route needs an `admin` key. Tenants see the global rules and their own and manage their own (see
 * rule-access.ts); the platform tenant manages all. The owner comes from the API key, never from the body.
 * Rule ids are unique across all tenants: tenants should prefix theirs (`acme.velocity`).
 */
@Controller('v1/rules')
@RequireScope('admin')
export class RulesController {
  constructor(@Inject(RulesRepository) private readonly rules: RulesRepository, @Inject(RuleSet) private readonly ruleSet: RuleSet) {}

  /** The rules the caller can see, by id. */
  @Get()
  async list(@Caller() caller: AuthenticatedCaller): Promise<{ rules: RuleView[] }> {
    const rules = await this.rules.loadAll();
    return { rules: rules.filter((r) => canSeeRule(caller, r)).map(toView) };
  }

  /** The rules this instance has loaded (id, version, status, tenantId) that the caller can see: shows when a change has arrived. */
  @Get('-/loaded')
  loaded(@Caller() caller: AuthenticatedCaller): { generation: number; loadedAt: number; rules: LoadedRule[] } {
    const loaded = this.ruleSet.describe();
    return { ...loaded, rules: loaded.rules.filter((r) => canSeeRule(caller, { tenantId: r.tenantId ?? undefined })) };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Caller() caller: AuthenticatedCaller): Promise<RuleView> {
    const rule = await this.rules.find(id);
    if (!rule || !canSeeRule(caller, rule)) throw notFound(id);
    return toView(rule);
  }

  /** Creates a rule at version 1, owned by the caller's tenant (global when the caller is a platform admin). */
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Caller() caller: AuthenticatedCaller): Promise<RuleView> {
    rejectTenantInBody(body);
    const rule = validated(isObject(body) ? { version: 1, status: 'active', ...body } : body);
    if (rule.version !== 1) throw new ApiError(422, 'INVALID_RULE', 'a new rule starts at version 1; omit "version"');
    const tenantId = tenantOfNewRule(caller);
    if (!(await this.rules.insert(rule, tenantId))) {
      throw new ApiError(409, 'RULE_EXISTS', `rule id ${rule.id} is taken; rule ids are unique across all tenants, so prefix yours (e.g. "${caller.tenantId}.${rule.id}"), or change your own rule with PUT /v1/rules/${rule.id}`);
    }
    return toView({ ...rule, tenantId });
  }

  /** Replaces a rule; the version is the stored one + 1 (a stale `version` in the body is a 409). The owner stays. */
  @Put(':id')
  async replace(@Param('id') id: string, @Body() body: unknown, @Caller() caller: AuthenticatedCaller): Promise<RuleView> {
    if (!isObject(body)) throw new ApiError(422, 'INVALID_RULE', 'the body must be a JSON object');
    rejectTenantInBody(body);
    if (body.id !== undefined && body.id !== id) throw new ApiError(422, 'INVALID_RULE', `body id "${String(body.id)}" differs from the path id "${id}"`);
    // Throwing inside the callback rolls the update back.
    const updated = await this.rules.update(id, (current) => {
      checkMayChange(caller, current, id);
      if (body.version !== undefined && body.version !== current.version) {
        throw new ApiError(409, 'VERSION_CONFLICT', `rule ${id} is at version ${current.version}, not ${String(body.version)}; reload it and retry`);
      }
      return validated({ status: 'active', ...body, id, version: current.version + 1 });
    });
    if (!updated) throw notFound(id);
    return toView(updated);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Caller() caller: AuthenticatedCaller): Promise<void> {
    if (!(await this.rules.delete(id, (current) => checkMayChange(caller, current, id)))) throw notFound(id);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The owner of a rule is the tenant of the API key that creates it: a body cannot name one. */
function rejectTenantInBody(body: unknown): void {
  if (isObject(body) && Object.prototype.hasOwnProperty.call(body, 'tenantId')) {
    const message = 'must not be set: the tenant of a rule comes from the API key (a platform admin key creates global rules)';
    throw new ApiError(422, 'INVALID_RULE', `the rule is invalid: tenantId ${message}`, [{ path: '$.tenantId', message }]);
  }
}

function checkMayChange(caller: AuthenticatedCaller, rule: RuleDefinition, id: string): void {
  switch (decideRuleChange(caller, rule)) {
    case 'allowed':
      return;
    case 'not-found':
      throw notFound(id);
    case 'global-rule':
      throw new ApiError(403, 'GLOBAL_RULE', `rule ${id} is a global rule: global rules are managed by the platform tenant`);
  }
}

function validated(input: unknown): RuleDefinition {
  const result = validateRule(input);
  if (!result.ok) throw new ApiError(422, 'INVALID_RULE', `the rule is invalid: ${result.errors.map((e) => `${e.path || 'rule'} ${e.message}`).join('; ')}`, result.errors);
  return result.rule;
}

function toView(rule: RuleDefinition): RuleView {
  return { ...rule, tenantId: rule.tenantId ?? null } as RuleView;
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'RULE_NOT_FOUND', `no rule with id ${id}`);
}
