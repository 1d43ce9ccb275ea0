/**
 * `npm run audit`: fails on high or critical advisories in production dependencies (see audit-policy.ts).
 * When the registry cannot answer audits at all, it says so loudly and exits 0 — unless AUDIT_REQUIRED=true,
 * for a CI that must never land unaudited code.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local-infra/src/paths';
import { done, fail } from '../../local-infra/src/progress';
import { AuditException, judgeAudit } from './audit-policy';

function npmAudit(): Promise<string> {
  return new Promise((resolve) => {
    // npm audit exits non-zero both for findings and for errors; the JSON tells them apart.
    execFile('npm', ['audit', '--omit=dev', '--json'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (_error, stdout) => resolve(stdout));
  });
}

async function main(): Promise<void> {
  const exceptions = JSON.parse(readFileSync(join(REPO_ROOT, 'audit-exceptions.json'), 'utf8')) as AuditException[];
  const verdict = judgeAudit(await npmAudit(), exceptions, new Date().toISOString().slice(0, 10));
  switch (verdict.kind) {
    case 'clean':
      done(`npm audit --omit=dev: ${verdict.summary}`);
      return;
    case 'failed':
      fail(`npm audit --omit=dev: high or critical advisories in production dependencies:\n  ${verdict.findings.join('\n  ')}\nUpgrade them, or list an accepted exception with a reason and an expiry date in audit-exceptions.json.`);
    case 'unavailable':
      if (process.env.AUDIT_REQUIRED === 'true') fail(`npm audit --omit=dev could not run: ${verdict.reason}`);
      process.stderr.write(`\u001b[33m!\u001b[0m npm audit --omit=dev could not run: ${verdict.reason}. NOT AUDITED (set AUDIT_REQUIRED=true to fail instead).\n`);
  }
}

main().catch((error) => fail((error as Error).message));
