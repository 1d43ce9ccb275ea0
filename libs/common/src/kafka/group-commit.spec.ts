import { GroupCommit } from './group-commit';

/** A write whose completion the test controls. */
function controlledWrites() {
  const writes: Array<{ items: number[]; done: () => void; fail: (e: Error) => void }> = [];
  const write = (items: number[]) => new Promise<void>((resolve, reject) => { writes.push({ items, done: resolve, fail: reject }); });
  return { writes, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes a lone submission at once, and everything submitted meanwhile in the next write', async () => {
    const { writes, write } = controlledWrites();
    const commit = new GroupCommit(write);
    const first = commit.submit([1]);
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1]]);
    const second = commit.submit([2, 3]);
    const third = commit.submit([4]);
    await tick();
    expect(writes).toHaveLength(1); // one write in flight at a time
    writes[0].done();
    await first;
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1], [2, 3, 4]]);
    writes[1].done();
    await Promise.all([second, third]);
  });

  it('fails only the submissions of the failed write', async () => {
    const { writes, write } = controlledWrites();
    const commit = new GroupCommit(write);
    const first = commit.submit([1]);
    await tick();
    const second = commit.submit([2]);
    writes[0].fail(new Error('broker gone'));
    await expect(first).rejects.toThrow('broker gone');
    await tick();
    writes[1].done();
    await expect(second).resolves.toBeUndefined();
  });

  it('caps a write at maxItems, but never splits a submission', async () => {
    const { writes, write } = controlledWrites();
    const commit = new GroupCommit(write, 3);
    void commit.submit([0]);
    await tick();
    const rest = [commit.submit([1, 2]), commit.submit([3]), commit.submit([4, 5, 6, 7])];
    writes[0].done();
    await tick();
    writes[1].done();
    await tick();
    writes[2].done();
    await Promise.all(rest);
    expect(writes.map((w) => w.items)).toEqual([[0], [1, 2, 3], [4, 5, 6, 7]]);
  });
});
