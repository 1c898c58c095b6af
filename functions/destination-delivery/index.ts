import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { AthenaAudienceReader } from '../../src/adapters/aws/athena-audience-reader';
import { awsDestinationSender } from '../../src/adapters/aws/aws-destination-senders';
import { DynamoDbDeliveryLedger } from '../../src/adapters/aws/dynamodb-delivery-ledger';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { DynamoDbSegmentStore } from '../../src/adapters/aws/dynamodb-segment-store';
import { powertoolsDeliveryMetrics } from '../../src/adapters/aws/powertools-delivery-metrics';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { SecretsManagerSecretResolver } from '../../src/adapters/aws/secrets-manager-secret-resolver';
import { SqsDeadLetterSink } from '../../src/adapters/aws/sqs-dead-letter-sink';
import { SqsDeliveryContinuations } from '../../src/adapters/aws/sqs-delivery-continuations';
import { realSleep, systemClock } from '../../src/ports/clock';
import { deliverAudience } from '../../src/use-cases/deliver-audience';
import { createPacer } from '../../src/use-cases/send-batch';
import { readDestinationDeliveryEnv } from './env';
import { createDestinationDeliveryHandler } from './handler';

// Composition root of a destination's delivery Lambda: environment → AWS adapters (tables, Athena,
// SQS, S3, Lambda, Secrets Manager) → the delivery use case → the SQS handler.
const env = readDestinationDeliveryEnv();
const { destination } = env;
const logger = new Logger({
  serviceName: 'destination-delivery',
  persistentKeys: { destination: destination.name },
});
const metrics = new Metrics({
  namespace: 'Mosaic',
  serviceName: 'destination-delivery',
  defaultDimensions: { destination: destination.name },
});
const clientConfig = sdkClientConfig();
const dynamodb = new DynamoDBClient(clientConfig);
const sqs = new SQSClient(clientConfig);
const clock = systemClock;

const sender = awsDestinationSender(destination, {
  sqs,
  // Large payloads and CSV files: longer than a DynamoDB call.
  s3: new S3Client(sdkClientConfig({ requestTimeoutMs: 30_000 })),
  // Synchronous invokes wait for the target; the delivery's own policy retries (one SDK attempt).
  lambda: new LambdaClient(sdkClientConfig({ requestTimeoutMs: 60_000, maxAttempts: 1 })),
  secrets: new SecretsManagerSecretResolver({ client: new SecretsManagerClient(clientConfig) }),
  payloadBucket: { bucket: env.PAYLOAD_BUCKET, prefix: '' },
  clock,
});
const deps = {
  exports: new DynamoDbSegmentStore({ client: dynamodb, tableName: env.SEGMENTS_TABLE_NAME }),
  reader: new AthenaAudienceReader({
    client: new AthenaClient(clientConfig),
    workGroup: env.ATHENA_WORKGROUP,
    database: env.GLUE_DATABASE,
    table: env.EXPORT_MEMBERS_TABLE,
  }),
  profiles: new DynamoDbIdentityStore({ client: dynamodb, tableName: env.IDENTITY_TABLE_NAME }),
  ledger: new DynamoDbDeliveryLedger({ client: dynamodb, tableName: env.LEDGER_TABLE_NAME }),
  deadLetters: new SqsDeadLetterSink({ client: sqs, queueUrl: env.DEAD_LETTER_QUEUE_URL }),
  sender,
  clock,
  sleep: realSleep,
  logger,
  identifierTypes: env.MOSAIC_IDENTITY.types,
  hashOptions: { defaultPhoneCountry: env.MOSAIC_DESTINATIONS.defaultPhoneCountry },
  // One pacer per function instance, at its share of the rate: up to `reservedConcurrency` instances
  // run at once, and together they keep the destination's `rateLimitPerSecond`.
  ...(destination.kind === 'webhook'
    ? {
        pacer: createPacer(
          destination.rateLimitPerSecond / destination.reservedConcurrency,
          clock,
          realSleep,
        ),
      }
    : {}),
};

export const handler = middy(
  createDestinationDeliveryHandler({
    destination,
    deliver: (input, budget) => deliverAudience({ ...deps, budget }, input),
    continuations: new SqsDeliveryContinuations({ client: sqs, queueUrl: env.DELIVERY_QUEUE_URL }),
    metrics: powertoolsDeliveryMetrics(metrics),
    logger,
  }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
