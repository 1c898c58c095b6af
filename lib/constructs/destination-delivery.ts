import { Aws, Duration, Fn, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { DestinationDeliveryEnv } from '../../functions/destination-delivery/env';
import type { Destination, DestinationsConfig } from '../../src/core/activation/destination-config';
import { destinationRulePattern } from '../../src/core/activation/routing';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import type { AthenaWorkgroup, QueryAccess } from './athena-workgroup';
import { EXPORT_MEMBERS_TABLE, EXPORTS_PREFIX } from './audience-exports';
import { destinationPayloadKeys } from './delivery-payload-bucket';
import { grantDestinationSend } from './destination-access';
import { MosaicFunction } from './mosaic-function';
import { nagAttributeRef } from './nag-references';

/** A delivery function's environment variable names (defined by `functions/destination-delivery/env.ts`). */
export const DESTINATION_DELIVERY_ENV = {
  destination: 'DESTINATION_NAME',
  destinations: 'MOSAIC_DESTINATIONS',
  identity: 'MOSAIC_IDENTITY',
  identityTable: 'IDENTITY_TABLE_NAME',
  segmentsTable: 'SEGMENTS_TABLE_NAME',
  ledgerTable: 'LEDGER_TABLE_NAME',
  queue: 'DELIVERY_QUEUE_URL',
  deadLetterQueue: 'DEAD_LETTER_QUEUE_URL',
  workGroup: 'ATHENA_WORKGROUP',
  database: 'GLUE_DATABASE',
  exportMembersTable: 'EXPORT_MEMBERS_TABLE',
  payloadBucket: 'PAYLOAD_BUCKET',
} as const satisfies Record<string, keyof z.input<typeof DestinationDeliveryEnv>>;

/** The delivery function's entry (one function per destination). */
export const DESTINATION_DELIVERY_ENTRY = 'functions/destination-delivery/index.ts';

/** How long one delivery invocation may run: one batch of members, its retries' waits excluded. */
export const DELIVERY_TIMEOUT = Duration.minutes(5);
/**
 * How long a received message stays invisible: six times the function's timeout, as AWS advises
 * for Lambda consumers, so a message is never handed out again while an invocation still works on it.
 */
export const DELIVERY_VISIBILITY_TIMEOUT = Duration.minutes(30);
/** How long the dead-letter queue keeps a message: SQS's maximum, time to fix and redrive. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** SQS queue names are at most 80 characters. */
const MAX_QUEUE_NAME = 80;
/** Length of {@link stackInstanceSuffix}. */
const STACK_INSTANCE_SUFFIX_LENGTH = 8;

export interface DestinationDeliveryProps {
  /** The destination, as configured (enabled). */
  readonly destination: Destination;
  /**
   * The whole destinations configuration, this destination's included (`MOSAIC_DESTINATIONS`): the
   * same in every delivery function, so that all of them share one bundle.
   */
  readonly destinations: DestinationsConfig;
  /** Identity resolution rules (`MOSAIC_IDENTITY`): identifier types and their normalisers. */
  readonly identity: IdentityConfig;
  /** The Mosaic bus the destination's rule listens on. */
  readonly eventBus: events.IEventBus;
  /** Profiles (consent and identifiers of members): single and batch item reads only. */
  readonly identityTable: dynamodb.ITable;
  /** Segments and exports (an export's columns): single item reads only. */
  readonly segmentsTable: dynamodb.ITable;
  /** The delivery ledger: batches already accepted (read and conditional write). */
  readonly ledgerTable: dynamodb.ITable;
  /** Where the members query of an export runs, over `export_members` in `databaseName`. */
  readonly workGroup: AthenaWorkgroup;
  readonly databaseName: string;
  /** The audience exports bucket (encrypted with the workgroup's key); read for this destination's segments only. */
  readonly exportsBucket: s3.IBucket;
  /** Where payloads too large for the target's transport go (write only). */
  readonly payloadBucket: s3.IBucket;
  /** Where the queue alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Receives of one message before SQS moves it to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Alarm when the oldest message in the queue is older than this. */
  readonly oldestMessageAlarmThreshold: Duration;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the queues, their key and the logs when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The function's entry, relative to the repository root.
   * @default DESTINATION_DELIVERY_ENTRY
   */
  readonly entry?: string;
}

/**
 * One destination's delivery path, isolated from every other destination's: its own EventBridge rule
 * on the Mosaic bus (`destinationRulePattern`), its own SQS queue, its own delivery function with
 * reserved concurrency, its own dead-letter queue and alarms. A destination that is down or slow
 * fills only its own queue and spends only its own concurrency; the others keep delivering.
 *
 * - Rule → queue: the queue's policy lets only this rule send to it (`aws:SourceArn`). An event
 *   EventBridge cannot put into the queue (after its retries, up to a day) goes to the dead-letter
 *   queue, so it can be redriven like any other.
 * - Queue → function: batches of one message, partial batch failures. A message that fails
 *   `maxReceiveCount` times (crashes, timeouts, throttled invocations) moves to the dead-letter queue;
 *   the function itself retries a failing target (429/5xx with backoff, honouring Retry-After) by
 *   re-queueing the work with a delay, and parks batches that failed for good in the dead-letter
 *   queue. The dead-letter queue accepts messages from this queue only and can be redriven to it
 *   (SQS "start DLQ redrive"); the ledger makes a redrive or an archive replay send nothing twice.
 * - Both queues are encrypted with the destination's own customer managed key and accept TLS only.
 * - Alarms: a message in the dead-letter queue; the oldest queued message older than the threshold;
 *   the function failing (crash, timeout), which would otherwise show only hours later in the
 *   dead-letter queue.
 *
 * Webhooks are called by the delivery function itself, not through EventBridge API destinations:
 * an API destination can neither sign a request (HMAC over timestamp and body), nor split an export
 * into pages of members, nor keep a per-export, per-batch idempotency key across retries and replays.
 *
 * Grants are exactly what one delivery needs: the identity table (GetItem, BatchGetItem), the segments
 * table (GetItem), the ledger (GetItem, PutItem), sending to its own queue and dead-letter queue,
 * Athena in the workgroup over `export_members` and the export files of this destination's segments,
 * writing large payloads in its own folder of the payload bucket, and sending to its own target
 * (queue, function, bucket prefix, secrets).
 */
export class DestinationDelivery extends Construct {
  public readonly destination: Destination;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** Encrypts both queues. */
  public readonly encryptionKey: kms.Key;
  public readonly rule: events.CfnRule;
  public readonly function: MosaicFunction;
  /** A message is in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** The oldest queued message is older than the threshold: the destination is not keeping up. */
  public readonly oldestMessageAlarm: cloudwatch.Alarm;
  /** The function crashed, timed out or ran out of memory (a failing target is not an error). */
  public readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DestinationDeliveryProps) {
    super(scope, id);
    const { destination } = props;
    const stack = Stack.of(this);
    if (!destination.enabled) {
      throw new Error(
        `${this.node.path}: destination "${destination.name}" is disabled; it gets no delivery`,
      );
    }
    if (!props.destinations.destinations.some((d) => d.name === destination.name)) {
      throw new Error(
        `${this.node.path}: destination "${destination.name}" is not in the destinations configuration`,
      );
    }
    this.destination = destination;
    const eventsPrincipal = new iam.ServicePrincipal('events.amazonaws.com');

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Mosaic destination ${destination.name}: delivery queues encryption`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // EventBridge encrypts what it sends to the queues (the rule's target and its dead-letter queue).
    // Only rules of this account; the queue policies narrow it to this destination's rule. (The
    // rule's ARN cannot be named here: the rule refers to the queue, which refers to this key.)
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [eventsPrincipal],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    // Names are known ahead of time so that the dead-letter queue can name its one source queue
    // without a reference cycle (the source queue refers to the dead-letter queue for its redrive
    // policy). They start with the name of the Mosaic stack (a nested stack's own name is
    // CloudFormation's) and end in a suffix of the id of the stack that holds them: the same for
    // every update, and new when it is created again. With the `retain` removal policy, a stack
    // deleted and deployed again would otherwise collide with its predecessor's queues, which are
    // kept with their messages.
    const prefix = `${topLevelStackOf(this).stackName}-${destination.name}-`;
    const longest = `${prefix}${'x'.repeat(STACK_INSTANCE_SUFFIX_LENGTH)}-dlq`;
    if (longest.length > MAX_QUEUE_NAME) {
      throw new Error(
        `${this.node.path}: queue name "${prefix}<${STACK_INSTANCE_SUFFIX_LENGTH} characters of the stack id>-dlq" is ${longest.length} characters, longer than SQS allows (${MAX_QUEUE_NAME}); shorten the stack or destination name`,
      );
    }
    const queueName = `${prefix}${stackInstanceSuffix()}`;
    const deadLetterQueueName = `${queueName}-dlq`;
    const queueArn = stack.formatArn({ service: 'sqs', resource: queueName });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: deadLetterQueueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, 'SourceQueue', queueArn)],
      },
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: DELIVERY_VISIBILITY_TIMEOUT,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue of the destination queue; it has no dead-letter queue of its own. Its messages are kept 14 days, alarmed on, and redriven to the source queue.',
    });

    this.rule = new events.CfnRule(this, 'Rule', {
      description: `Mosaic destination ${destination.name}: exports and streaming membership changes of its segments`,
      eventBusName: props.eventBus.eventBusName,
      eventPattern: destinationRulePattern(destination),
      state: 'ENABLED',
      targets: [
        {
          id: 'DeliveryQueue',
          arn: this.queue.queueArn,
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          retryPolicy: { maximumEventAgeInSeconds: Duration.days(1).toSeconds(), maximumRetryAttempts: 185 },
        },
      ],
    });
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [eventsPrincipal],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': this.rule.attrArn } },
        }),
      );
    }

    const env = DESTINATION_DELIVERY_ENV;
    // The configuration is compiled into the bundle (the whole of it: one bundle for every delivery
    // function); the function finds its destination by name. Names of the workgroup and database go
    // in with the environment: MosaicFunction has no bind method for Athena. Each is granted below.
    this.function = new MosaicFunction(this, 'Function', {
      entry: props.entry ?? DESTINATION_DELIVERY_ENTRY,
      handler: 'handler',
      description: `Mosaic delivery to destination ${destination.name} (${destination.kind})`,
      serviceName: 'destination-delivery',
      memorySize: 1024,
      timeout: DELIVERY_TIMEOUT,
      reservedConcurrentExecutions: destination.reservedConcurrency,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      bundledConfig: {
        [env.destinations]: JSON.stringify(props.destinations),
        [env.identity]: JSON.stringify(props.identity),
      },
      environment: {
        [env.destination]: destination.name,
        [env.workGroup]: props.workGroup.workGroupName,
        [env.database]: props.databaseName,
        [env.exportMembersTable]: EXPORT_MEMBERS_TABLE,
      },
    });
    const fn = this.function;
    const role = fn.role;
    fn.bindTable(props.identityTable, ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], env.identityTable);
    fn.bindTable(props.segmentsTable, ['dynamodb:GetItem'], env.segmentsTable);
    fn.bindTable(props.ledgerTable, ['dynamodb:GetItem', 'dynamodb:PutItem'], env.ledgerTable);
    fn.bindQueueSender(this.queue, env.queue);
    fn.bindQueueSender(this.deadLetterQueue, env.deadLetterQueue);
    const payloadKeys = destinationPayloadKeys(destination.name);
    fn.bindBucketWriter(props.payloadBucket, env.payloadBucket, payloadKeys);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagAttributeRef(role, props.payloadBucket.node.defaultChild as s3.CfnBucket, 'Arn')}/${payloadKeys}]`,
      reason:
        "Large payloads are written under generated keys (export id, batch) in this destination's own folder of the payload bucket; s3:PutObject only (no read, no delete) on that folder is the narrowest grant that works.",
    });

    // The members of an export: Athena over export_members, reading the export files of this
    // destination's segments only (exports/segment_id={segment}/...).
    const access: QueryAccess = {
      databaseName: props.databaseName,
      tables: [EXPORT_MEMBERS_TABLE],
      read: [
        {
          bucket: props.exportsBucket,
          prefixes: destination.segments.map((segment) => `${EXPORTS_PREFIX}segment_id=${segment}/`),
          key: props.workGroup.encryptionKey,
        },
      ],
    };
    for (const statement of props.workGroup.queryPolicyStatements(access))
      role.addToPrincipalPolicy(statement);
    props.workGroup.acknowledgeQueryAccess(role, access);

    grantDestinationSend(role, destination);

    fn.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // Never more pollers than the function may run: a throttled invocation would return its
        // message to the queue and count a receive towards the dead-letter queue. The config holds
        // reservedConcurrency to SQS's minimum of 2 (lib/config.ts).
        maxConcurrency: destination.reservedConcurrency,
      }),
    );
    Validations.of(fn).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only by its SQS event source mapping, synchronously; a function dead-letter queue applies to asynchronous invocations. Messages that keep failing move to the destination queue’s own dead-letter queue (redrive policy).',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event source mappings take no on-failure destination; failed messages move to the destination queue’s dead-letter queue through its redrive policy after maxReceiveCount receives.',
      },
    );

    const alarmAction = new cloudwatchActions.SnsAction(props.alarmTopic);
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Destination ${destination.name}: messages in its dead-letter queue (${deadLetterQueueName}). Batches failed for good or events could not be delivered; fix the cause, then redrive the dead-letter queue to ${queueName}.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.oldestMessageAlarm = new cloudwatch.Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `Destination ${destination.name}: the oldest message in ${queueName} is older than ${props.oldestMessageAlarmThreshold.toMinutes()} minutes. The destination is down, throttling, or slower than its reserved concurrency allows; other destinations are not affected.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.oldestMessageAlarmThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `Destination ${destination.name}: its delivery function failed (threw, timed out or ran out of memory), not a target's refusal. The message returns to ${queueName} after 30 minutes and moves to ${deadLetterQueueName} after ${props.maxReceiveCount} receives.`,
      metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.deadLetterAlarm, this.oldestMessageAlarm, this.errorsAlarm]) {
      alarm.addAlarmAction(alarmAction);
      alarm.addOkAction(alarmAction);
    }
  }
}

/** The stack at the top of `scope`'s nested stacks (itself when it is not nested). */
function topLevelStackOf(scope: Construct): Stack {
  let stack = Stack.of(scope);
  while (stack.nestedStackParent !== undefined) stack = stack.nestedStackParent;
  return stack;
}

/**
 * The first {@link STACK_INSTANCE_SUFFIX_LENGTH} characters of the UUID in the id of the stack that
 * holds the queues (`arn:...:stack/{name}/{uuid}`), a delivery's nested stack: the same for the life
 * of that stack, whatever its updates, and another for the stack created again after a deletion.
 */
function stackInstanceSuffix(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}
