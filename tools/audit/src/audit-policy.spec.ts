import { judgeAudit } from './audit-policy';

const report = (vulnerabilities: Record<string, unknown>) => JSON.stringify({ vulnerabilities, metadata: { vulnerabilities: { high: 1 } } });
const HIGH = { severity: 'high', via: [{ title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc', severity: 'high' }] };

describe('judgeAudit', () => {
  it('fails on a high or critical advisory, naming package and advisory', () => {
    expect(judgeAudit(report({ lodash: HIGH }), [], '2026-11-24')).toEqual({
      kind: 'failed', findings: ['lodash (high): Prototype pollution https://github.com/advisories/GHSA-aaaa-bbbb-cccc'],
    });
  });

  it('passes moderate and low advisories', () => {
    expect(judgeAudit(report({ x: { ...HIGH, severity: 'moderate' } }), [], '2026-11-24').kind).toBe('clean');
  });

  it('honours an exception by advisory id or package until its expiry day', () => {
    const byId = [{ advisory: 'GHSA-aaaa-bbbb-cccc', reason: 'not reachable from our code', until: '2026-12-31' }];
    expect(judgeAudit(report({ lodash: HIGH }), byId, '2026-12-31').kind).toBe('clean');
    expect(judgeAudit(report({ lodash: HIGH }), byId, '2027-01-01').kind).toBe('failed');
    expect(judgeAudit(report({ lodash: HIGH }), [{ advisory: 'lodash', reason: 'r', until: '2099-01-01' }], '2026-11-24').kind).toBe('clean');
  });

  it('reports an audit endpoint that cannot answer as unavailable, not as clean', () => {
    const refused = JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' });
    expect(judgeAudit(refused, [], '2026-11-24')).toEqual({ kind: 'unavailable', reason: expect.stringContaining('405') });
    expect(judgeAudit('', [], '2026-11-24').kind).toBe('unavailable');
  });
});
