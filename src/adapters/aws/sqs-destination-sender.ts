import type { S3Client } from '@aws-sdk/client-s3';
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  MAX_INLINE_PAYLOAD_BYTES,
  type PayloadBucket,
  planPayloadTransport,
} from '../../core/activation/delivery-plan';
import type { SqsDestination } from '../../core/activation/destination-config';
import type { HttpOutcome } from '../../core/activation/http-retry';
import type { DestinationSender, OutboundBatch } from '../../ports/destination-sender';
import { awsErrorOutcome } from './aws-send-outcome';
import { putPayloadObject } from './s3-payload-store';
import { isFifoQueue, sqsQueueUrl } from './sqs-queue-url';

/**
 * SQS counts message attributes (names, types and values) against the same 256 KB as the body: the
 * body goes inline only if it leaves this much room for them (ours take about 200 bytes).
 */
export const ATTRIBUTES_HEADROOM_BYTES = 1024;

export interface SqsDestinationSenderOptions {
  readonly destination: SqsDestination;
  readonly sqs: SQSClient;
  /** Where payloads over 256 KB are written (an S3 pointer is sent instead). */
  readonly s3: S3Client;
  readonly payloadBucket: PayloadBucket;
}

/**
 * Sends each batch as ONE message to the destination's queue (`SendMessage`): the payload as JSON, or —
 * above 256 KB, SQS's cap — an S3 pointer to it (`docs/destinations.md`). Message attributes carry the
 * idempotency key, export id and batch index, so a consumer dedupes without parsing the body. On a
 * FIFO queue (`.fifo`) the deduplication id is the idempotency key (SQS drops a resend within its
 * 5-minute window; consumers dedupe beyond it on the same key) and the group is the export, so one
 * export's batches arrive in order while different exports flow in parallel.
 */
export class SqsDestinationSender implements DestinationSender {
  private readonly queueUrl: string;
  private readonly fifo: boolean;

  constructor(private readonly options: SqsDestinationSenderOptions) {
    this.queueUrl = sqsQueueUrl(options.destination.queue);
    this.fifo = isFifoQueue(this.queueUrl);
  }

  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const { context } = batch;
    const plan = planPayloadTransport(
      'sqs',
      JSON.stringify(batch.payload),
      context,
      this.options.payloadBucket,
      MAX_INLINE_PAYLOAD_BYTES - ATTRIBUTES_HEADROOM_BYTES,
    );
    try {
      if (plan.transport === 's3_pointer') await putPayloadObject(this.options.s3, plan);
      await this.options.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: plan.body,
          MessageAttributes: {
            'mosaic-idempotency-key': text(context.idempotencyKey),
            'mosaic-export-id': text(context.exportId),
            'mosaic-batch-index': { DataType: 'Number', StringValue: String(context.batch.index) },
            'mosaic-payload': text(plan.transport === 's3_pointer' ? 's3' : 'inline'),
          },
          ...(this.fifo
            ? { MessageGroupId: context.exportId, MessageDeduplicationId: context.idempotencyKey }
            : {}),
        }),
      );
      return { kind: 'response', status: 200 };
    } catch (error) {
      return awsErrorOutcome(error);
    }
  }
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}
