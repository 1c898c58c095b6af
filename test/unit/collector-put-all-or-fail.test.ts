import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../src/core/errors';
import type { StreamEntry } from '../../src/ports/event-stream';
import { DEFAULT_STREAM_RETRY, putAllOrFail, type RetryPolicy } from '../../src/use-cases/put-all-or-fail';
import { instantSleep, ScriptedEventStream } from '../support/collector-fixtures';

const encoder = new TextEncoder();
const entries = (n: number): StreamEntry[] =>
  Array.from({ length: n }, (_, i) => ({ partitionKey: `pk-${i}`, data: encoder.encode(`{"i":${i}}`) }));
const keys = (batch: readonly StreamEntry[] | undefined) => (batch ?? []).map((e) => e.partitionKey);

const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

describe('putAllOrFail', () => {
  it('writes everything in one call when nothing fails, without sleeping', async () => {
    const stream = new ScriptedEventStream();
    const sleep = instantSleep();
    await putAllOrFail(stream, entries(3), { sleep, policy: POLICY });
    expect(stream.calls.map(keys)).toEqual([['pk-0', 'pk-1', 'pk-2']]);
    expect(sleep.waits).toEqual([]);
  });

  it('retries only the entries that failed, each time only those still failing', async () => {
    const stream = new ScriptedEventStream([
      {
        fail: (e) =>
          ['pk-1', 'pk-3', 'pk-4'].includes(e.partitionKey)
            ? 'ProvisionedThroughputExceededException'
            : undefined,
      },
      { fail: (e) => (e.partitionKey === 'pk-4' ? 'InternalFailure' : undefined) },
      { fail: () => undefined },
    ]);
    const retried: number[] = [];
    await putAllOrFail(stream, entries(6), {
      sleep: instantSleep(),
      policy: POLICY,
      onRetry: (n) => retried.push(n),
    });
    expect(stream.calls.map(keys)).toEqual([
      ['pk-0', 'pk-1', 'pk-2', 'pk-3', 'pk-4', 'pk-5'],
      ['pk-1', 'pk-3', 'pk-4'],
      ['pk-4'],
    ]);
    expect(stream.written.map((e) => e.partitionKey).sort()).toEqual(keys(entries(6)).sort());
    expect(retried).toEqual([3, 1]);
  });

  it('sends the same bytes again on a retry', async () => {
    const stream = new ScriptedEventStream([
      { fail: (_e, i) => (i === 1 ? 'x' : undefined) },
      { fail: () => undefined },
    ]);
    const input = entries(2);
    await putAllOrFail(stream, input, { sleep: instantSleep(), policy: POLICY });
    expect(stream.calls[1]?.[0]).toBe(input[1]);
  });

  it('backs off exponentially up to maxDelayMs, scaled by the jitter', async () => {
    const stream = new ScriptedEventStream([{ fail: () => 'ProvisionedThroughputExceededException' }]);
    const policy: RetryPolicy = { maxAttempts: 7, baseDelayMs: 100, maxDelayMs: 1000 };
    const sleepHigh = instantSleep();
    await expect(
      putAllOrFail(stream, entries(1), { sleep: sleepHigh, policy, random: () => 0.999 }),
    ).rejects.toThrow();
    // ceilings 100, 200, 400, 800, 1000, 1000; full jitter takes random() of each.
    expect(sleepHigh.waits).toEqual([99, 199, 399, 799, 999, 999]);

    const sleepHalf = instantSleep();
    await expect(
      putAllOrFail(new ScriptedEventStream([{ fail: () => 'x' }]), entries(1), {
        sleep: sleepHalf,
        policy,
        random: () => 0.5,
      }),
    ).rejects.toThrow();
    expect(sleepHalf.waits).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('draws a fresh jitter for every wait (no two retries wait in lock-step)', async () => {
    const draws = [0.1, 0.9, 0.3];
    const sleep = instantSleep();
    await expect(
      putAllOrFail(new ScriptedEventStream([{ fail: () => 'x' }]), entries(1), {
        sleep,
        policy: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 1000 },
        random: () => draws.shift() ?? 0,
      }),
    ).rejects.toThrow();
    expect(sleep.waits).toEqual([100, 900, 300]);
  });

  it('never waits longer than maxDelayMs, nor a negative time', async () => {
    const sleep = instantSleep();
    await expect(
      putAllOrFail(new ScriptedEventStream([{ fail: () => 'x' }]), entries(1), {
        sleep,
        policy: { maxAttempts: 30, baseDelayMs: 50, maxDelayMs: 1000 },
        random: () => 0.999_999,
      }),
    ).rejects.toThrow();
    expect(sleep.waits).toHaveLength(29);
    for (const ms of sleep.waits) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(1000);
    }
  });

  it('retries a call that failed as a whole, with every entry', async () => {
    const stream = new ScriptedEventStream([
      { throws: Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }) },
      { fail: () => undefined },
    ]);
    const sleep = instantSleep();
    await putAllOrFail(stream, entries(3), { sleep, policy: POLICY });
    expect(stream.calls.map(keys)).toEqual([
      ['pk-0', 'pk-1', 'pk-2'],
      ['pk-0', 'pk-1', 'pk-2'],
    ]);
    expect(sleep.waits).toHaveLength(1);
  });

  it('gives up after maxAttempts with ServiceUnavailableError naming how many of how many were not written', async () => {
    const stream = new ScriptedEventStream([
      {
        fail: (e) =>
          e.partitionKey === 'pk-0' || e.partitionKey === 'pk-2'
            ? 'ProvisionedThroughputExceededException'
            : undefined,
      },
    ]);
    const sleep = instantSleep();
    const attempt = putAllOrFail(stream, entries(5), { sleep, policy: { ...POLICY, maxAttempts: 4 } });
    await expect(attempt).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(attempt).rejects.toThrow(/2 of 5/);
    await expect(attempt).rejects.toThrow(/ProvisionedThroughputExceededException/);
    expect(stream.calls).toHaveLength(4);
    expect(sleep.waits).toHaveLength(3); // no pointless wait after the last attempt
  });

  it('gives up with ServiceUnavailableError when every call throws', async () => {
    const stream = new ScriptedEventStream([
      { throws: Object.assign(new Error('down'), { name: 'ServiceUnavailable' }) },
    ]);
    const attempt = putAllOrFail(stream, entries(2), { sleep: instantSleep() });
    await expect(attempt).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(attempt).rejects.toThrow(/2 of 2/);
    expect(stream.calls).toHaveLength(DEFAULT_STREAM_RETRY.maxAttempts);
  });

  it('makes no call for no entries', async () => {
    const stream = new ScriptedEventStream();
    const sleep = instantSleep();
    await putAllOrFail(stream, [], { sleep });
    expect(stream.calls).toEqual([]);
    expect(sleep.waits).toEqual([]);
  });
});
