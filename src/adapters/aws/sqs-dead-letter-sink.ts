import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterSink } from '../../ports/delivery-ledger';
import { isFifoQueue } from './sqs-queue-url';

export interface SqsDeadLetterSinkOptions {
  readonly client: SQSClient;
  /** The destination's dead-letter queue. */
  readonly queueUrl: string;
}

/**
 * The destination's dead-letter queue in SQS: each batch that failed for good as one message, the
 * {@link DeadLetter} as JSON — ids, counts, the failure and the bus envelope, never members — so a
 * redrive to the destination's queue makes the delivery function rebuild and deliver that batch alone.
 * A send that fails rejects (the delivery then fails and SQS retries it: the ledger keeps it exactly
 * once).
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(private readonly options: SqsDeadLetterSinkOptions) {}

  async put(letter: DeadLetter): Promise<void> {
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(letter),
        MessageAttributes: {
          'mosaic-message': { DataType: 'String', StringValue: 'dead-letter' },
          'mosaic-export-id': { DataType: 'String', StringValue: letter.exportId },
          'mosaic-batch-index': { DataType: 'Number', StringValue: String(letter.batchIndex) },
        },
        ...(isFifoQueue(this.options.queueUrl)
          ? { MessageGroupId: letter.exportId, MessageDeduplicationId: letter.idempotencyKey }
          : {}),
      }),
    );
  }
}
