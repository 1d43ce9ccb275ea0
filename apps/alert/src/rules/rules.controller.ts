import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiError, AuthenticatedCaller, Caller, isPlatformAdmin, rejectUnknownParams, RequireScope, TENANT_ID_PATTERN } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import { canSeeRule, decideRuleChange, tenantOfNewRule } from './rule-access';
import { LoadedRule, RuleSet } from './rule-set';
import { RuleInsertRefusal, RulesRepository } from './rules.repository';
import { TENANT_RULE_LIMITS, TenantRuleLimits, tenantRuleLimitErrors } from './tenant-rule-limits';

/** Omit on each member of a union (a plain Omit would merge the rule types into one). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A rule as the API shows it: the definition plus its owner, `tenantId` (null: a global rule). */
export type RuleView = OmitEach<RuleDefinition, 'tenantId'> & { tenantId: string | null };

/**
 * What `GET /v1/rules/-/loaded` answers: the loaded rules the caller can see and their `signature`. Only a
 * platform admin also gets `generation` and `loadedAt`, which move with every tenant's rule changes.
 */
export interface LoadedView {
  signature: string;
  rules: LoadedRule[];
  generation?: number;
  loadedAt?: number;
}

type Query = Record<string, string | undefined>;

/**
 * `/v1/rules`: rules are data. Every change bumps the rule's version and reaches every alert instance
 * within about a second (LISTEN/NOTIFY); alerts record the version that fired.
 *
 * Every route needs an `admin` key. Tenants see the global rules and their own and manage their own (see
 * rule-access.ts); the platform tenant manages all. The owner comes from the API key, never from the body.
 * Rule ids are unique per owner: `/v1/rules/:id` names the caller's own rule (for a tenant, else the global
 * rule of that id, read-only); a platform admin names the global rule, or tenant T's with `?tenant=T`.
 * A tenant rule cannot take a global rule's id, nor a global rule a tenant rule's (409 RULE_EXISTS).
 * Tenant rules are limited (tenant-rule-limits.ts); global rules are not.
 */
@Controller('v1/rules')
@RequireScope('admin')
export class RulesController {
  constructor(
    @Inject(RulesRepository) private readonly rules: RulesRepository,
    @Inject(RuleSet) private readonly ruleSet: RuleSet,
    @Inject(TENANT_RULE_LIMITS) private readonly limits: TenantRuleLimits,
  ) {}

  /** The rules the caller can see, by id. */
  @Get()
  async list(@Caller() caller: AuthenticatedCaller): Promise<{ rules: RuleView[] }> {
    const rules = await this.rules.loadAll();
    return { rules: rules.filter((r) => canSeeRule(caller, r)).map(toView) };
  }

  /**
   * The rules this instance has loaded (id, version, status, tenantId) that the caller can see: shows when a
   * change has arrived. `signature` covers those rules only, so a tenant learns nothing of other tenants' changes.
   */
  @Get('-/loaded')
  loaded(@Caller() caller: AuthenticatedCaller): LoadedView {
    const { generation, loadedAt, signature, rules } = this.ruleSet.describe((r) => canSeeRule(caller, { tenantId: r.tenantId ?? undefined }));
    return isPlatformAdmin(caller) ? { generation, loadedAt, signature, rules } : { signature, rules };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Query() query: Query, @Caller() caller: AuthenticatedCaller): Promise<RuleView> {
    const owner = addressedOwner(caller, query);
    // A tenant reads its own rule, or else the global rule of that id (the two never share an id).
    const rule = (await this.rules.find(id, owner)) ?? (isPlatformAdmin(caller) ? undefined : await this.rules.find(id, undefined));
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
    if (tenantId !== undefined) checkTenantLimits(rule, this.limits);
    const refusal = await this.rules.insert(rule, tenantId, { maxRulesPerTenant: this.limits.maxRulesPerTenant });
    if (refusal) throw refused(refusal, rule.id, tenantId);
    return toView({ ...rule, tenantId });
  }

  /** Replaces a rule; the version is the stored one + 1 (a stale `version` in the body is a 409). The owner stays. */
  @Put(':id')
  async replace(@Param('id') id: string, @Body() body: unknown, @Query() query: Query, @Caller() caller: AuthenticatedCaller): Promise<RuleView> {
    const owner = addressedOwner(caller, query);
    if (!isObject(body)) throw new ApiError(422, 'INVALID_RULE', 'the body must be a JSON object');
    rejectTenantInBody(body);
    if (body.id !== undefined && body.id !== id) throw new ApiError(422, 'INVALID_RULE', `body id "${String(body.id)}" differs from the path id "${id}"`);
    // Throwing inside the callback rolls the update back.
    const updated = await this.rules.update(id, owner, (current) => {
      checkMayChange(caller, current, id);
      if (body.version !== undefined && body.version !== current.version) {
        throw new ApiError(409, 'VERSION_CONFLICT', `rule ${id} is at version ${current.version}, not ${String(body.version)}; reload it and retry`);
      }
      const next = validated({ status: 'active', ...body, id, version: current.version + 1 });
      if (current.tenantId !== undefined) checkTenantLimits(next, this.limits);
      return next;
    });
    if (!updated) throw await this.missing(caller, id);
    return toView(updated);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Query() query: Query, @Caller() caller: AuthenticatedCaller): Promise<void> {
    const owner = addressedOwner(caller, query);
    if (!(await this.rules.delete(id, owner, (current) => checkMayChange(caller, current, id)))) throw await this.missing(caller, id);
  }

  /** Why a tenant cannot change rule `id` that it does not own: a global rule (visible to it) is a 403, anything else a 404. */
  private async missing(caller: AuthenticatedCaller, id: string): Promise<ApiError> {
    if (!isPlatformAdmin(caller) && (await this.rules.find(id, undefined))) return globalRule(id);
    return notFound(id);
  }
}

/**
 * The owner whose rule `/v1/rules/:id` names: a tenant admin's own tenant (naming another in `?tenant=` is a 403
 * whether or not such a rule exists); for a platform admin the global rule, or tenant T's with `?tenant=T`.
 */
function addressedOwner(caller: AuthenticatedCaller, query: Query): string | undefined {
  rejectUnknownParams(query, ['tenant']);
  const named = query.tenant;
  if (!isPlatformAdmin(caller)) {
    if (named !== undefined && named !== caller.tenantId) {
      throw new ApiError(403, 'TENANT_FROM_KEY', 'query parameter tenant: the tenant is taken from your API key; only platform admins name another tenant');
    }
    return caller.tenantId;
  }
  if (named === undefined) return undefined;
  if (!TENANT_ID_PATTERN.test(named)) throw new ApiError(400, 'INVALID_PARAMETER', `tenant must match ${TENANT_ID_PATTERN.source}`);
  return named;
}

function refused(refusal: RuleInsertRefusal, id: string, tenantId: string | undefined): ApiError {
  switch (refusal.reason) {
    case 'exists':
      return new ApiError(409, 'RULE_EXISTS', `${tenantId === undefined ? 'a global' : 'your tenant already has a'} rule ${id} exists; change it with PUT /v1/rules/${id}`);
    case 'global-rule':
      return new ApiError(409, 'RULE_EXISTS', `rule id ${id} is taken by a global rule, which also runs on your tenant's events (GET /v1/rules/${id}); choose another id`);
    case 'tenant-rule':
      return new ApiError(409, 'RULE_EXISTS', `rule id ${id} is used by rules of tenant(s) ${refusal.tenants.join(', ')}; a global rule would run on their events next to it under the same id, so choose another id`);
    case 'limit-reached':
      return new ApiError(409, 'RULE_LIMIT_REACHED', `tenant ${tenantId} already has ${refusal.limit} rules, the most one tenant may have; delete one first`);
  }
}

/** Tenant rules (not global ones) must stay within the tenant limits: 422 RULE_OVER_LIMIT with every path. */
function checkTenantLimits(rule: RuleDefinition, limits: TenantRuleLimits): void {
  const errors = tenantRuleLimitErrors(rule, limits);
  if (errors.length > 0) {
    throw new ApiError(422, 'RULE_OVER_LIMIT', `the rule exceeds the limits of tenant rules: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
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
      throw globalRule(id);
  }
}

function globalRule(id: string): ApiError {
  return new ApiError(403, 'GLOBAL_RULE', `rule ${id} is a global rule: global rules are managed by the platform tenant`);
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
