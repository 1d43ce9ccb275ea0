import { createHash } from 'node:crypto';
import { computeAlertId } from './alert-id';

describe('computeAlertId', () => {
  it('is 32 lowercase hex chars, the documented sha256 prefix, and stable', () => {
    const id = computeAlertId('velocity-1m', 1, 'accountId=acc-1', 'e-9');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const expected = createHash('sha256').update('["velocity-1m",1,"accountId=acc-1","e-9"]').digest('hex').slice(0, 32);
    expect(id).toBe(expected);
    expect(computeAlertId('velocity-1m', 1, 'accountId=acc-1', 'e-9')).toBe(id);
  });

  it('changes with every component and is not fooled by concatenation', () => {
    const ids = new Set([
      computeAlertId('r', 1, 'k', 'e'),
      computeAlertId('r2', 1, 'k', 'e'),
      computeAlertId('r', 2, 'k', 'e'),
      computeAlertId('r', 1, 'k2', 'e'),
      computeAlertId('r', 1, 'k', 'e2'),
      computeAlertId('r', 1, 'ke', ''),
    ]);
    expect(ids.size).toBe(6);
  });
});
