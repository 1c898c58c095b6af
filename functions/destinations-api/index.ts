import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { awsDestinationSender } from '../../src/adapters/aws/aws-destination-senders';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { SecretsManagerSecretResolver } from '../../src/adapters/aws/secrets-manager-secret-resolver';
import { systemClock } from '../../src/ports/clock';
import { createDestinations } from '../../src/use-cases/destinations';
import { readDestinationsApiEnv } from './env';
import { createDestinationsApiHandler } from './handler';

// Composition root of the Destinations API Lambda: environment → the AWS senders of every kind (a test
// sends one synthetic batch through the destination's real sender) → use cases → handler.
const env = readDestinationsApiEnv();
const logger = new Logger({ serviceName: 'destinations-api' });
// API Gateway answers within 30 s: each call must end well before.
const senderDeps = {
  sqs: new SQSClient(sdkClientConfig()),
  s3: new S3Client(sdkClientConfig({ requestTimeoutMs: 10_000 })),
  lambda: new LambdaClient(sdkClientConfig({ requestTimeoutMs: 20_000, maxAttempts: 1 })),
  secrets: new SecretsManagerSecretResolver({ client: new SecretsManagerClient(sdkClientConfig()) }),
  payloadBucket: { bucket: env.PAYLOAD_BUCKET, prefix: '' },
  clock: systemClock,
};

const destinations = createDestinations({
  destinations: env.MOSAIC_DESTINATIONS.destinations,
  senderOf: (destination) => awsDestinationSender(destination, senderDeps),
  clock: systemClock,
  random: () => randomBytes(8).toString('hex'),
  logger,
});

export const handler = middy(createDestinationsApiHandler({ destinations, logger })).use(
  injectLambdaContext(logger),
);
