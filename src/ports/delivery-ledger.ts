import type { BusEnvelope } from '../core/events/bus-event';

/** A batch a destination accepted. Carries no PII: ids, counts and times only. */
export interface DeliveredBatch {
  readonly destination: string;
  /** `idempotencyKey(exportId, destination, batchIndex)`. */
  readonly idempotencyKey: string;
  readonly exportId: string;
  readonly batchIndex: number;
  /** Members sent in it. */
  readonly members: number;
  /** ISO-8601. */
  readonly deliveredAt: string;
}

/**
 * Which batches each destination has accepted, by idempotency key (issue #5): a retry, an archive
 * replay of `Audience Export Completed` or a second identical event finds the batch here and does not
 * send it again. A DynamoDB table (conditional put, TTL) in AWS; an append-only NDJSON file per
 * destination locally.
 */
export interface DeliveryLedger {
  /** Whether the destination accepted the batch with this key. */
  isDelivered(destination: string, idempotencyKey: string): Promise<boolean>;
  /** Records an accepted batch; recording the same key again changes nothing. */
  recordDelivered(batch: DeliveredBatch): Promise<void>;
}

/**
 * A batch that failed for good: the destination's dead-letter queue. It names the batch (export, index,
 * key) instead of holding its members, so a redrive rebuilds the batch from the export — and the DLQ
 * never stores PII.
 */
export interface DeadLetter {
  readonly destination: string;
  readonly exportId: string;
  readonly segmentId: string;
  readonly batchIndex: number;
  readonly idempotencyKey: string;
  /** Members in the batch that were not delivered. */
  readonly members: number;
  /** `permanent` (retrying cannot help) or `exhausted` (the attempts are spent). */
  readonly reason: 'permanent' | 'exhausted';
  /** The last HTTP status, when there was a response. */
  readonly status?: number;
  /** A network error's code, when there was no response. */
  readonly errorCode?: string;
  readonly attempts: number;
  /** ISO-8601. */
  readonly failedAt: string;
  /**
   * The `Audience Export Completed` envelope the batch came from (ids and locations, no PII), so a
   * redrive of the letter to the destination's queue rebuilds and delivers this batch alone.
   */
  readonly event?: BusEnvelope;
}

/** Where batches that failed for good go (SQS DLQ with redrive in AWS; `dlq.ndjson` locally). */
export interface DeadLetterSink {
  put(letter: DeadLetter): Promise<void>;
}
