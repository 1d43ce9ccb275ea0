/**
 * The dependency audit policy, kept apart from running npm so it can be tested: production dependencies
 * (`npm audit --omit=dev`) must have no high or critical advisory unless it is listed in
 * `audit-exceptions.json` with a reason and an expiry date.
 */
export interface AuditException {
  /** The advisory's URL or GHSA id as npm reports it, or a package name. */
  advisory: string;
  reason: string;
  /** YYYY-MM-DD: the exception stops counting after this day, so it gets looked at again. */
  until: string;
}

export type AuditVerdict =
  | { kind: 'clean'; summary: string }
  | { kind: 'failed'; findings: string[] }
  | { kind: 'unavailable'; reason: string };

interface NpmAuditJson {
  error?: { code?: string; summary?: string };
  message?: string;
  vulnerabilities?: Record<string, { severity: string; via: Array<string | { url?: string; title?: string; severity?: string }> }>;
  metadata?: { vulnerabilities?: Record<string, number> };
}

const BLOCKING = new Set(['high', 'critical']);

/** Classifies `npm audit --json` output. `today` is YYYY-MM-DD. */
export function judgeAudit(output: string, exceptions: AuditException[], today: string): AuditVerdict {
  let json: NpmAuditJson;
  try {
    json = JSON.parse(output) as NpmAuditJson;
  } catch {
    return { kind: 'unavailable', reason: `npm audit printed no JSON: ${output.slice(0, 200)}` };
  }
  if (json.vulnerabilities === undefined) {
    // The registry could not answer (e.g. a mirror without the advisory endpoint): no verdict either way.
    return { kind: 'unavailable', reason: json.error?.summary || json.message || 'no vulnerability data in the answer' };
  }
  const active = exceptions.filter((e) => e.until >= today);
  const excused = (pkg: string, ids: string[]) => active.some((e) => e.advisory === pkg || ids.includes(e.advisory));
  const findings: string[] = [];
  for (const [pkg, vulnerability] of Object.entries(json.vulnerabilities)) {
    if (!BLOCKING.has(vulnerability.severity)) continue;
    const ids = vulnerability.via.flatMap((v) => (typeof v === 'string' ? [] : [v.url ?? '', (v.url ?? '').split('/').pop() ?? ''])).filter(Boolean);
    if (excused(pkg, ids)) continue;
    const titles = vulnerability.via.map((v) => (typeof v === 'string' ? `via ${v}` : `${v.title ?? 'advisory'} ${v.url ?? ''}`.trim()));
    findings.push(`${pkg} (${vulnerability.severity}): ${titles.join('; ')}`);
  }
  if (findings.length > 0) return { kind: 'failed', findings };
  const counts = json.metadata?.vulnerabilities ?? {};
  return { kind: 'clean', summary: `no unexcused high or critical advisories (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none reported'})` };
}
