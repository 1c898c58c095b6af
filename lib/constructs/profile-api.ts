import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { AdminAuthorizerEnv } from '../../functions/admin-authorizer/env';
import type { ProfileApiEnv } from '../../functions/profile-api/env';
import type { AdminKeysConfig } from '../../src/core/auth/admin-keys';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import { configEnvironment, MosaicFunction } from './mosaic-function';

/** The Profile API's environment variable names (defined by `functions/profile-api/env.ts`). */
export const PROFILE_API_ENV = {
  table: 'IDENTITY_TABLE_NAME',
  identity: 'MOSAIC_IDENTITY',
} as const satisfies Record<string, keyof z.input<typeof ProfileApiEnv>>;
/** The admin authorizer's environment variable name (defined by `functions/admin-authorizer/env.ts`). */
export const ADMIN_AUTHORIZER_ENV = {
  adminKeys: 'MOSAIC_ADMIN_KEYS',
} as const satisfies Record<string, keyof z.input<typeof AdminAuthorizerEnv>>;

/**
 * The Profile API's route: one greedy path for `/v1/profiles/{type}:{value}[/events|/merges]`, routed
 * by the handler. Separate `{id}` routes would miss a value holding an encoded `/` (`%2F`): API Gateway
 * decodes it before matching, so `{id}` would no longer be one path segment.
 */
export const PROFILE_PATHS: readonly string[] = ['/v1/profiles/{proxy+}'];

/**
 * How long API Gateway caches an authorizer decision per `Authorization` header value. It is also
 * how long a revoked admin key keeps working after the deployment that revokes it.
 */
export const ADMIN_AUTHORIZER_CACHE_TTL = Duration.seconds(60);

export interface ProfileApiProps {
  /** The HTTP API the routes are added to (the collector's: one URL, one stage, one access log). */
  readonly api: apigw.HttpApi;
  /** The identity graph and profiles (read only). */
  readonly identityTable: dynamodb.ITable;
  /** Identity resolution rules: which `{type}`s exist. In the bundle as `MOSAIC_IDENTITY` (JSON). */
  readonly identity: IdentityConfig;
  /** Admin key holders and their key hashes, for the authorizer (`MOSAIC_ADMIN_KEYS`). */
  readonly adminKeys: AdminKeysConfig;
  /** Retention of the functions' log groups. */
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The Profile API: `GET /v1/profiles/{type}:{value}`, `/events` and `/merges` on the Mosaic HTTP API, served by
 * the profile-api function, which may only read the identity table.
 *
 * Every route is behind an HTTP API Lambda authorizer (payload 2.0, simple responses) that checks
 * `Authorization: Bearer <admin key>` against the configured admin key hashes: a request without the
 * header gets 401 from API Gateway without invoking anything, an unknown or revoked key 403. Write keys
 * never open these routes. Decisions are cached per header value for {@link ADMIN_AUTHORIZER_CACHE_TTL}.
 *
 * The API's CORS configuration is the collector's (POST, with an `Authorization` header), so a page of
 * another origin cannot call these GET and DELETE routes: their preflight fails. That is no access
 * control (the admin API's POST routes, segments and exports, pass the same preflight, and a server
 * ignores CORS); the admin key is. Admin keys belong to servers, not web pages.
 */
export class ProfileApi extends Construct {
  public readonly function: MosaicFunction;
  public readonly authorizerFunction: MosaicFunction;
  public readonly authorizer: HttpLambdaAuthorizer;
  public readonly routes: readonly apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: ProfileApiProps) {
    super(scope, id);
    const synchronousOnly = {
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations. A failed request returns an error status to the caller, who retries.',
    };

    this.authorizerFunction = new MosaicFunction(this, 'AuthorizerFunction', {
      entry: 'functions/admin-authorizer/index.ts',
      handler: 'handler',
      description: 'Mosaic admin authorizer: Authorization: Bearer <admin key> → allow or deny',
      serviceName: 'admin-authorizer',
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      environment: configEnvironment('admin key configuration', {
        [ADMIN_AUTHORIZER_ENV.adminKeys]: JSON.stringify(props.adminKeys),
      }),
    });
    Validations.of(this.authorizerFunction).acknowledge(synchronousOnly);

    this.function = new MosaicFunction(this, 'Function', {
      entry: 'functions/profile-api/index.ts',
      handler: 'handler',
      description: 'Mosaic Profile API: GET /v1/profiles/{type}:{value}[/events|/merges]',
      serviceName: 'profile-api',
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      bundledConfig: { [PROFILE_API_ENV.identity]: JSON.stringify(props.identity) },
    });
    this.function.bindTable(props.identityTable, 'read', PROFILE_API_ENV.table);
    Validations.of(this.function).acknowledge(synchronousOnly);

    this.authorizer = new HttpLambdaAuthorizer('AdminKey', this.authorizerFunction.function, {
      authorizerName: 'admin-key',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: ADMIN_AUTHORIZER_CACHE_TTL,
    });
    const integration = new HttpLambdaIntegration('Profiles', this.function.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    this.routes = PROFILE_PATHS.flatMap((path) =>
      props.api.addRoutes({
        path,
        methods: [apigw.HttpMethod.GET],
        integration,
        authorizer: this.authorizer,
      }),
    );
  }
}
