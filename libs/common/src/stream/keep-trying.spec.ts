import { JsonLogger } from '../logging/logger';
import { keepTrying } from './keep-trying';

const logger = new JsonLogger('error', { service: 'test' });

describe('keepTrying', () => {
  it('retries an ordinary failure until the start succeeds', async () => {
    let attempts = 0;
    const started = new Promise<void>((resolve) => {
      keepTrying('thing', async () => {
        attempts += 1;
        if (attempts < 2) throw new Error('broker not reachable');
        resolve();
      }, logger, undefined, () => { throw new Error('not fatal'); });
    });
    await started;
    expect(attempts).toBe(2);
  });

  it('gives up at once on a fatal error: onFatal runs, no second attempt', async () => {
    let attempts = 0;
    const refused = await new Promise<Error>((resolve) => {
      keepTrying('thing', async () => {
        attempts += 1;
        throw Object.assign(new Error('partition count changed'), { fatal: true });
      }, logger, undefined, resolve);
    });
    expect(refused.message).toBe('partition count changed');
    // Well past every back-off (at most 10 s): no timer was left to try again.
    jest.useFakeTimers();
    try {
      await jest.advanceTimersByTimeAsync(60_000);
    } finally {
      jest.useRealTimers();
    }
    expect(attempts).toBe(1);
  });
});
