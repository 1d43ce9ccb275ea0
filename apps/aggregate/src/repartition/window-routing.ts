/**
 * Where each window definition runs. `events.enriched` is keyed by `accountId`, so all events of one
 * (tenant, account) are on one partition, and a definition whose tenant-scoped `groupBy` starts with
 * `['tenantId', 'accountId']` is **co-partitioned**: none of its groups spans partitions, and it runs directly on
 * `events.enriched`. Any other definition (e.g. by `merchantId`) has groups on every partition; it is
 * **repartitioned** (the Kafka Streams shuffle): each event is re-keyed by `<definition>|<groupKey>` into
 * `events.repartition`, so each group lives on exactly one repartition partition.
 */
import { REPARTITION_HEADERS } from '@streamguard/common';
import { TENANT_FIELD, tenantDedupKey, WindowDefinition } from '@streamguard/stream-core';

/** The fields `events.enriched` is partitioned by, as a tenant-scoped groupBy prefix. */
export const INPUT_PARTITION_FIELDS: readonly string[] = [TENANT_FIELD, 'accountId'];

export interface WindowRouting {
  /** Run on `events.enriched` (consumer group `<prefix>.aggregate`). */
  coPartitioned: WindowDefinition[];
  /** Shuffled through `events.repartition` (groups `<prefix>.aggregate-repartition`, `<prefix>.aggregate-repartitioned`). */
  repartitioned: WindowDefinition[];
}

/** True when no group of this (tenant-scoped) definition can span `events.enriched` partitions. */
export function isCoPartitioned(definition: WindowDefinition): boolean {
  return INPUT_PARTITION_FIELDS.every((field, i) => definition.groupBy[i] === field);
}

/** Splits tenant-scoped definitions, keeping their order. */
export function routeWindowDefinitions(definitions: readonly WindowDefinition[]): WindowRouting {
  return {
    coPartitioned: definitions.filter(isCoPartitioned),
    repartitioned: definitions.filter((d) => !isCoPartitioned(d)),
  };
}

/**
 * Key of an `events.repartition` record. Definition names cannot contain `|` and group keys escape it, so the
 * key is unambiguous; records of one (definition, group) share a key and therefore a partition.
 */
export function repartitionKey(definition: string, groupKey: string): string {
  return `${definition}|${groupKey}`;
}

/**
 * Dedup key of a repartitioned record: one event yields one record per repartitioned definition, and two of
 * them may land on the same partition, so the definition is part of the key (a redelivered event is still a
 * duplicate within its definition).
 */
export function repartitionDedupKey(tenantId: string, eventId: string, definition: string): string {
  return `${definition}|${tenantDedupKey(tenantId, eventId)}`;
}

/** The definition a repartition record is for (its header), or undefined when the header is missing. */
export function repartitionedDefinition(headers: Readonly<Record<string, string>>): string | undefined {
  const name = headers[REPARTITION_HEADERS.definition];
  return name === undefined || name === '' ? undefined : name;
}
