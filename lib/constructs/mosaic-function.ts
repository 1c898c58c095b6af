import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { IDeliveryStreamRef } from 'aws-cdk-lib/aws-kinesisfirehose';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { type BundledConfig, bundledConfigOptions } from './bundled-config';

/** The repository root: function entries and the lock file are resolved against it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The one Lambda runtime of the project. */
export const MOSAIC_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * The settings of every function, as MosaicFunction sets them. `HouseFunctionAspect` checks every
 * function of the app against them in its synthesized resource, escape hatches included.
 */
export const HOUSE_FUNCTION_SETTINGS = {
  runtime: MOSAIC_RUNTIME,
  architecture: lambda.Architecture.ARM_64,
  loggingFormat: lambda.LoggingFormat.JSON,
  applicationLogLevel: lambda.ApplicationLogLevel.INFO,
  systemLogLevel: lambda.SystemLogLevel.WARN,
  tracing: lambda.Tracing.ACTIVE,
} as const;

/**
 * DynamoDB item actions by access level: exactly what the identity store adapter calls (no Scan, no
 * DeleteItem, no table management). Writes are single-item and conditional, so no transactions either.
 */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
} as const;
export type TableAccess = keyof typeof TABLE_ACTIONS;

/** DynamoDB item actions that change items: a caller using any of them needs the key to encrypt too. */
const TABLE_WRITE_ACTIONS = new Set([
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
]);

/** KMS actions a DynamoDB caller needs on the table's customer managed key, by access level. */
const TABLE_KEY_ACTIONS: Record<TableAccess, readonly string[]> = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  readWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
};

/**
 * What a Lambda event source mapping needs to read a Kinesis stream with a shared-throughput
 * (standard) iterator. `SubscribeToShard` is for enhanced fan-out consumers, which Mosaic does not use.
 */
export const STREAM_READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/** What active X-Ray tracing needs of a function's role (on "*": X-Ray has no resource-level permissions). */
export const TRACING_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

/** Lambda allows 4 KB of environment in all; the rest is left for names of resources and defaults. */
export const MAX_CONFIG_ENV_BYTES = 3500;

const MOSAIC_FUNCTION_BRAND = Symbol.for('mosaic.MosaicFunction');
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

export interface MosaicFunctionProps {
  /** The TypeScript entry point, relative to the repository root (`functions/collector/index.ts`). */
  readonly entry: string;
  /** The exported handler in the entry. @default 'handler' */
  readonly handler?: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Service name in logs, metrics and traces (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string;
  /** Log retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /**
   * Concurrent executions reserved for (and at most available to) this function.
   * @default none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Plain configuration values. Names of AWS resources do not belong here: use a `bind...` method,
   * which adds the permission together with the variable.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Configuration compiled into the bundle (see `bundledConfigOptions`): each `process.env.NAME` the
   * code reads becomes the value. For configuration that may outgrow Lambda's 4 KB of environment
   * (destinations, identity rules); the code reads it as it reads a variable.
   */
  readonly bundledConfig?: BundledConfig;
}

/**
 * The house Lambda function. Every function of Mosaic is one of these (an Aspect fails synth
 * otherwise), so all of them share one runtime and bundling setup: Node.js 22 on arm64, an ESM bundle
 * built by the local esbuild (minified, with source maps), JSON logs into an explicit log group with a
 * retention, X-Ray tracing, and a role that starts with nothing but writing its own logs and traces.
 *
 * Resources are wired with `bind...` methods that grant exactly what the function needs and set the
 * environment variable naming the resource in the same call, so the two cannot drift apart.
 * Configuration too large for the environment (destinations, identity rules) is compiled into the
 * bundle instead (`bundledConfig`).
 */
export class MosaicFunction extends Construct {
  /** Whether `x` is a {@link MosaicFunction} (works across copies of this module). */
  static isMosaicFunction(x: unknown): x is MosaicFunction {
    return typeof x === 'object' && x !== null && MOSAIC_FUNCTION_BRAND in x;
  }

  /**
   * Whether `construct` is the Lambda function (or its CloudFormation resource) of a MosaicFunction.
   */
  static owns(construct: IConstruct): boolean {
    const fn = construct instanceof lambda.Function ? construct : construct.node.scope;
    const owner = fn?.node.scope;
    return MosaicFunction.isMosaicFunction(owner) && owner.function === fn;
  }

  /** The function, for integrations, event sources and invoke grants. */
  public readonly function: lambda.IFunction;
  /** Its execution role. */
  public readonly role: iam.IRole;
  /** Where it logs (JSON). */
  public readonly logGroup: logs.ILogGroup;
  /** The configuration compiled into its bundle, by name. */
  public readonly bundledConfig: BundledConfig;

  private readonly nodejsFunction: NodejsFunction;
  private readonly environmentNames = new Set<string>();

  constructor(scope: Construct, id: string, props: MosaicFunctionProps) {
    super(scope, id);
    Object.defineProperty(this, MOSAIC_FUNCTION_BRAND, { value: true });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    // An own role instead of the default one with the AWSLambdaBasicExecutionRole managed policy,
    // which may write to any log group in the account.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    // The X-Ray actions, the only ones granted on "*" (X-Ray has no resource-level permissions), in a
    // policy of their own that cdk-nag's Resource::* finding is acknowledged on. Every other grant
    // goes to the role's default policy, where a "*" is a finding nothing acknowledges.
    const tracingPolicy = new iam.Policy(this, 'TracingPolicy', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: [...TRACING_ACTIONS], resources: ['*'] })],
    });
    Validations.of(tracingPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; this policy holds only them. Acknowledged on this policy alone, so a "*" granted through the role\'s default policy is still reported.',
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: 'Mosaic',
    };
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      assertEnvName(name);
      if (name in environment)
        throw new Error(`${this.node.path}: environment variable ${name} is set by MosaicFunction`);
      environment[name] = value;
    }
    for (const name of Object.keys(environment)) this.environmentNames.add(name);
    this.bundledConfig = { ...props.bundledConfig };
    for (const name of Object.keys(this.bundledConfig)) {
      // A value in both places would be read from the bundle only.
      if (name in environment)
        throw new Error(
          `${this.node.path}: ${name} is both an environment variable and bundled configuration`,
        );
      this.environmentNames.add(name);
    }
    const bundled = bundledConfigOptions(this, this.bundledConfig);

    this.nodejsFunction = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: HOUSE_FUNCTION_SETTINGS.runtime,
      architecture: HOUSE_FUNCTION_SETTINGS.architecture,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      role,
      logGroup: this.logGroup,
      loggingFormat: HOUSE_FUNCTION_SETTINGS.loggingFormat,
      applicationLogLevelV2: HOUSE_FUNCTION_SETTINGS.applicationLogLevel,
      systemLogLevelV2: HOUSE_FUNCTION_SETTINGS.systemLogLevel,
      // Tracing is set on the resource below: `tracing` here would add the X-Ray actions on "*" to
      // the role's default policy, where any "*" must stay a finding.
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      environment,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies may still call require(); give them one in the ESM bundle.
        banner:
          "import { createRequire as __mosaicCreateRequire } from 'node:module'; const require = __mosaicCreateRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // The SDK version we test against ships in the bundle instead of the runtime's copy.
        bundleAwsSDK: true,
        tsconfig: `${PROJECT_ROOT}tsconfig.json`,
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
        ...bundled,
      },
    });
    (this.nodejsFunction.node.defaultChild as lambda.CfnFunction).tracingConfig = {
      mode: HOUSE_FUNCTION_SETTINGS.tracing,
    };
    // Traces can be written from the first invocation on.
    this.nodejsFunction.node.addDependency(tracingPolicy);
    this.function = this.nodejsFunction;

    Validations.of(this.nodejsFunction).acknowledge(
      ...['AwsSolutions-L1', 'Serverless-LambdaLatestVersion'].map((id) => ({
        id,
        reason:
          'The runtime is pinned on purpose to nodejs22.x (a supported LTS runtime), the Node.js major the handlers are built and tested for; moving every function to a newer runtime is one reviewed change of MOSAIC_RUNTIME, never an implicit upgrade.',
      })),
    );
  }

  /**
   * Lets the function put records into a Kinesis stream: `kinesis:PutRecords` on that stream only,
   * plus `kms:GenerateDataKey` (all a producer needs) on its key, for that stream only, when the
   * stream is encrypted with a customer managed key.
   * Sets `envName` to the stream's name.
   */
  bindStreamWriter(stream: kinesis.IStream, envName: string): void {
    this.bindEnvironment(envName, stream.streamName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kinesis:PutRecords'], resources: [stream.streamArn] }),
    );
    if (stream.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey'],
          resources: [stream.encryptionKey.keyArn],
          // Kinesis passes the stream ARN as encryption context: the key serves this stream only.
          conditions: { StringEquals: { 'kms:EncryptionContext:aws:kinesis:arn': stream.streamArn } },
        }),
      );
    }
  }

  /**
   * Lets the function put record batches into a Firehose delivery stream (`firehose:PutRecordBatch`
   * on that stream only) and sets `envName` to the delivery stream's name.
   */
  bindDeliveryStreamWriter(deliveryStream: IDeliveryStreamRef, envName: string): void {
    const { deliveryStreamArn, deliveryStreamName } = deliveryStream.deliveryStreamRef;
    this.bindEnvironment(envName, deliveryStreamName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['firehose:PutRecordBatch'], resources: [deliveryStreamArn] }),
    );
  }

  /**
   * Lets the function use a DynamoDB table: the item actions of `access` ({@link TABLE_ACTIONS}, or
   * exactly the actions listed) on that table only, and — when the table is encrypted with a customer
   * managed key — the KMS actions DynamoDB needs on the caller's behalf (decrypt; encrypt too when an
   * action writes), only through DynamoDB. Sets `envName` to the table's name.
   */
  bindTable(table: dynamodb.ITable, access: TableAccess | readonly string[], envName: string): void {
    const actions = typeof access === 'string' ? [...TABLE_ACTIONS[access]] : [...access];
    if (actions.length === 0 || actions.some((action) => !action.startsWith('dynamodb:'))) {
      throw new Error(`${this.node.path}: bindTable needs DynamoDB actions, got ${actions.join(', ')}`);
    }
    this.bindEnvironment(envName, table.tableName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
    if (table.encryptionKey) {
      const writes = actions.some((action) => TABLE_WRITE_ACTIONS.has(action));
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...TABLE_KEY_ACTIONS[writes ? 'readWrite' : 'read']],
          resources: [table.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }

  /**
   * Lets the function send messages to an SQS queue (`sqs:SendMessage` on that queue only) and,
   * when the queue is encrypted with a customer managed key, use that key as an SQS producer must
   * (`kms:GenerateDataKey` and `kms:Decrypt`), only through SQS. Sets `envName` to the queue's URL.
   */
  bindQueueSender(queue: sqs.IQueue, envName: string): void {
    this.bindEnvironment(envName, queue.queueUrl);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    if (queue.encryptionMasterKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [queue.encryptionMasterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
  }

  /**
   * Lets the function write objects into a bucket — `s3:PutObject` (no read, no delete) on the objects
   * whose keys match `keyPattern` (an IAM pattern; all of them by default) and, when the bucket is
   * encrypted with a customer managed key, `kms:GenerateDataKey` on that key through S3 — and sets
   * `envName` to the bucket's name.
   */
  bindBucketWriter(bucket: s3.IBucket, envName: string, keyPattern = '*'): void {
    this.bindEnvironment(envName, bucket.bucketName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(keyPattern)] }),
    );
    if (bucket.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey'],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
  }

  /**
   * Lets the function publish to an EventBridge bus (`events:PutEvents` on that bus only) and sets
   * `envName` to the bus's name.
   */
  bindEventBus(bus: events.IEventBus, envName: string): void {
    this.bindEnvironment(envName, bus.eventBusName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [bus.eventBusArn] }),
    );
  }

  /**
   * Invokes the function with batches of records from a Kinesis stream (an event source mapping
   * with these options) and grants what the mapping needs to read it: {@link STREAM_READ_ACTIONS} on
   * that stream only and, when the stream is encrypted with a customer managed key, `kms:Decrypt`
   * through Kinesis for that stream only. Failure destinations grant their own permissions.
   */
  addStreamEventSource(
    id: string,
    stream: kinesis.IStream,
    options: Omit<
      lambda.EventSourceMappingOptions,
      'eventSourceArn' | 'kafkaTopic' | 'kafkaBootstrapServers'
    >,
  ): lambda.EventSourceMapping {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...STREAM_READ_ACTIONS], resources: [stream.streamArn] }),
    );
    if (stream.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [stream.encryptionKey.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com`,
              'kms:EncryptionContext:aws:kinesis:arn': stream.streamArn,
            },
          },
        }),
      );
    }
    // The mapping refers to the function, which depends on its role and the role's policies: the
    // permissions exist before Lambda checks them when it creates the mapping.
    const mapping = new lambda.EventSourceMapping(this, id, {
      ...options,
      target: this.function,
      eventSourceArn: stream.streamArn,
    });
    return mapping;
  }

  private bindEnvironment(name: string, value: string): void {
    assertEnvName(name);
    if (this.environmentNames.has(name)) {
      throw new Error(`${this.node.path}: environment variable ${name} is already set`);
    }
    this.environmentNames.add(name);
    this.nodejsFunction.addEnvironment(name, value);
  }
}

/**
 * Configuration passed to a function as environment variables, checked against Lambda's 4 KB limit
 * for all variables together (leaving room for resource names): fails synth naming `what` to shrink.
 * For small configuration only; what may grow large goes into the bundle (`bundledConfig`).
 */
export function configEnvironment<T extends Record<string, string>>(what: string, variables: T): T {
  const bytes = Object.entries(variables).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
  if (bytes > MAX_CONFIG_ENV_BYTES) {
    throw new Error(
      `The ${what} is too large for the function's environment (${bytes} bytes, at most ${MAX_CONFIG_ENV_BYTES}; Lambda allows 4 KB of variables in all).`,
    );
  }
  return variables;
}

function assertEnvName(name: string): void {
  if (!ENV_NAME.test(name)) throw new Error(`Invalid environment variable name "${name}"`);
}
