import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { type PayloadBucket, planPayloadTransport } from '../../core/activation/delivery-plan';
import type { LambdaDestination } from '../../core/activation/destination-config';
import type { HttpOutcome } from '../../core/activation/http-retry';
import type { DestinationSender, OutboundBatch } from '../../ports/destination-sender';
import { awsErrorOutcome } from './aws-send-outcome';
import { putPayloadObject } from './s3-payload-store';

export interface LambdaDestinationSenderOptions {
  readonly destination: LambdaDestination;
  /** A client whose request timeout outlasts the target function's run (synchronous invoke). */
  readonly lambda: LambdaClient;
  /** Where payloads over 256 KB are written (an S3 pointer is sent instead). */
  readonly s3: S3Client;
  readonly payloadBucket: PayloadBucket;
}

/** The status a function error is reported as: retried like a server fault, then dead-lettered. */
const FUNCTION_ERROR_STATUS = 502;

/**
 * Invokes the destination's function once per batch, synchronously (`RequestResponse`), with the
 * payload as its event — or, above 256 KB, an S3 pointer to it.
 *
 * Why synchronous: a batch counts as delivered (and goes in the ledger) only when the target has
 * handled it. With `Event`, Lambda answers 202 on queueing, and an error of the target then happens
 * out of sight — retried by Lambda's own async policy and lost to its own on-failure destination, never
 * to this destination's DLQ, and never counted in the delivery summary. Synchronously, a function error
 * (`FunctionError`, handled or not) is a failure like a 5xx: retried under the destination's policy
 * (honouring its back-off), then dead-lettered; throttling of the target is a 429. The price is that
 * the delivery waits for the target: targets should answer within the client's timeout, and may be
 * invoked again for a batch they already handled (after a timeout), so they dedupe on the idempotency
 * key that every payload carries.
 */
export class LambdaDestinationSender implements DestinationSender {
  constructor(private readonly options: LambdaDestinationSenderOptions) {}

  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const plan = planPayloadTransport(
      'lambda',
      JSON.stringify(batch.payload),
      batch.context,
      this.options.payloadBucket,
    );
    try {
      if (plan.transport === 's3_pointer') await putPayloadObject(this.options.s3, plan);
      const answer = await this.options.lambda.send(
        new InvokeCommand({
          FunctionName: this.options.destination.functionArn,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(plan.body, 'utf8'),
        }),
      );
      if (answer.FunctionError !== undefined) return { kind: 'response', status: FUNCTION_ERROR_STATUS };
      const status = answer.StatusCode ?? 200;
      return { kind: 'response', status };
    } catch (error) {
      return awsErrorOutcome(error);
    }
  }
}
