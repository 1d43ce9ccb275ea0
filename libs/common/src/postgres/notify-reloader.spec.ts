import { JsonLogger } from '../logging/logger';
import type { Database } from './database';
import { NotifyReloader } from './notify-reloader';

const logger = new JsonLogger('error', { service: 'test' });

/** A load whose completion the test controls. */
function controlledLoads() {
  const loads: Array<() => void> = [];
  const load = () => new Promise<void>((resolve) => loads.push(resolve));
  return { loads, load };
}

describe('NotifyReloader.reload', () => {
  it('runs one load at a time and coalesces every request made meanwhile into one more load', async () => {
    const { loads, load } = controlledLoads();
    const reloader = new NotifyReloader({} as Database, 'ch', load, logger, 60_000);
    const first = reloader.reload();
    const waiting = [reloader.reload(), reloader.reload(), reloader.reload()];
    expect(loads).toHaveLength(1);
    loads[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(loads).toHaveLength(2); // the three requests share one load, started after the first finished
    loads[1]();
    await Promise.all(waiting);
    expect(loads).toHaveLength(2);
  });

  it('a failed load fails its callers only; the next request loads again', async () => {
    let calls = 0;
    const reloader = new NotifyReloader({} as Database, 'ch', async () => {
      calls += 1;
      if (calls === 1) throw new Error('postgres down');
    }, logger, 60_000);
    await expect(reloader.reload()).rejects.toThrow('postgres down');
    await expect(reloader.reload()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
