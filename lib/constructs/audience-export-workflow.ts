import { ArnFormat, Duration, Fn, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ExportWorkflowInput } from '../../src/adapters/aws/export-workflow-input';
import { exportKey, segmentKey } from '../../src/adapters/aws/segment-table';
import { BUS_SOURCE } from '../../src/core/events/bus-event';
import { AUDIENCE_EXPORT_COMPLETED } from '../../src/core/events/bus-events';
import { LAKE_PREFIXES } from '../../src/core/lake/tables';
import { ATHENA_RESULTS_PREFIX, type AthenaWorkgroup, type QueryAccess } from './athena-workgroup';
import { EXPORT_MEMBERS_TABLE, EXPORTS_PREFIX } from './audience-exports';

/** The queries of {@link ExportWorkflowInput}, in the order the workflow runs them. */
type QueryName = keyof ExportWorkflowInput['queries'];

/** The longest one Athena query may run before its step fails the export (Athena's default DML timeout is 30 min). */
export const EXPORT_QUERY_TIMEOUT = Duration.hours(1);

/** Errors after which a step is retried: throttling and service errors, never the query's own failure. */
export const RETRYABLE = {
  /** StartQueryExecution refused before any query started: safe for every statement. */
  athenaThrottled: ['Athena.TooManyRequestsException'],
  /**
   * Also Athena's internal errors, for statements that only read (SELECT, GetQueryResults). An UNLOAD
   * is never retried on them: it may have written files, and a second UNLOAD into a non-empty folder
   * fails.
   */
  athenaRead: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
  /** Rejected before anything was written. */
  dynamoDbThrottled: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.RequestLimitExceeded',
    'DynamoDB.ThrottlingException',
  ],
  /** A copy of the same object to the same key: repeating it is harmless. */
  s3: ['S3.S3Exception'],
  /** Entries EventBridge did not take; consumers dedupe on `exportId`, so a repeat is harmless. */
  eventBridge: ['EventBridge.FailedEntry'],
} as const;

/** How long an export item's `error` may be (the failed step's error name and the reason). */
export const MAX_ERROR_LENGTH = 1000;

export interface AudienceExportWorkflowProps {
  /** Where the queries run; its result location holds the CSV the audience step copies. */
  readonly workGroup: AthenaWorkgroup;
  /** The lake's Glue database (`events`, `identity_links`, `export_members`). */
  readonly databaseName: string;
  /** The lake bucket and key (the members query reads `events/` and `identity_links/`). */
  readonly lakeBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  /** The exports bucket: every statement writes under `exports/`. Encrypted with the workgroup's key. */
  readonly exportsBucket: s3.IBucket;
  /** The segments table: the export item and the segment's `lastExport` are updated in it. */
  readonly segmentsTable: dynamodb.ITable;
  /** `Audience Export Completed` is published here. */
  readonly eventBus: events.IEventBus;
  /** Retention of the execution log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group and its key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The audience export state machine: runs the queries of an {@link ExportWorkflowInput} (built by
 * `StepFunctionsExportRunner`) in the Athena workgroup, records the outcome on the export item and
 * the segment, and announces it on the bus — exactly the contract in
 * `src/adapters/aws/export-workflow-input.ts`:
 *
 * 1. `members` — `UNLOAD` (Athena `StartQueryExecution.sync`);
 * 2. `audience` — `UNLOAD` for Parquet; for CSV a SELECT whose result CSV is copied (`s3:CopyObject`)
 *    from the workgroup's result location to `audienceCsv`;
 * 3. `changes` — `UNLOAD`;
 * 4. `counts` — SELECT, then `GetQueryResults` (row 1: `member_count`, `added`, `removed`; NULL is 0);
 * 5. the export item → `SUCCEEDED` with `count`, `added`, `removed`, `completedAt`, only while
 *    `RUNNING`; the segment's `lastExport` → this export, only if the segment exists and has no later
 *    export there (export ids sort by time) — a failed condition there is not an error;
 * 6. `Audience Export Completed` v1 on the bus, `source: "mosaic"`.
 *
 * Every statement's `parameters` may be empty; Athena refuses an empty `ExecutionParameters`, so a
 * Choice before each query picks the variant that passes them or the one that leaves them out.
 * Every step catches every error: the export item → `FAILED` with the error (only while `RUNNING`),
 * then the execution fails. A step that fails after the export item is `SUCCEEDED` (recording
 * `lastExport`, publishing) leaves it `SUCCEEDED` — its files are complete — and fails the execution,
 * which is where a missing event shows. Retries are only for throttling and service errors ({@link RETRYABLE});
 * every query carries a client request token derived from the execution and the query, so a retried
 * start never starts a second query.
 *
 * Written in JSONata: the event's optional fields (`destination`, `previousExportId`) are left out by
 * JSONata's object constructor when absent, the counts are parsed in one expression, and the steps
 * share results through variables instead of reshaping the state's JSON.
 *
 * Logging: every event (level ALL) into a log group encrypted with its own key, without execution
 * data — inputs and outputs hold query parameters (values from segment definitions) and results,
 * which must not reach logs (DESIGN.md: logs never contain PII); the execution history keeps them for
 * whoever may read executions. X-Ray tracing is on.
 *
 * The role holds exactly the statements written here. The Athena task of aws-stepfunctions-tasks
 * would add S3 actions on every bucket, Glue writes (CreateTable, DeleteDatabase, ...) on the database
 * and Lake Formation access on "*", so the state machine is given the role without policy updates.
 */
export class AudienceExportWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.IRole;
  public readonly logGroup: logs.ILogGroup;
  /** The log group's key. */
  public readonly logKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AudienceExportWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { workGroup } = props;

    // Logs: a name under /aws/vendedlogs/ (Step Functions' advice: it keeps the log delivery resource
    // policy small), so the key policy can name the log group without a reference cycle. The name
    // ends in the stack's id (the UUID of this deployment of the stack): the log group may be retained
    // when the stack is deleted, and a new stack of the same name must be able to create its own.
    const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
    const logGroupName = `/aws/vendedlogs/states/${stack.stackName}-audience-export-${stackUuid}`;
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.logKey = new kms.Key(this, 'LogKey', {
      description: 'Mosaic audience export workflow logs encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.logKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } },
      }),
    );
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      encryptionKey: this.logKey,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.logGroup = logGroup;

    // The role: everything the steps do, nothing else.
    const access: QueryAccess = {
      databaseName: props.databaseName,
      tables: [LAKE_TABLES.events, LAKE_TABLES.identityLinks, EXPORT_MEMBERS_TABLE],
      read: [
        {
          bucket: props.lakeBucket,
          prefixes: [LAKE_PREFIXES.events, LAKE_PREFIXES.identity_links],
          key: props.lakeKey,
        },
      ],
      write: [{ bucket: props.exportsBucket, prefixes: [EXPORTS_PREFIX], key: workGroup.encryptionKey }],
    };
    const tableKey = props.segmentsTable.encryptionKey;
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description:
        'Audience export workflow: Athena queries into the exports bucket, export and segment items, the bus',
      inlinePolicies: {
        workflow: new iam.PolicyDocument({
          statements: [
            ...workGroup.queryPolicyStatements(access),
            new iam.PolicyStatement({
              actions: ['dynamodb:UpdateItem'],
              resources: [props.segmentsTable.tableArn],
            }),
            ...(tableKey
              ? [
                  new iam.PolicyStatement({
                    actions: [...TABLE_KEY_WRITE_ACTIONS],
                    resources: [tableKey.keyArn],
                    conditions: {
                      StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` },
                    },
                  }),
                ]
              : []),
            new iam.PolicyStatement({
              actions: ['events:PutEvents'],
              resources: [props.eventBus.eventBusArn],
            }),
            // Vended log delivery and X-Ray support no resource-level permissions.
            new iam.PolicyStatement({
              actions: [
                'logs:CreateLogDelivery',
                'logs:GetLogDelivery',
                'logs:UpdateLogDelivery',
                'logs:DeleteLogDelivery',
                'logs:ListLogDeliveries',
                'logs:PutResourcePolicy',
                'logs:DescribeResourcePolicies',
                'logs:DescribeLogGroups',
              ],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              actions: [
                'xray:PutTraceSegments',
                'xray:PutTelemetryRecords',
                'xray:GetSamplingRules',
                'xray:GetSamplingTargets',
              ],
              resources: ['*'],
            }),
          ],
        }),
      },
    });
    this.role = role;
    workGroup.acknowledgeQueryAccess(role, access);
    // On the role's own resource (its inline policy), not the role: a "*" granted to it later through
    // a default policy is still reported.
    Validations.of(role.node.defaultChild as iam.CfnRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:*LogDelivery*, resource policies) and X-Ray tracing support no resource-level permissions; they are the only actions granted on "*".',
    });

    const definition = new WorkflowDefinition(this, props).chain;
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      comment: 'Mosaic audience export: Athena queries → export item and segment → Audience Export Completed',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: role.withoutPolicyUpdates(),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }
}

/** The lake tables the members query reads (names from the lake catalog). */
const LAKE_TABLES = { events: 'events', identityLinks: 'identity_links' } as const;

/** What DynamoDB needs on a table's customer managed key to update an item for the caller. */
const TABLE_KEY_WRITE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
] as const;

/** A JSONata expression. */
const jsonata = (expression: string) => `{% ${expression} %}`;
/** A JSONata string literal. */
const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const INPUT = '$states.input';

/**
 * The reason of a failure, from a catcher's `$states.errorOutput`: Athena's `StateChangeReason` when
 * the cause is a failed query execution (its JSON also holds the whole query), else the cause; cut to
 * {@link MAX_ERROR_LENGTH} with the error name. The regex names `"` and `\` by their codes (`\x22`,
 * `\x5c`): no double quote inside the expression, and no `\]` or `\)`, which JSONata's tokenizer
 * would take for escaped brackets and so never find the regex's end.
 */
export const FAILURE_MESSAGE = String.raw`(
  $cause := $exists($states.errorOutput.Cause) ? $string($states.errorOutput.Cause) : '';
  $reason := $match($cause, /\x22StateChangeReason\x22\s*:\s*\x22((?:[^\x22\x5c]|\x5c.)*)\x22/)[0].groups[0];
  $substring($join([$string($states.errorOutput.Error), $reason ? $reason : $cause][$ != ''], ': '), 0, ${MAX_ERROR_LENGTH})
)`;

/**
 * Row 1 of the counts query's results (row 0 is the header): `member_count`, `added`, `removed`. A sum
 * over no rows is NULL, which GetQueryResults returns as a cell without a value: 0.
 */
export const COUNTS = `(
  $row := $states.result.ResultSet.Rows[1].Data;
  $cell := function($i) { $exists($row[$i].VarCharValue) ? $number($row[$i].VarCharValue) : 0 };
  { 'count': $cell(0), 'added': $cell(1), 'removed': $cell(2) }
)`;

/**
 * The detail of `Audience Export Completed` v1 (`AudienceExportCompletedDetail`): JSONata leaves a key
 * out when its value is undefined, so `destination` and `previousExportId` appear only when the input
 * has them.
 */
export const COMPLETED_DETAIL = `{
  'version': 1,
  'exportId': ${INPUT}.exportId,
  'segmentId': ${INPUT}.segmentId,
  'segmentVersion': ${INPUT}.segmentVersion,
  'destination': ${INPUT}.destination,
  'format': ${INPUT}.format,
  'count': $counts.count,
  'added': $counts.added,
  'removed': $counts.removed,
  'previousExportId': ${INPUT}.previousExportId,
  'audienceLocation': ${INPUT}.audienceLocation,
  'changesLocation': ${INPUT}.changesLocation,
  'membersLocation': ${INPUT}.membersLocation,
  'completedAt': $completedAt
}`;

/** The states of the workflow, built in order; {@link chain} starts it. */
class WorkflowDefinition {
  public readonly chain: sfn.IChainable;
  private readonly failed: sfn.IChainable;

  constructor(
    private readonly scope: Construct,
    private readonly props: AudienceExportWorkflowProps,
  ) {
    const exportItem = exportKey('');
    const segmentItem = segmentKey('');
    const exportItemKey = {
      pk: tasks.DynamoAttributeValue.fromString(jsonata(`${quoted(exportItem.pk)} & ${INPUT}.exportId`)),
      sk: tasks.DynamoAttributeValue.fromString(exportItem.sk),
    };

    // Failure: the export item → FAILED (only while RUNNING), then the execution fails.
    const fail = sfn.Fail.jsonata(scope, 'Export failed', {
      error: jsonata('$failedError'),
      cause: jsonata('$failedMessage'),
    });
    const markFailed = tasks.DynamoUpdateItem.jsonata(scope, 'Mark export failed', {
      table: props.segmentsTable,
      key: exportItemKey,
      updateExpression: 'SET #status = :failed, #error = :error, #completedAt = :completedAt',
      conditionExpression: '#status = :running',
      expressionAttributeNames: { '#status': 'status', '#error': 'error', '#completedAt': 'completedAt' },
      expressionAttributeValues: {
        ':failed': tasks.DynamoAttributeValue.fromString('FAILED'),
        ':running': tasks.DynamoAttributeValue.fromString('RUNNING'),
        ':error': tasks.DynamoAttributeValue.fromString(jsonata('$failedMessage')),
        ':completedAt': tasks.DynamoAttributeValue.fromString(jsonata('$now()')),
      },
    });
    markFailed.addRetry({ errors: [...RETRYABLE.dynamoDbThrottled], ...BACKOFF });
    // Not RUNNING any more (the export had already succeeded, or was marked failed): nothing to record.
    markFailed.addCatch(fail, { errors: [sfn.Errors.ALL] });
    markFailed.next(fail);
    this.failed = markFailed;

    // 6. Announce.
    const publish = tasks.EventBridgePutEvents.jsonata(scope, 'Publish export completed', {
      entries: [
        {
          eventBus: props.eventBus,
          source: BUS_SOURCE,
          detailType: AUDIENCE_EXPORT_COMPLETED,
          detail: sfn.TaskInput.fromText(jsonata(COMPLETED_DETAIL)),
        },
      ],
    });
    publish.addRetry({ errors: [...RETRYABLE.eventBridge], ...BACKOFF });
    this.catchAll(publish);
    publish.next(new sfn.Succeed(scope, 'Export completed'));

    // 5. Record: the export item, then the segment's lastExport.
    const recordLastExport = tasks.DynamoUpdateItem.jsonata(scope, 'Record last export', {
      table: props.segmentsTable,
      key: {
        pk: tasks.DynamoAttributeValue.fromString(segmentItem.pk),
        sk: tasks.DynamoAttributeValue.fromString(jsonata(`${quoted(segmentItem.sk)} & ${INPUT}.segmentId`)),
      },
      updateExpression: 'SET lastExport = :lastExport',
      // The segment may have been deleted meanwhile, and a later export may have finished first.
      conditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(lastExport) OR lastExport.exportId < :exportId)',
      expressionAttributeValues: {
        ':exportId': tasks.DynamoAttributeValue.fromString(jsonata(`${INPUT}.exportId`)),
        ':lastExport': tasks.DynamoAttributeValue.fromMap({
          exportId: tasks.DynamoAttributeValue.fromString(jsonata(`${INPUT}.exportId`)),
          completedAt: tasks.DynamoAttributeValue.fromString(jsonata('$completedAt')),
          count: tasks.DynamoAttributeValue.numberFromString(jsonata('$string($counts.count)')),
        }),
      },
      outputs: jsonata(INPUT),
    });
    recordLastExport.addRetry({ errors: [...RETRYABLE.dynamoDbThrottled], ...BACKOFF });
    recordLastExport.addCatch(publish, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      outputs: jsonata(INPUT),
    });
    this.catchAll(recordLastExport);
    recordLastExport.next(publish);

    const markSucceeded = tasks.DynamoUpdateItem.jsonata(scope, 'Mark export succeeded', {
      table: props.segmentsTable,
      key: exportItemKey,
      updateExpression:
        'SET #status = :succeeded, #count = :count, #added = :added, #removed = :removed, #completedAt = :completedAt',
      conditionExpression: '#status = :running',
      expressionAttributeNames: {
        '#status': 'status',
        '#count': 'count',
        '#added': 'added',
        '#removed': 'removed',
        '#completedAt': 'completedAt',
      },
      expressionAttributeValues: {
        ':succeeded': tasks.DynamoAttributeValue.fromString('SUCCEEDED'),
        ':running': tasks.DynamoAttributeValue.fromString('RUNNING'),
        ':count': tasks.DynamoAttributeValue.numberFromString(jsonata('$string($counts.count)')),
        ':added': tasks.DynamoAttributeValue.numberFromString(jsonata('$string($counts.added)')),
        ':removed': tasks.DynamoAttributeValue.numberFromString(jsonata('$string($counts.removed)')),
        ':completedAt': tasks.DynamoAttributeValue.fromString(jsonata('$completedAt')),
      },
      outputs: jsonata(INPUT),
    });
    markSucceeded.addRetry({ errors: [...RETRYABLE.dynamoDbThrottled], ...BACKOFF });
    this.catchAll(markSucceeded);
    markSucceeded.next(recordLastExport);

    // 4. Counts.
    const readCounts = tasks.AthenaGetQueryResults.jsonata(scope, 'Read counts', {
      queryExecutionId: jsonata('$countsQueryId'),
      maxResults: 2,
      outputs: jsonata(INPUT),
      assign: { counts: jsonata(COUNTS), completedAt: jsonata('$now()') },
    });
    readCounts.addRetry({ errors: [...RETRYABLE.athenaRead], ...BACKOFF });
    this.catchAll(readCounts);
    readCounts.next(markSucceeded);
    const counts = this.query('counts', 'Count members', readCounts, {
      retry: RETRYABLE.athenaRead,
      assign: { countsQueryId: jsonata('$states.result.QueryExecution.QueryExecutionId') },
    });

    // 3. Changes.
    const changes = this.query('changes', 'Unload changes', counts, { retry: RETRYABLE.athenaThrottled });

    // 2. Audience: Parquet by UNLOAD; CSV by a SELECT whose result file is copied into the export.
    const copyCsv = tasks.CallAwsService.jsonata(scope, 'Copy audience CSV', {
      service: 's3',
      action: 'copyObject',
      parameters: {
        Bucket: jsonata(`${INPUT}.audienceCsv.bucket`),
        Key: jsonata(`${INPUT}.audienceCsv.key`),
        CopySource: jsonata(`$substringAfter($audienceResult, 's3://')`),
      },
      iamResources: [
        props.workGroup.resultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`),
        props.exportsBucket.arnForObjects(`${EXPORTS_PREFIX}*`),
      ],
      iamAction: 's3:PutObject',
      outputs: jsonata(INPUT),
    });
    copyCsv.addRetry({ errors: [...RETRYABLE.s3], ...BACKOFF });
    this.catchAll(copyCsv);
    copyCsv.next(changes);
    const selectAudience = this.query('audience', 'Select audience', copyCsv, {
      retry: RETRYABLE.athenaRead,
      assign: { audienceResult: jsonata('$states.result.QueryExecution.ResultConfiguration.OutputLocation') },
    });
    const unloadAudience = this.query('audience', 'Unload audience', changes, {
      retry: RETRYABLE.athenaThrottled,
    });
    const format = sfn.Choice.jsonata(scope, 'Audience format?')
      .when(sfn.Condition.jsonata(jsonata(`${INPUT}.format = 'csv'`)), selectAudience)
      .otherwise(unloadAudience);

    // 1. Members.
    this.chain = this.query('members', 'Unload members', format, { retry: RETRYABLE.athenaThrottled });
  }

  /**
   * One query of the input as a Choice on whether it has parameters and the two Athena `.sync` tasks
   * (with and without `ExecutionParameters`), both continuing with `next`.
   */
  private query(
    name: QueryName,
    stateName: string,
    next: sfn.IChainable,
    options: { readonly retry: readonly string[]; readonly assign?: Record<string, string> },
  ): sfn.IChainable {
    const query = `${INPUT}.queries.${name}`;
    const task = (id: string, withParameters: boolean) => {
      const start = tasks.AthenaStartQueryExecution.jsonata(this.scope, id, {
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        queryString: jsonata(`${query}.sql`),
        ...(withParameters ? { executionParameters: Token.asList(jsonata(`${query}.parameters`)) } : {}),
        // The same token for the same query of the same execution: a retried start is the same query.
        clientRequestToken: jsonata(`$hash($states.context.Execution.Id & '/${name}', 'SHA-256')`),
        workGroup: this.props.workGroup.workGroupName,
        queryExecutionContext: { databaseName: this.props.databaseName },
        taskTimeout: sfn.Timeout.duration(EXPORT_QUERY_TIMEOUT),
        outputs: jsonata(INPUT),
        ...(options.assign ? { assign: options.assign } : {}),
      });
      start.addRetry({ errors: [...options.retry], ...BACKOFF });
      this.catchAll(start);
      start.next(next);
      return start;
    };
    return sfn.Choice.jsonata(this.scope, `${stateName}: parameters?`)
      .when(sfn.Condition.jsonata(jsonata(`$count(${query}.parameters) > 0`)), task(stateName, true))
      .otherwise(task(`${stateName} (no parameters)`, false));
  }

  /** Every error of `state` → the export item FAILED, keeping the error for the Fail state. */
  private catchAll(state: sfn.TaskStateBase): void {
    state.addCatch(this.failed, {
      errors: [sfn.Errors.ALL],
      assign: {
        failedError: jsonata(
          "$exists($states.errorOutput.Error) ? $string($states.errorOutput.Error) : 'States.Unknown'",
        ),
        failedMessage: jsonata(FAILURE_MESSAGE),
      },
      outputs: jsonata(INPUT),
    });
  }
}

/** Backoff for retries: 5 s, 10 s, 20 s, ... with full jitter, 5 attempts. */
const BACKOFF = {
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 5,
  maxDelay: Duration.minutes(1),
  jitterStrategy: sfn.JitterType.FULL,
} as const;
