import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PaceState, pace } from '../../src/core/activation/rate-limit';

/** Send times of `count` requests all ready at `start`, each sent after its wait. */
function schedule(count: number, rate: number, burst: number, start = 0): number[] {
  let state: PaceState | undefined;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const decision = pace(state, start, rate, burst);
    times.push(start + decision.delayMs);
    state = decision.state;
  }
  return times;
}

describe('pacing requests to a rate limit', () => {
  it('10 per second: requests ready together go 100 ms apart', () => {
    expect(schedule(5, 10, 1)).toEqual([0, 100, 200, 300, 400]);
  });

  it('a burst lets the first few go at once, then the rate holds', () => {
    expect(schedule(6, 10, 3)).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('after a quiet spell there is no wait', () => {
    const first = pace(undefined, 0, 2);
    expect(pace(first.state, 10_000, 2).delayMs).toBe(0);
  });

  it('refuses a rate or burst that is not positive', () => {
    expect(() => pace(undefined, 0, 0)).toThrow(RangeError);
    expect(() => pace(undefined, 0, Number.NaN)).toThrow(RangeError);
    expect(() => pace(undefined, 0, 1, 0)).toThrow(RangeError);
  });

  it('property: in any one-second window at most rate + burst requests are sent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 200 }),
        (rate, burst, count) => {
          const times = schedule(count, rate, burst);
          for (let i = 0; i < times.length; i++) {
            const inWindow = times.filter(
              (t) => t >= (times[i] as number) && t < (times[i] as number) + 1000,
            ).length;
            expect(inWindow).toBeLessThanOrEqual(rate + burst);
          }
          // And it does not wait longer than it must: the last request goes after (count - burst) intervals (to the ms).
          const exact = Math.max(0, ((count - burst) * 1000) / rate);
          expect(Math.abs((times.at(-1) as number) - exact)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
