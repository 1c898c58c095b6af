import { type Destination, retryPolicyOf } from '../core/activation/destination-config';
import { classifyHttpOutcome, type HttpOutcome } from '../core/activation/http-retry';
import { type PaceState, pace } from '../core/activation/rate-limit';
import { MosaicError } from '../core/errors';
import type { Clock, Sleep } from '../ports/clock';
import type { DestinationSender, OutboundBatch } from '../ports/destination-sender';
import type { Logger } from '../ports/logger';

/**
 * Sending one batch to a destination (issue #5): paced to the destination's rate, retried by its
 * retry policy, and paused for a continuation when a wait would outlast the delivery's budget.
 */

/** Waits for the destination's next request slot (`rateLimitPerSecond`). */
export interface Pacer {
  wait(): Promise<void>;
}

/**
 * A pacer over {@link pace}: requests at most `ratePerSecond` on average. Share one per destination
 * between concurrent deliveries so their requests together keep the rate.
 */
export function createPacer(ratePerSecond: number, clock: Clock, sleep: Sleep): Pacer {
  let state: PaceState | undefined;
  return {
    async wait() {
      const decision = pace(state, clock.now(), ratePerSecond);
      // The slot is taken before waiting, so concurrent callers line up behind it.
      state = decision.state;
      if (decision.delayMs > 0) await sleep(decision.delayMs);
    },
  };
}

/**
 * Whether a delivery should pause and be continued later (by a message re-queued with a delay) rather
 * than wait in this process. Consulted before each batch and before each back-off wait.
 */
export interface DeliveryBudget {
  /** Whether to stop before the next batch (too little time left to send one). */
  exhausted(): boolean;
  /** Whether a wait of `ms` before the next attempt should be spent re-queued instead of asleep. */
  defers(ms: number): boolean;
}

/** What {@link sendWithRetries} uses of the delivery's dependencies. */
export interface SendDeps {
  /** This destination's sender. */
  readonly sender: DestinationSender;
  readonly clock: Clock;
  /** Waits between attempts and for the rate limit; injected so tests run at once. */
  readonly sleep: Sleep;
  /** A number in [0, 1) for the back-off jitter. Default `Math.random`. */
  readonly random?: () => number;
  readonly logger: Logger;
  /**
   * When to stop and hand the rest to a continuation instead of waiting here (the AWS delivery
   * function, which must never sleep past its remaining time). Default: never (wait in process).
   */
  readonly budget?: DeliveryBudget;
}

export type SendResult =
  /** The wait before the next attempt is to be spent in a continuation (see `DeliveryBudget`). */
  | { readonly deferred: true; readonly attempts: number; readonly delayMs: number }
  | { readonly ok: true; readonly attempts: number }
  | {
      readonly ok: false;
      readonly reason: 'permanent' | 'exhausted';
      readonly status?: number;
      readonly errorCode?: string;
      readonly attempts: number;
    };

/** One batch, attempted until it is accepted, fails for good, or the attempts are spent. */
export async function sendWithRetries(
  deps: SendDeps,
  destination: Destination,
  batch: OutboundBatch,
  pacer: Pacer | undefined,
  log: Record<string, unknown>,
  attemptsSoFar: number,
): Promise<SendResult> {
  const policy = retryPolicyOf(destination);
  const random = deps.random ?? Math.random;
  for (let attempt = attemptsSoFar + 1; ; attempt++) {
    await pacer?.wait();
    let outcome: HttpOutcome;
    try {
      outcome = await deps.sender.send(batch);
    } catch (error) {
      // A sender that throws could not even try (a missing secret, a bug): retrying cannot help,
      // unless the error says it can.
      if (error instanceof MosaicError && !error.retryable) {
        return { ok: false, reason: 'permanent', errorCode: error.code, attempts: attempt };
      }
      outcome = { kind: 'network_error', code: error instanceof Error ? error.name : 'unknown' };
    }
    const decision = classifyHttpOutcome(outcome, {
      attempt,
      policy,
      now: new Date(deps.clock.now()),
      random,
    });
    if (decision.action === 'done') return { ok: true, attempts: attempt };
    const status = outcome.kind === 'response' ? outcome.status : undefined;
    const errorCode = outcome.kind === 'network_error' ? outcome.code : undefined;
    if (decision.action === 'fail') {
      return {
        ok: false,
        reason: decision.reason,
        ...(status === undefined ? {} : { status }),
        ...(errorCode === undefined ? {} : { errorCode }),
        attempts: attempt,
      };
    }
    if (deps.budget?.defers(decision.delayMs) === true) {
      return { deferred: true, attempts: attempt, delayMs: decision.delayMs };
    }
    deps.logger.warn('a batch will be retried', {
      ...log,
      batch: batch.context.batch.index,
      attempt,
      reason: decision.reason,
      status,
      errorCode,
      delayMs: decision.delayMs,
      fromRetryAfter: decision.fromRetryAfter,
    });
    await deps.sleep(decision.delayMs);
  }
}
