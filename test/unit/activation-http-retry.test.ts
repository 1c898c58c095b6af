import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DELIVERY_RETRY,
  type DeliveryRetryPolicy,
} from '../../src/core/activation/destination-config';
import {
  classifyHttpOutcome,
  type HttpOutcome,
  isRetryableStatus,
  parseRetryAfter,
} from '../../src/core/activation/http-retry';

const now = new Date('2026-11-22T12:00:00.000Z');
const policy: DeliveryRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 120_000,
};
const half = () => 0.5;
const classify = (outcome: HttpOutcome, attempt = 1, random = half) =>
  classifyHttpOutcome(outcome, { attempt, policy, now, random });
const response = (status: number, retryAfter?: string): HttpOutcome => ({
  kind: 'response',
  status,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

describe('classifying an HTTP attempt', () => {
  it.each([200, 201, 202, 204, 299])('%i is done', (status) => {
    expect(classify(response(status))).toEqual({ action: 'done', status });
  });

  it.each([400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 451, 499])(
    '%i is permanent: no retry, straight to the DLQ',
    (status) => {
      expect(classify(response(status))).toEqual({ action: 'fail', reason: 'permanent', status });
    },
  );

  it.each([100, 301, 302, 304, 600, 0, 200.5])('%d (not a success, not retryable) is permanent', (status) => {
    expect(classify(response(status))).toMatchObject({ action: 'fail', reason: 'permanent' });
  });

  it('429 is retried as rate limited; every 5xx as a server error; a network failure too', () => {
    expect(classify(response(429))).toMatchObject({ action: 'retry', reason: 'rate_limited' });
    for (const status of [500, 502, 503, 504, 599]) {
      expect(classify(response(status))).toMatchObject({ action: 'retry', reason: 'server_error' });
    }
    expect(classify({ kind: 'network_error', code: 'ECONNRESET' })).toMatchObject({
      action: 'retry',
      reason: 'network_error',
    });
    expect([429, 500, 599].every(isRetryableStatus)).toBe(true);
    expect([408, 499, 600].some(isRetryableStatus)).toBe(false);
  });

  it('without Retry-After backs off exponentially with full jitter (retry-policy.ts)', () => {
    expect(classify(response(503), 1, half)).toEqual({
      action: 'retry',
      reason: 'server_error',
      delayMs: 500,
      fromRetryAfter: false,
    });
    expect(classify(response(503), 3, half)).toMatchObject({ delayMs: 2000 });
    expect(classify(response(503), 4, () => 0.999_999)).toMatchObject({ delayMs: 7999 });
  });

  it('honours Retry-After in seconds and as an HTTP-date', () => {
    expect(classify(response(429, '7'))).toEqual({
      action: 'retry',
      reason: 'rate_limited',
      delayMs: 7000,
      fromRetryAfter: true,
    });
    expect(classify(response(503, 'Sun, 22 Nov 2026 12:00:30 GMT'))).toMatchObject({
      delayMs: 30_000,
      fromRetryAfter: true,
    });
  });

  it('caps Retry-After at the policy’s maxRetryAfterMs', () => {
    expect(classify(response(429, '86400'))).toMatchObject({ delayMs: 120_000, fromRetryAfter: true });
    expect(classify(response(429, 'Mon, 23 Nov 2026 12:00:00 GMT'))).toMatchObject({ delayMs: 120_000 });
  });

  it('an unreadable Retry-After falls back to back-off', () => {
    expect(classify(response(429, 'soon'))).toMatchObject({ delayMs: 500, fromRetryAfter: false });
  });

  it('gives up (exhausted) after the policy’s last attempt, whatever Retry-After says', () => {
    expect(classify(response(503), 5)).toEqual({ action: 'fail', reason: 'exhausted', status: 503 });
    expect(classify(response(429, '1'), 5)).toEqual({ action: 'fail', reason: 'exhausted', status: 429 });
    expect(classify({ kind: 'network_error' }, 5)).toEqual({ action: 'fail', reason: 'exhausted' });
    expect(classify(response(503), 4)).toMatchObject({ action: 'retry' });
  });

  it('uses the default delivery retry policy when none is given', () => {
    const decision = classifyHttpOutcome(response(500), {
      attempt: DEFAULT_DELIVERY_RETRY.maxAttempts,
      now,
      random: half,
    });
    expect(decision).toMatchObject({ action: 'fail', reason: 'exhausted' });
  });

  it('property: a retry never waits longer than the cap, nor less than 0', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(429, 500, 503),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.nat({ max: 10_000_000 }).map(String), { nil: undefined }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (status, attempt, retryAfter, r) => {
          const decision = classify(response(status, retryAfter), attempt, () => r);
          expect(decision.action).toBe('retry');
          if (decision.action !== 'retry') return;
          expect(decision.delayMs).toBeGreaterThanOrEqual(0);
          expect(decision.delayMs).toBeLessThanOrEqual(Math.max(policy.maxRetryAfterMs, policy.maxDelayMs));
        },
      ),
    );
  });
});

describe('Retry-After values', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads the three HTTP-date forms as GMT, whatever the machine’s zone', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sunday, 22-Nov-26 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Sun Nov 22 12:01:00 2026', now)).toBe(60_000);
  });

  it('a date in the past means now', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 12:00:00 GMT', now)).toBe(0);
  });

  it.each(['', 'soon', '-5', '1.5', '2026-11-22T12:01:00Z', 'tomorrow'])('refuses %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
