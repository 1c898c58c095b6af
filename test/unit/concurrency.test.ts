import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../../src/core/concurrency';

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('forEachConcurrently (src/core/concurrency.ts)', () => {
  it('runs every item, never more than the limit at once, starting them in order', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      running++;
      most = Math.max(most, running);
      await tick(n % 3);
      running--;
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
    expect(running).toBe(0);
  });

  it('starts no more than there are items, and nothing for none', async () => {
    let calls = 0;
    await forEachConcurrently([], 4, async () => {
      calls++;
    });
    await forEachConcurrently(['only'], 4, async () => {
      calls++;
    });
    expect(calls).toBe(1);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const run = forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick(1);
      if (n === 2) throw new Error('item 2 failed');
    });
    await expect(run).rejects.toThrow('item 2 failed');
    await tick(10);
    // 1 and 2 started together; 1 finished first and 3 took its place; nothing started once 2 failed.
    expect(started).toEqual([1, 2, 3]);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      await expect(forEachConcurrently([1], limit, async () => {})).rejects.toThrow(RangeError);
    }
  });
});
