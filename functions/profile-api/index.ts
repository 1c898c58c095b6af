import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { createProfileQuery } from '../../src/use-cases/profile-query';
import { readProfileApiEnv } from './env';
import { createProfileApiHandler } from './handler';

// Composition root of the Profile API Lambda: environment → DynamoDB identity store → query → handler.
const env = readProfileApiEnv();
const logger = new Logger({ serviceName: 'profile-api' });

const query = createProfileQuery({
  store: new DynamoDbIdentityStore({
    client: new DynamoDBClient(sdkClientConfig()),
    tableName: env.IDENTITY_TABLE_NAME,
  }),
  identity: env.MOSAIC_IDENTITY,
});

export const handler = middy(createProfileApiHandler({ query, logger })).use(injectLambdaContext(logger));
