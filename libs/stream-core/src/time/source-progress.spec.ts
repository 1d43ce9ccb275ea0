import { checkProgressMarker, SourceProgress } from './source-progress';

describe('SourceProgress — a fixed family (upstream partitions)', () => {
  it('is unknown until every member was heard, then the minimum of their latest times', () => {
    const progress = new SourceProgress(Infinity);
    progress.observe({ source: 'raw/0', time: 500, of: 3 });
    progress.observe({ source: 'raw/1', time: 200, of: 3 });
    expect(progress.time).toBeUndefined();
    progress.observe({ source: 'raw/2', time: 900, of: 3 });
    expect(progress.time).toBe(200);
    progress.observe({ source: 'raw/1', time: 700, of: 3 });
    expect(progress.time).toBe(500);
  });

  it('never goes back for an older marker of a source (a replayed one)', () => {
    const progress = new SourceProgress(Infinity);
    progress.observe({ source: 'raw/0', time: 500, of: 1 });
    expect(progress.observe({ source: 'raw/0', time: 400, of: 1 })).toBe(false);
    expect(progress.time).toBe(500);
  });

  it('starts over when the family size changes (the upstream topic grew)', () => {
    const progress = new SourceProgress(Infinity);
    progress.observe({ source: 'raw/0', time: 500, of: 1 });
    progress.observe({ source: 'raw/0', time: 600, of: 2 });
    expect(progress.time).toBeUndefined();
    progress.observe({ source: 'raw/1', time: 550, of: 2 });
    expect(progress.time).toBe(550);
  });

  it('survives a round trip through its JSON state', () => {
    const progress = new SourceProgress(Infinity);
    progress.observe({ source: 'raw/0', time: 500, of: 2 });
    const restored = new SourceProgress(Infinity, JSON.parse(JSON.stringify(progress.snapshot())));
    restored.observe({ source: 'raw/1', time: 800, of: 2 });
    expect(restored.time).toBe(500);
  });
});

describe('SourceProgress — an open family (ingest instances)', () => {
  it('is unknown until the markers seen span the source timeout (every live instance marks more often)', () => {
    const progress = new SourceProgress(1_000);
    progress.observe({ source: 'a', time: 10_000 });
    progress.observe({ source: 'b', time: 10_500 });
    expect(progress.time).toBeUndefined();
    progress.observe({ source: 'a', time: 11_000 });
    expect(progress.time).toBe(10_500);
  });

  it('needs no warm-up when read from the partition\'s log start (every marker ever written is read)', () => {
    const progress = new SourceProgress(1_000);
    progress.readsWholeLog();
    progress.observe({ source: 'a', time: 10_000 });
    expect(progress.time).toBe(10_000);
  });

  it('forgets an instance that left with a final marker at once', () => {
    const progress = new SourceProgress(2_000);
    progress.observe({ source: 'a', time: 10_000 });
    progress.observe({ source: 'b', time: 9_000 });
    progress.observe({ source: 'a', time: 11_000 });
    expect(progress.time).toBe(9_000); // warm: a's markers span 1 s, b's and a's 2 s
    progress.observe({ source: 'b', time: 9_100, final: true });
    expect(progress.time).toBe(11_000);
  });

  it('forgets an instance that vanished once the newest marker is the timeout ahead of its last one', () => {
    const progress = new SourceProgress(1_000);
    progress.observe({ source: 'a', time: 10_000 });
    progress.observe({ source: 'b', time: 10_000 });
    progress.observe({ source: 'a', time: 11_000 });
    expect(progress.time).toBe(10_000); // b is exactly the timeout behind: still counted
    progress.observe({ source: 'a', time: 11_001 });
    expect(progress.time).toBe(11_001);
  });

  it('holds back for a slow instance that still marks (in-flight writes keep its markers old)', () => {
    const progress = new SourceProgress(5_000);
    progress.observe({ source: 'a', time: 10_000 });
    progress.observe({ source: 'slow', time: 10_000 });
    progress.observe({ source: 'a', time: 16_000 }); // slow: 6 s behind, beyond the timeout → forgotten
    progress.observe({ source: 'slow', time: 12_000 }); // it marks again: known again, and the minimum
    expect(progress.time).toBe(12_000);
  });
});

describe('checkProgressMarker', () => {
  it.each([
    [null, 'not an object'],
    [{ source: '', time: 1 }, 'source'],
    [{ source: 'a', time: -1 }, 'time'],
    [{ source: 'a', time: 1.5 }, 'time'],
    [{ source: 'a', time: 1, of: 0 }, 'of'],
    [{ source: 'a', time: 1, final: 'yes' }, 'final'],
  ])('refuses %j', (value, problem) => {
    expect(() => checkProgressMarker(value)).toThrow(problem);
  });

  it('keeps only the known fields', () => {
    expect(checkProgressMarker({ source: 'a', time: 5, of: 2, extra: 1 })).toEqual({ source: 'a', time: 5, of: 2 });
  });
});
