/**
 * `derived` of an enriched event: pure functions of the event, its account profile and the device history.
 * Every field is null when an input is missing ("cannot tell"), never a guess.
 */
import type { AccountProfile, DerivedFields, RawEventMessage } from '@streamguard/common';
import { haversineKm } from '@streamguard/stream-core';
import { countryCentroid } from './country-centroids';

const DAY_MS = 86_400_000;
const OPENED_AT = /^(\d{4})-(\d{2})-(\d{2})$/;

export function deriveFields(event: RawEventMessage, account: AccountProfile | null, newDevice: boolean | null): DerivedFields {
  const home = account?.homeCountry ?? null;
  return {
    homeCountryMismatch: home === null || event.country === undefined ? null : event.country !== home,
    distanceFromHomeKm: distanceFromHomeKm(event, home),
    newDevice,
    accountAgeDays: accountAgeDays(event.occurredAt, account?.openedAt ?? null),
  };
}

function distanceFromHomeKm(event: RawEventMessage, home: string | null): number | null {
  if (home === null || event.location === undefined) return null;
  const centroid = countryCentroid(home);
  // Whole km: a country centroid is a coarse reference point, decimals would suggest false precision.
  return centroid ? Math.round(haversineKm(event.location, centroid)) : null;
}

/** Whole days from the opening date (00:00 UTC) to the event, rounded down; negative before the opening date. */
export function accountAgeDays(occurredAt: number, openedAt: string | null): number | null {
  const match = openedAt === null ? null : OPENED_AT.exec(openedAt);
  if (!match) return null;
  const opened = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Math.floor((occurredAt - opened) / DAY_MS);
}
