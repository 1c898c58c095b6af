import { fullJitterDelay } from '../retry-policy';
import { DEFAULT_DELIVERY_RETRY, type DeliveryRetryPolicy } from './destination-config';

/**
 * What a delivery does after one HTTP attempt: 2xx is done; 429, 5xx and network failures are retried
 * with exponential back-off and full jitter — or after the server's `Retry-After` (seconds or an
 * HTTP-date), cut to the policy's `maxRetryAfterMs` — until the policy's attempts are spent; any other
 * status (other 4xx, redirects a client did not follow, nonsense) is permanent: retrying cannot help,
 * so the batch goes to the destination's DLQ at once.
 */

/** One attempt's outcome, as an HTTP client reports it. */
export type HttpOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** The `Retry-After` header's value, if the response had one. */
      readonly retryAfter?: string;
    }
  /** No response: connection refused or reset, DNS failure, timeout. */
  | { readonly kind: 'network_error'; readonly code?: string };

export type RetryReason = 'rate_limited' | 'server_error' | 'network_error';

export type HttpDecision =
  | { readonly action: 'done'; readonly status: number }
  | {
      readonly action: 'retry';
      readonly reason: RetryReason;
      /** Wait before the next attempt. */
      readonly delayMs: number;
      /** Whether the wait came from the server's `Retry-After`. */
      readonly fromRetryAfter: boolean;
    }
  | {
      readonly action: 'fail';
      /** `permanent`: retrying cannot help; `exhausted`: retryable, but the attempts are spent. */
      readonly reason: 'permanent' | 'exhausted';
      readonly status?: number;
    };

export interface HttpRetryContext {
  /** The attempt that just ended, 1-based. */
  readonly attempt: number;
  readonly policy?: DeliveryRetryPolicy;
  /** The current time, to read an HTTP-date `Retry-After`. */
  readonly now: Date;
  /** A number in [0, 1) for the jitter. */
  readonly random: () => number;
}

/** Whether a status is worth retrying: 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Classifies one attempt's outcome and, for a retry, the wait before the next. */
export function classifyHttpOutcome(outcome: HttpOutcome, context: HttpRetryContext): HttpDecision {
  const policy = context.policy ?? DEFAULT_DELIVERY_RETRY;
  let reason: RetryReason;
  let retryAfterMs: number | undefined;
  if (outcome.kind === 'network_error') {
    reason = 'network_error';
  } else {
    const { status } = outcome;
    if (Number.isInteger(status) && status >= 200 && status <= 299) return { action: 'done', status };
    if (!Number.isInteger(status) || !isRetryableStatus(status)) {
      return { action: 'fail', reason: 'permanent', status };
    }
    reason = status === 429 ? 'rate_limited' : 'server_error';
    if (outcome.retryAfter !== undefined) retryAfterMs = parseRetryAfter(outcome.retryAfter, context.now);
  }
  if (context.attempt >= policy.maxAttempts) {
    return {
      action: 'fail',
      reason: 'exhausted',
      ...(outcome.kind === 'response' ? { status: outcome.status } : {}),
    };
  }
  if (retryAfterMs !== undefined) {
    return {
      action: 'retry',
      reason,
      delayMs: Math.min(retryAfterMs, policy.maxRetryAfterMs),
      fromRetryAfter: true,
    };
  }
  return {
    action: 'retry',
    reason,
    delayMs: fullJitterDelay(policy, context.attempt, context.random),
    fromRetryAfter: false,
  };
}

/**
 * A `Retry-After` value in ms from `now`: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`; a date in the past is 0). `undefined` when it is neither.
 */
export function parseRetryAfter(value: string, now: Date): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : Number.MAX_SAFE_INTEGER;
  }
  if (!HTTP_DATE.test(text)) return undefined;
  // asctime has no zone; HTTP-dates are always GMT (never the machine's local time).
  const at = Date.parse(text.endsWith('GMT') ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * HTTP-date forms (RFC 9110 §5.6.7): IMF-fixdate and the obsolete RFC 850 and asctime forms, which
 * `Date.parse` reads. Checked first so that arbitrary text `Date.parse` happens to accept is refused.
 */
const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * Batches in a row that must spend all their retries (429, 5xx, network errors) before a delivery
 * takes its destination for down: it then waits {@link coolDownMs} before each next batch, which goes
 * as a probe, instead of running every remaining batch through its retries into the dead-letter queue.
 * A batch refused for good (other 4xx) does not count: that is the batch, not the destination.
 */
export const DOWN_AFTER_EXHAUSTED_BATCHES = 3;

/** How long a delivery waits before probing a destination taken for down: at least a minute. */
export function coolDownMs(policy: Pick<DeliveryRetryPolicy, 'maxDelayMs'>): number {
  return Math.min(MAX_COOL_DOWN_MS, Math.max(MIN_COOL_DOWN_MS, policy.maxDelayMs));
}

const MIN_COOL_DOWN_MS = 60_000;
const MAX_COOL_DOWN_MS = 15 * 60 * 1000;
