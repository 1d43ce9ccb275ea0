/** Human-readable numbers for alert summaries: at most 6 significant digits, no exponent for everyday values. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return String(Number.parseFloat(x.toPrecision(6)));
}

/** 1500 -> "1500ms", 60000 -> "60s", 300000 -> "5m", 7200000 -> "2h", 172800000 -> "2d". */
export function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${formatNumber(ms)}ms`;
  const s = ms / 1000;
  if (s < 120 || s % 60 !== 0) return `${s}s`;
  const m = s / 60;
  if (m < 120 || m % 60 !== 0) return `${m}m`;
  const h = m / 60;
  if (h < 48 || h % 24 !== 0) return `${h}h`;
  return `${h / 24}d`;
}

/** Keeps the last `max` ids (the triggering event is always last in alert eventIds). */
export function lastIds(ids: string[], max: number): string[] {
  return ids.length <= max ? ids : ids.slice(ids.length - max);
}
