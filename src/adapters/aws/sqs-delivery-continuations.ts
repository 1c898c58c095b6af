import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type DeliveryContinuation,
  type DeliveryContinuations,
  MAX_CONTINUATION_DELAY_SECONDS,
} from '../../ports/delivery-continuations';
import { isFifoQueue } from './sqs-queue-url';

export interface SqsDeliveryContinuationsOptions {
  readonly client: SQSClient;
  /** The destination's own delivery queue (`DELIVERY_QUEUE_URL`). */
  readonly queueUrl: string;
}

/**
 * {@link DeliveryContinuations} on the destination's SQS queue: `SendMessage` of the continuation's
 * JSON with `DelaySeconds` (0–900). A FIFO queue takes no per-message delay, so the delay is then left
 * to the queue's own setting and the message grouped by export and deduplicated by
 * (event, batch, attempts).
 */
export class SqsDeliveryContinuations implements DeliveryContinuations {
  constructor(private readonly options: SqsDeliveryContinuationsOptions) {}

  async enqueue(continuation: DeliveryContinuation, delaySeconds: number): Promise<void> {
    const delay = Math.min(MAX_CONTINUATION_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    const fifo = isFifoQueue(this.options.queueUrl);
    const exportId = String(continuation.event.detail.exportId ?? continuation.event.id);
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(continuation),
        MessageAttributes: {
          'mosaic-message': { DataType: 'String', StringValue: 'continuation' },
        },
        ...(fifo
          ? {
              MessageGroupId: exportId,
              MessageDeduplicationId:
                `${continuation.event.id}-${continuation.onlyBatch ?? ''}-${continuation.fromBatch}-${continuation.attemptsSoFar}`.slice(
                  0,
                  128,
                ),
            }
          : { DelaySeconds: delay }),
      }),
    );
  }
}
