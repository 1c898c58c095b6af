import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { AdminKeyRegistry } from '../../src/core/auth/admin-keys';
import { readAdminAuthorizerEnv } from './env';
import { createAdminAuthorizerHandler } from './handler';

// Composition root of the admin authorizer Lambda: environment → key registry → authorizer.
const env = readAdminAuthorizerEnv();
const logger = new Logger({ serviceName: 'admin-authorizer' });

export const handler = middy(
  createAdminAuthorizerHandler({ keys: new AdminKeyRegistry(env.MOSAIC_ADMIN_KEYS), logger }),
).use(injectLambdaContext(logger));
