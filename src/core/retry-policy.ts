/** How often, and how far apart, an operation that failed is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The wait after failed attempt `attempt` (1-based): uniform in [0, min(max, base × 2^(attempt-1)))
 * — exponential back-off with "full jitter", so retrying callers spread out instead of colliding.
 * `random` returns a number in [0, 1).
 */
export function fullJitterDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}
