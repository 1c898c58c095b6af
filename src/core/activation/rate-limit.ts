/**
 * Pacing a destination's requests to its `rateLimitPerSecond` — pure, so the delivery function and
 * the local runtime wait the same way and tests need no clock. The generic cell rate algorithm (a
 * token bucket in one number): requests are spaced `1000 / rate` ms apart on average, and up to
 * `burst` may go at once after a quiet spell.
 */

/** The pacer's state: the theoretical time (ms) at which the next request would be exactly on schedule. */
export interface PaceState {
  readonly tat: number;
}

export interface PaceDecision {
  /** How long to wait from `now` before sending (0: send now). */
  readonly delayMs: number;
  /** The state after this request is sent (after its wait). */
  readonly state: PaceState;
}

/**
 * The wait before one more request at `now` (ms), given the state after the previous ones (`undefined`
 * for the first) and the rate. Call once per request and keep the returned state.
 */
export function pace(
  state: PaceState | undefined,
  now: number,
  ratePerSecond: number,
  burst = 1,
): PaceDecision {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new RangeError('ratePerSecond is a positive number');
  }
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst is a positive integer');
  const interval = 1000 / ratePerSecond;
  const tolerance = (burst - 1) * interval;
  const tat = Math.max(state?.tat ?? now, now);
  const delayMs = Math.max(0, Math.ceil(tat - tolerance - now));
  return { delayMs, state: { tat: tat + interval } };
}
