import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import middy from '@middy/core';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { EventBridgeEventBus } from '../../src/adapters/aws/eventbridge-event-bus';
import { FirehoseIdentityLinkSink } from '../../src/adapters/aws/firehose-identity-link-sink';
import { powertoolsResolverMetrics } from '../../src/adapters/aws/powertools-resolver-metrics';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { systemClock } from '../../src/ports/clock';
import { publishResolverEffects } from '../../src/use-cases/publish-resolver-effects';
import { createResolver } from '../../src/use-cases/resolve-identities';
import { readResolverEnv } from './env';
import { createResolverHandler } from './handler';

// Composition root of the resolver Lambda: environment → AWS adapters → use case → Kinesis handler.
const env = readResolverEnv();
const logger = new Logger({ serviceName: 'resolver' });
const metrics = new Metrics({ namespace: 'Mosaic', serviceName: 'resolver' });
const clientConfig = sdkClientConfig();

const resolve = createResolver({
  store: new DynamoDbIdentityStore({
    client: new DynamoDBClient(clientConfig),
    tableName: env.IDENTITY_TABLE_NAME,
  }),
  identity: env.MOSAIC_IDENTITY,
  clock: systemClock,
  metrics: powertoolsResolverMetrics(metrics),
  logger,
  publish: publishResolverEffects({
    links: new FirehoseIdentityLinkSink(
      new FirehoseClient(clientConfig),
      env.IDENTITY_LINKS_DELIVERY_STREAM_NAME,
    ),
    bus: new EventBridgeEventBus(new EventBridgeClient(clientConfig), env.EVENT_BUS_NAME),
  }),
});

export const handler = middy(createResolverHandler({ resolve, logger }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
