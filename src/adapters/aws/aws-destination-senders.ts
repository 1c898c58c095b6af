import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { PayloadBucket } from '../../core/activation/delivery-plan';
import type { Destination } from '../../core/activation/destination-config';
import type { Clock } from '../../ports/clock';
import type { DestinationSender, SecretResolver } from '../../ports/destination-sender';
import { WebhookSender } from '../http/webhook-sender';
import { LambdaDestinationSender } from './lambda-destination-sender';
import { S3FileDropSender } from './s3-file-drop-sender';
import { SqsDestinationSender } from './sqs-destination-sender';

/** The clients and settings the AWS senders share. */
export interface AwsSenderDeps {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
  readonly secrets: SecretResolver;
  readonly payloadBucket: PayloadBucket;
  readonly clock: Clock;
  /** For webhooks; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * The sender of a destination in AWS, by kind: webhooks through the same `fetch`-based sender as the
 * local runtime (signing, auth, OAuth tokens — it needs nothing but `fetch` and secrets), SQS, Lambda
 * and S3 file drops through their AWS clients.
 */
export function awsDestinationSender(destination: Destination, deps: AwsSenderDeps): DestinationSender {
  switch (destination.kind) {
    case 'webhook':
      return new WebhookSender({
        destination,
        secrets: deps.secrets,
        clock: deps.clock,
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      });
    case 'sqs':
      return new SqsDestinationSender({
        destination,
        sqs: deps.sqs,
        s3: deps.s3,
        payloadBucket: deps.payloadBucket,
      });
    case 'lambda':
      return new LambdaDestinationSender({
        destination,
        lambda: deps.lambda,
        s3: deps.s3,
        payloadBucket: deps.payloadBucket,
      });
    case 's3':
      return new S3FileDropSender({ destination, s3: deps.s3 });
  }
}
