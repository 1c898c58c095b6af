import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import middy from '@middy/core';
import { FirehoseQuarantineSink } from '../../src/adapters/aws/firehose-quarantine-sink';
import { KinesisEventStream } from '../../src/adapters/aws/kinesis-event-stream';
import { powertoolsIngestMetrics } from '../../src/adapters/aws/powertools-ingest-metrics';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { WriteKeyRegistry } from '../../src/core/collector/write-keys';
import { randomIds, realSleep, systemClock } from '../../src/ports/clock';
import { createIngest } from '../../src/use-cases/ingest';
import { readCollectorEnv } from './env';
import { createCollectorHandler } from './handler';
import { COLLECTOR_FIREHOSE_SDK, COLLECTOR_KINESIS_SDK } from './timing';

// Composition root of the collector Lambda: environment → AWS adapters → use case → HTTP handler.
const env = readCollectorEnv();
const logger = new Logger({ serviceName: 'collector' });
const metrics = new Metrics({ namespace: 'Mosaic', serviceName: 'collector' });
const keys = new WriteKeyRegistry(env.MOSAIC_SOURCES);

const ingest = createIngest({
  stream: new KinesisEventStream(
    new KinesisClient(sdkClientConfig(COLLECTOR_KINESIS_SDK)),
    env.EVENT_STREAM_NAME,
  ),
  quarantine: new FirehoseQuarantineSink(
    new FirehoseClient(sdkClientConfig(COLLECTOR_FIREHOSE_SDK)),
    env.QUARANTINE_DELIVERY_STREAM_NAME,
  ),
  keys,
  limits: env.MOSAIC_LIMITS,
  clock: systemClock,
  newId: randomIds,
  sleep: realSleep,
  metrics: powertoolsIngestMetrics(metrics),
});

export const handler = middy(createCollectorHandler({ ingest, keys, limits: env.MOSAIC_LIMITS, logger }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
