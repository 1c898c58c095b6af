import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { DestinationsApiEnv } from '../../functions/destinations-api/env';
import type { DestinationsConfig } from '../../src/core/activation/destination-config';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import { PAYLOADS_PREFIX } from './delivery-payload-bucket';
import { grantDestinationSend } from './destination-access';
import { MosaicFunction } from './mosaic-function';

/** The Destinations API's environment variable names (defined by `functions/destinations-api/env.ts`). */
export const DESTINATIONS_API_ENV = {
  destinations: 'MOSAIC_DESTINATIONS',
  identity: 'MOSAIC_IDENTITY',
  payloadBucket: 'PAYLOAD_BUCKET',
} as const satisfies Record<string, keyof z.input<typeof DestinationsApiEnv>>;

/** The Destinations API's entry. */
export const DESTINATIONS_API_ENTRY = 'functions/destinations-api/index.ts';

/** The Destinations API's routes, all behind the admin authorizer. */
export const DESTINATIONS_ROUTES: ReadonlyArray<{
  readonly path: string;
  readonly methods: readonly apigw.HttpMethod[];
}> = [
  { path: '/v1/destinations', methods: [apigw.HttpMethod.GET] },
  { path: '/v1/destinations/{name}', methods: [apigw.HttpMethod.GET] },
  { path: '/v1/destinations/{name}/test', methods: [apigw.HttpMethod.POST] },
];

export interface DestinationsApiProps {
  /** The HTTP API the routes are added to (the collector's: one URL, one stage, one access log). */
  readonly api: apigw.HttpApi;
  /** The admin key authorizer (the Profile API's): every route is behind it. */
  readonly authorizer: HttpLambdaAuthorizer;
  /** The configured destinations (`MOSAIC_DESTINATIONS`, JSON). */
  readonly destinations: DestinationsConfig;
  /** Identity resolution rules (`MOSAIC_IDENTITY`): the identifier types a test member carries. */
  readonly identity: IdentityConfig;
  /** Where a payload too large for its transport would go (write only). */
  readonly payloadBucket: s3.IBucket;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The function's entry, relative to the repository root.
   * @default DESTINATIONS_API_ENTRY
   */
  readonly entry?: string;
}

/**
 * The Destinations API on the Mosaic HTTP API, behind the admin key authorizer:
 * `GET /v1/destinations` and `GET /v1/destinations/{name}` (configuration without secrets, secret
 * names or URL paths) and `POST /v1/destinations/{name}/test`, which sends one real, signed batch of
 * one synthetic member (marked test) through the destination's own sender and reports how it went.
 *
 * So the function may send to every configured destination exactly as its delivery function may —
 * disabled ones included, so that a destination can be tested before it is enabled — and nothing else:
 * no table, no queue of Mosaic's, no export.
 */
export class DestinationsApi extends Construct {
  public readonly function: MosaicFunction;
  public readonly routes: readonly apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: DestinationsApiProps) {
    super(scope, id);
    const env = DESTINATIONS_API_ENV;

    this.function = new MosaicFunction(this, 'Function', {
      entry: props.entry ?? DESTINATIONS_API_ENTRY,
      handler: 'handler',
      description: 'Mosaic Destinations API: /v1/destinations, test deliveries',
      serviceName: 'destinations-api',
      // A test delivery (its retries included) must answer below API Gateway's 30 s.
      timeout: Duration.seconds(29),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      bundledConfig: {
        [env.destinations]: JSON.stringify(props.destinations),
        [env.identity]: JSON.stringify(props.identity),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations. A failed request returns an error status to the caller, who retries.',
    });
    this.function.bindBucketWriter(props.payloadBucket, env.payloadBucket, `${PAYLOADS_PREFIX}*`);
    Validations.of(this.function.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.payloadBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${PAYLOADS_PREFIX}*]`,
      reason:
        'A test payload too large for its transport is written under a generated key (export, destination, batch) under payloads/ of the bucket dedicated to payloads; s3:PutObject only (no read, no delete) there is the narrowest grant that works for every destination it tests.',
    });
    for (const destination of props.destinations.destinations) {
      grantDestinationSend(this.function.role, destination);
    }

    const integration = new HttpLambdaIntegration('Destinations', this.function.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    this.routes = DESTINATIONS_ROUTES.flatMap((route) =>
      props.api.addRoutes({
        path: route.path,
        methods: [...route.methods],
        integration,
        authorizer: props.authorizer,
      }),
    );
  }
}
