import { ArnFormat, type CfnResource, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { SegmentsApiEnv } from '../../functions/segments-api/env';
import type { DestinationsConfig } from '../../src/core/activation/destination-config';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import { LAKE_PREFIXES } from '../../src/core/lake/tables';
import type { AthenaWorkgroup, QueryAccess } from './athena-workgroup';
import { EXPORT_MEMBERS_TABLE } from './audience-exports';
import { MosaicFunction } from './mosaic-function';

/** The Segments API's environment variable names (defined by `functions/segments-api/env.ts`). */
export const SEGMENTS_API_ENV = {
  table: 'SEGMENTS_TABLE_NAME',
  workGroup: 'ATHENA_WORKGROUP',
  database: 'GLUE_DATABASE',
  eventsTable: 'EVENTS_TABLE',
  identityLinksTable: 'IDENTITY_LINKS_TABLE',
  exportMembersTable: 'EXPORT_MEMBERS_TABLE',
  exportsRoot: 'EXPORTS_ROOT',
  stateMachine: 'EXPORT_STATE_MACHINE_ARN',
  previewWait: 'PREVIEW_WAIT_MS',
  identity: 'MOSAIC_IDENTITY',
} as const satisfies Record<string, keyof z.input<typeof SegmentsApiEnv>>;

/**
 * The destinations configuration (JSON) the Segments API reads to give an export naming a destination
 * the columns that destination receives, and to refuse an unknown destination.
 */
export const SEGMENTS_API_DESTINATIONS_ENV = 'MOSAIC_DESTINATIONS';

/** The Segments API's routes (DESIGN.md "Segments and exports"), all behind the admin authorizer. */
export const SEGMENTS_ROUTES: ReadonlyArray<{
  readonly path: string;
  readonly methods: readonly apigw.HttpMethod[];
}> = [
  { path: '/v1/segments', methods: [apigw.HttpMethod.POST, apigw.HttpMethod.GET] },
  {
    path: '/v1/segments/{id}',
    methods: [apigw.HttpMethod.GET, apigw.HttpMethod.PUT, apigw.HttpMethod.DELETE],
  },
  { path: '/v1/segments/{id}/preview', methods: [apigw.HttpMethod.POST] },
  { path: '/v1/segments/{id}/exports', methods: [apigw.HttpMethod.POST] },
  { path: '/v1/previews/{id}', methods: [apigw.HttpMethod.GET] },
  { path: '/v1/exports/{id}', methods: [apigw.HttpMethod.GET] },
];

/**
 * The DynamoDB actions the segment store (`DynamoDbSegmentStore`) calls on the segments table:
 * single-item reads, writes and deletes, and queries. No batch reads or writes, no scans.
 */
export const SEGMENT_STORE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * How long a preview request waits for Athena before answering 202 with a preview id to poll; the
 * function's timeout leaves room for the rest of the request below API Gateway's 30 s.
 */
export const PREVIEW_WAIT = Duration.seconds(20);

export interface SegmentsApiProps {
  /** The HTTP API the routes are added to (the collector's: one URL, one stage, one access log). */
  readonly api: apigw.HttpApi;
  /** The admin key authorizer (the Profile API's): every route is behind it. */
  readonly authorizer: HttpLambdaAuthorizer;
  /** Segments, exports and running previews (read and write). */
  readonly segmentsTable: dynamodb.ITable;
  /** Where previews run (the API starts, polls and stops them, and reads their results). */
  readonly workGroup: AthenaWorkgroup;
  /** The lake's Glue database, bucket and key: previews read `events` and `identity_links`. */
  readonly databaseName: string;
  readonly lakeBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  /** `s3://{exports bucket}/exports`: where the API places export folders (the workflow writes them). */
  readonly exportsRoot: string;
  /** The audience export workflow, started once per export. */
  readonly exportStateMachine: sfn.StateMachine;
  /** Identity resolution rules: the identifier types an export may name (`MOSAIC_IDENTITY`). */
  readonly identity: IdentityConfig;
  /**
   * The configured destinations (`MOSAIC_DESTINATIONS`): an export naming one carries the columns
   * it receives.
   */
  readonly destinations: DestinationsConfig;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The Segments API on the Mosaic HTTP API, behind the admin key authorizer: segment definitions
 * (`/v1/segments[/{id}]`), previews (`POST /v1/segments/{id}/preview`, `GET /v1/previews/{id}`) and
 * exports (`POST /v1/segments/{id}/exports`, `GET /v1/exports/{id}`), served by one function.
 *
 * Previews run in the Athena workgroup with the function's permissions (Athena reads the lake as its
 * caller): the function may read `events/` and `identity_links/` of the lake and their tables, and
 * its own results. It never reads or writes export files: an export only starts the export workflow,
 * which does.
 */
export class SegmentsApi extends Construct {
  public readonly function: MosaicFunction;
  public readonly routes: readonly apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: SegmentsApiProps) {
    super(scope, id);

    // Names of the workgroup, database and state machine go in with the environment: MosaicFunction
    // has no bind method for Athena or Step Functions. Each is granted right below.
    this.function = new MosaicFunction(this, 'Function', {
      entry: 'functions/segments-api/index.ts',
      handler: 'handler',
      description: 'Mosaic Segments API: /v1/segments, previews and exports',
      serviceName: 'segments-api',
      // The preview wait plus the rest of the request, just below API Gateway's 30 s.
      timeout: Duration.seconds(29),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      bundledConfig: {
        [SEGMENTS_API_ENV.identity]: JSON.stringify(props.identity),
        [SEGMENTS_API_DESTINATIONS_ENV]: JSON.stringify(props.destinations),
      },
      environment: {
        [SEGMENTS_API_ENV.previewWait]: String(PREVIEW_WAIT.toMilliseconds()),
        [SEGMENTS_API_ENV.workGroup]: props.workGroup.workGroupName,
        [SEGMENTS_API_ENV.database]: props.databaseName,
        [SEGMENTS_API_ENV.eventsTable]: 'events',
        [SEGMENTS_API_ENV.identityLinksTable]: 'identity_links',
        [SEGMENTS_API_ENV.exportMembersTable]: EXPORT_MEMBERS_TABLE,
        [SEGMENTS_API_ENV.exportsRoot]: props.exportsRoot,
        [SEGMENTS_API_ENV.stateMachine]: props.exportStateMachine.stateMachineArn,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations. A failed request returns an error status to the caller, who retries.',
    });
    const role = this.function.role;

    // The table: exactly what the segment store calls (DeleteItem for DELETE /v1/segments/{id}).
    this.function.bindTable(props.segmentsTable, SEGMENT_STORE_ACTIONS, SEGMENTS_API_ENV.table);

    // Previews: Athena in the workgroup, reading the lake with the function's permissions.
    const access: QueryAccess = {
      databaseName: props.databaseName,
      tables: ['events', 'identity_links'],
      read: [
        {
          bucket: props.lakeBucket,
          prefixes: [LAKE_PREFIXES.events, LAKE_PREFIXES.identity_links],
          key: props.lakeKey,
        },
      ],
    };
    for (const statement of props.workGroup.queryPolicyStatements(access))
      role.addToPrincipalPolicy(statement);
    props.workGroup.acknowledgeQueryAccess(role, access);

    // Exports: start the workflow (which alone reads and writes export files), and read an execution's
    // input when a start meets an execution of the same name (the runner's idempotent start).
    props.exportStateMachine.grantStartExecution(role);
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.exportStateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${Stack.of(this).getLogicalId(props.exportStateMachine.node.defaultChild as CfnResource)}.Name>:*]`,
      reason:
        'Executions are named after export ids, so describing the execution of a repeated export start is granted for the executions of the export state machine only.',
    });

    const integration = new HttpLambdaIntegration('Segments', this.function.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    this.routes = SEGMENTS_ROUTES.flatMap((route) =>
      props.api.addRoutes({
        path: route.path,
        methods: [...route.methods],
        integration,
        authorizer: props.authorizer,
      }),
    );
  }
}
