import { classifyResponse, occurrenceBounds, RequestLog } from './request-log';

describe('request log', () => {
  it('classifies only 202 as acknowledged, 4xx as rejected, everything else (503, 500, no response) as unknown', () => {
    expect([202, 400, 413, 422, 503, 500, 0].map(classifyResponse)).toEqual(['acknowledged', 'rejected', 'rejected', 'rejected', 'unknown', 'unknown', 'unknown']);
  });

  it('bounds occurrences: exactly once when never in doubt, at most once per possibly-writing attempt otherwise', () => {
    expect(occurrenceBounds({ acknowledged: 1, rejected: 0, unknown: 0 })).toEqual({ min: 1, max: 1, exact: true });
    expect(occurrenceBounds({ acknowledged: 1, rejected: 0, unknown: 2 })).toEqual({ min: 1, max: 3, exact: false });
    expect(occurrenceBounds({ acknowledged: 0, rejected: 0, unknown: 1 })).toEqual({ min: 0, max: 1, exact: false });
    expect(occurrenceBounds({ acknowledged: 0, rejected: 1, unknown: 0 })).toEqual({ min: 0, max: 0, exact: true });
  });

  it('tallies events by their final state and counts retries', () => {
    const log = new RequestLog();
    const base = { status: 0, detail: '', startedAt: 0, durationMs: 1 };
    log.record({ ...base, requestId: 1, attempt: 1, eventIds: ['a', 'b'], outcome: 'unknown' });
    log.record({ ...base, requestId: 1, attempt: 2, eventIds: ['a', 'b'], outcome: 'acknowledged' });
    log.record({ ...base, requestId: 2, attempt: 1, eventIds: ['c'], outcome: 'rejected' });
    log.record({ ...base, requestId: 3, attempt: 1, eventIds: ['d'], outcome: 'unknown' });
    expect(log.tally()).toEqual({ sent: 4, acknowledged: 2, unknown: 1, rejected: 1, requests: 3, retries: 1 });
    expect(log.events().get('a')).toEqual({ acknowledged: 1, rejected: 0, unknown: 1 });
  });
});
