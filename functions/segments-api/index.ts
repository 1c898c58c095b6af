import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { AthenaAudienceEngine } from '../../src/adapters/aws/athena-audience-engine';
import { DynamoDbSegmentStore } from '../../src/adapters/aws/dynamodb-segment-store';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { StepFunctionsExportRunner } from '../../src/adapters/aws/step-functions-export-runner';
import { destinationColumnsByName } from '../../src/core/activation/destination-config';
import { systemClock } from '../../src/ports/clock';
import { createSegments } from '../../src/use-cases/segments';
import { readSegmentsApiEnv } from './env';
import { createSegmentsApiHandler } from './handler';

// Composition root of the Segments API Lambda: environment → segments table, Athena (previews), the
// export state machine and the destinations' columns → use cases → handler.
const env = readSegmentsApiEnv();
const logger = new Logger({ serviceName: 'segments-api' });
const database = env.GLUE_DATABASE;

const segments = createSegments({
  store: new DynamoDbSegmentStore({
    client: new DynamoDBClient(sdkClientConfig()),
    tableName: env.SEGMENTS_TABLE_NAME,
  }),
  engine: new AthenaAudienceEngine({
    client: new AthenaClient(sdkClientConfig()),
    workGroup: env.ATHENA_WORKGROUP,
    database,
  }),
  runner: new StepFunctionsExportRunner({
    client: new SFNClient(sdkClientConfig()),
    stateMachineArn: env.EXPORT_STATE_MACHINE_ARN,
    root: env.EXPORTS_ROOT,
  }),
  clock: systemClock,
  random: () => randomBytes(8).toString('hex'),
  identity: env.MOSAIC_IDENTITY,
  tables: {
    events: { database, table: env.EVENTS_TABLE },
    identityLinks: { database, table: env.IDENTITY_LINKS_TABLE },
  },
  exportMembers: { database, table: env.EXPORT_MEMBERS_TABLE },
  destinationColumns: destinationColumnsByName(env.MOSAIC_DESTINATIONS.destinations),
  previewWaitMs: env.PREVIEW_WAIT_MS,
  logger,
});

export const handler = middy(createSegmentsApiHandler({ segments, logger })).use(injectLambdaContext(logger));
