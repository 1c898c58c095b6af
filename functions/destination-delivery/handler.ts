import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type DeliveryMessage, readDeliveryMessage } from '../../src/core/activation/delivery-message';
import type { Destination } from '../../src/core/activation/destination-config';
import { BadRequestError } from '../../src/core/errors';
import {
  type DeliveryContinuation,
  type DeliveryContinuations,
  MAX_CONTINUATION_DELAY_SECONDS,
} from '../../src/ports/delivery-continuations';
import type { DeliveryMetrics } from '../../src/ports/delivery-metrics';
import type { Logger } from '../../src/ports/logger';
import type { DeliverAudienceInput, DeliverAudienceResult } from '../../src/use-cases/deliver-audience';
import type { DeliveryBudget } from '../../src/use-cases/send-batch';

/** A wait longer than this is spent re-queued, not asleep. */
export const DEFER_ABOVE_MS = 30_000;
/** Time kept in hand: with less left, no batch is started and no wait begun. */
export const RESERVE_MS = 60_000;

export interface DestinationDeliveryHandlerDeps {
  /** This function's destination. */
  readonly destination: Destination;
  /** The delivery use case with this destination's adapters bound (`deliverAudience`). */
  readonly deliver: (input: DeliverAudienceInput, budget: DeliveryBudget) => Promise<DeliverAudienceResult>;
  readonly continuations: DeliveryContinuations;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  readonly deferAboveMs?: number;
  readonly reserveMs?: number;
}

/**
 * A destination's delivery function on its own SQS queue (batch size 1, `ReportBatchItemFailures`,
 * Powertools' `BatchProcessor`). A message is one of:
 * - the `Audience Export Completed` envelope its EventBridge rule delivered → the whole delivery;
 * - a continuation this function re-queued (`mosaicContinuation`) → the delivery from a batch on;
 * - a dead letter redriven from the DLQ (`idempotencyKey`, `batchIndex`, `event`) → that batch alone.
 *
 * The function never sleeps past its time: a back-off or `Retry-After` over 30 s, or less than 60 s
 * left, pauses the delivery and re-queues a continuation with `DelaySeconds` (≤ 900) naming where to
 * go on and the attempts spent, so attempts stay within the destination's retry policy and the ledger
 * keeps every batch exactly once. A message that cannot be read fails alone (its neighbours are not
 * held back); a delivery that throws (a dependency down) fails its message, which SQS delivers again
 * after the visibility timeout, then moves to the DLQ. Logs hold ids and counts, never a payload,
 * member or secret.
 */
export function createDestinationDeliveryHandler(deps: DestinationDeliveryHandlerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const deferAboveMs = deps.deferAboveMs ?? DEFER_ABOVE_MS;
  const reserveMs = deps.reserveMs ?? RESERVE_MS;
  const { destination, logger } = deps;

  const processRecord = async (record: SQSRecord, context: Context | undefined) => {
    let request: DeliveryMessage;
    try {
      request = readDeliveryMessage(record.body, destination.name);
    } catch (error) {
      deps.metrics.badMessage();
      logger.error('not a delivery message: failing it', {
        destination: destination.name,
        messageId: record.messageId,
        reason: error instanceof BadRequestError ? error.message : 'unreadable',
      });
      throw error;
    }
    const remaining = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    // The first batch is always tried, so each invocation makes progress whatever its timeout.
    let asked = 0;
    const budget: DeliveryBudget = {
      exhausted: () => asked++ > 0 && remaining() < reserveMs,
      defers: (ms) => ms > deferAboveMs || remaining() - ms < reserveMs,
    };
    const { kind, ...input } = request;
    const result = await deps.deliver({ ...input, destination }, budget);
    deps.metrics.delivery(result);
    const ids = {
      destination: destination.name,
      messageId: record.messageId,
      eventId: input.event.id,
      message: kind,
    };
    if (result.outcome === 'paused') {
      const { resume } = result;
      const continuation: DeliveryContinuation = {
        mosaicContinuation: 1,
        event: input.event,
        fromBatch: resume.batchIndex,
        attemptsSoFar: resume.attempts,
        ...(input.onlyBatch === undefined ? {} : { onlyBatch: input.onlyBatch }),
      };
      const delaySeconds = Math.min(MAX_CONTINUATION_DELAY_SECONDS, Math.ceil(resume.delayMs / 1000));
      await deps.continuations.enqueue(continuation, delaySeconds);
      logger.info('delivery continues in a re-queued message', {
        ...ids,
        resumeAt: resume.batchIndex,
        attempts: resume.attempts,
        delaySeconds,
      });
    } else if (result.outcome !== 'delivered') {
      logger.info('the message was not for this destination', { ...ids, outcome: result.outcome });
    }
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, (record: SQSRecord) => processRecord(record, context), processor, {
      ...(context === undefined ? {} : { context }),
      processInParallel: false,
      // With batch size 1 every failure is a full one: answer it as a partial failure like the others
      // (SQS retries the message either way) rather than as a function error.
      throwOnFullBatchFailure: false,
    });
}
