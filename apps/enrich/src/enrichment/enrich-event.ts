/**
 * Pure enrichment of one raw event with a reference snapshot. Missing reference data never drops an event:
 * the field is null and a flag says why (`ACCOUNT_UNKNOWN`, `MERCHANT_UNKNOWN`, `FX_RATE_MISSING`).
 * `firstEventIdByDevice` comes from the device history (see `devices/device-history.ts`).
 */
import type { EnrichedEventMessage, EnrichmentFlag, RawEventMessage, BlocklistHit, BlocklistKind } from '@streamguard/common';
import { isNewDevice } from '../devices/device-history';
import { accountKey, blocklistKey, ReferenceSnapshot } from '../reference-data/reference-data';
import { deriveFields } from './derived-fields';

export function enrichEvent(raw: RawEventMessage, refs: ReferenceSnapshot, firstEventIdByDevice: ReadonlyMap<string, string>, enrichedAt: number): EnrichedEventMessage {
  const flags: EnrichmentFlag[] = [];
  // The event's own tenant's profile only: account ids are unique within a tenant, not across tenants.
  const account = refs.accounts.get(accountKey(raw.tenantId, raw.accountId)) ?? null;
  if (!account) flags.push('ACCOUNT_UNKNOWN');
  const merchant = refs.merchants.get(raw.merchantId) ?? null;
  if (!merchant) flags.push('MERCHANT_UNKNOWN');
  const rate = raw.currency === 'USD' ? 1 : refs.fxRates.get(raw.currency);
  if (rate === undefined) flags.push('FX_RATE_MISSING');
  const blocklistHits: BlocklistHit[] = [];
  const check = (kind: BlocklistKind, value: string | undefined) => {
    const hit = value === undefined ? undefined : refs.blocklist.get(blocklistKey(kind, value));
    if (hit) blocklistHits.push(hit);
  };
  check('merchant', raw.merchantId); check('card', raw.cardId); check('device', raw.deviceId); check('ip', raw.ipAddress); check('country', raw.country);
  return {
    ...raw,
    schemaVersion: 1,
    // Rounded to cents: the USD figure is for rules and reports, not accounting.
    amountUsd: rate === undefined ? null : Math.round(raw.amount * rate * 100) / 100,
    account,
    merchant,
    blocklistHits,
    flags,
    derived: deriveFields(raw, account, isNewDevice(raw, firstEventIdByDevice)),
    enrichedAt,
  };
}
