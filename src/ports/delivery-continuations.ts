import type { BusEnvelope } from '../core/events/bus-event';

/**
 * Where a paused delivery goes on (issue #5): the event, the batch to start at (or the one batch of a
 * redriven dead letter) and the attempts already spent on it. Carries no PII: ids and locations only.
 */
export interface DeliveryContinuation {
  /** Marks the message as a continuation (version 1). */
  readonly mosaicContinuation: 1;
  readonly event: BusEnvelope;
  /** Start at this batch. */
  readonly fromBatch: number;
  /** Attempts of `fromBatch` already made. */
  readonly attemptsSoFar: number;
  /** Only this batch (the continuation of a redriven dead letter). */
  readonly onlyBatch?: number;
}

/** The longest delay SQS takes on a message (15 minutes). */
export const MAX_CONTINUATION_DELAY_SECONDS = 900;

/**
 * Re-queues a continuation to the destination's own delivery queue after a delay (SQS `DelaySeconds`,
 * at most 15 minutes), so a delivery function never sleeps past its remaining time.
 */
export interface DeliveryContinuations {
  enqueue(continuation: DeliveryContinuation, delaySeconds: number): Promise<void>;
}
