import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiError } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import { RuleSet } from './rule-set';
import { RulesRepository } from './rules.repository';

/**
 * `/v1/rules`: rules are data. Every change bumps the rule's version and reaches every alert instance
 * within about a second (LISTEN/NOTIFY); alerts record the version that fired.
 */
@Controller('v1/rules')
export class RulesController {
  constructor(@Inject(RulesRepository) private readonly rules: RulesRepository, @Inject(RuleSet) private readonly ruleSet: RuleSet) {}

  @Get()
  async list(): Promise<{ rules: RuleDefinition[] }> {
    return { rules: await this.rules.loadAll() };
  }

  /** The rules this instance has loaded (id, version, status): shows when a change has arrived. */
  @Get('-/loaded')
  loaded(): ReturnType<RuleSet['describe']> {
    return this.ruleSet.describe();
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<RuleDefinition> {
    const rule = await this.rules.find(id);
    if (!rule) throw notFound(id);
    return rule;
  }

  /** Creates a rule at version 1. */
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown): Promise<RuleDefinition> {
    const rule = validated(isObject(body) ? { version: 1, status: 'active', ...body } : body);
    if (rule.version !== 1) throw new ApiError(422, 'INVALID_RULE', 'a new rule starts at version 1; omit "version"');
    if (!(await this.rules.insert(rule))) throw new ApiError(409, 'RULE_EXISTS', `rule ${rule.id} exists; change it with PUT /v1/rules/${rule.id}`);
    return rule;
  }

  /** Replaces a rule; the version is the stored one + 1 (a stale `version` in the body is a 409). */
  @Put(':id')
  async replace(@Param('id') id: string, @Body() body: unknown): Promise<RuleDefinition> {
    if (!isObject(body)) throw new ApiError(422, 'INVALID_RULE', 'the body must be a JSON object');
    if (body.id !== undefined && body.id !== id) throw new ApiError(422, 'INVALID_RULE', `body id "${String(body.id)}" differs from the path id "${id}"`);
    // Throwing inside the callback rolls the update back.
    const updated = await this.rules.update(id, (current) => {
      if (body.version !== undefined && body.version !== current.version) {
        throw new ApiError(409, 'VERSION_CONFLICT', `rule ${id} is at version ${current.version}, not ${String(body.version)}; reload it and retry`);
      }
      return validated({ status: 'active', ...body, id, version: current.version + 1 });
    });
    if (!updated) throw notFound(id);
    return updated;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    if (!(await this.rules.delete(id))) throw notFound(id);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validated(input: unknown): RuleDefinition {
  const result = validateRule(input);
  if (!result.ok) throw new ApiError(422, 'INVALID_RULE', `the rule is invalid: ${result.errors.map((e) => `${e.path || 'rule'} ${e.message}`).join('; ')}`, result.errors);
  return result.rule;
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'RULE_NOT_FOUND', `no rule with id ${id}`);
}
