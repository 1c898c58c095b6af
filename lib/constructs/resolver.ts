import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { IDeliveryStreamRef } from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { z } from 'zod';
import type { ResolverEnv } from '../../functions/resolver/env';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import { bucketDefaults } from './bucket-defaults';
import { MosaicFunction } from './mosaic-function';

/** The resolver's environment variable names (defined by `functions/resolver/env.ts`). */
export const RESOLVER_ENV = {
  table: 'IDENTITY_TABLE_NAME',
  identityLinks: 'IDENTITY_LINKS_DELIVERY_STREAM_NAME',
  bus: 'EVENT_BUS_NAME',
  identity: 'MOSAIC_IDENTITY',
} as const satisfies Record<string, keyof z.input<typeof ResolverEnv>>;

export interface ResolverProps {
  /** The events stream the resolver reads (event source mapping). */
  readonly eventStream: kinesis.IStream;
  /** The identity graph and profiles (read-write). */
  readonly identityTable: dynamodb.ITable;
  /** Direct PUT delivery stream of the lake's `identity_links` table. */
  readonly identityLinksDeliveryStream: IDeliveryStreamRef;
  /** Where `Profile Merged` and later streaming-segment events are published. */
  readonly eventBus: events.IEventBus;
  /** Identity resolution rules, compiled into the function's bundle as `MOSAIC_IDENTITY` (JSON). */
  readonly identity: IdentityConfig;
  /** Event source mapping and alarm settings. */
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly parallelizationFactor: number;
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
  /** Alarm when the function's IteratorAge (maximum) exceeds this. */
  readonly iteratorAgeAlarmThreshold: Duration;
  /** Where the alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Receives the failure bucket's S3 server access logs (the lake's access-logs bucket). */
  readonly accessLogsBucket: s3.IBucket;
  /** Age at which the records of failed batches expire. */
  readonly failureExpiration: Duration;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the failure bucket, its key and the logs when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The resolver: resolves every event of the events stream to one profile, in real time. A house
 * function invoked by an event source mapping on the stream (from the oldest record, partial batch
 * failures, batches bisected on error, bounded retries and record age) that reads and writes the
 * identity table, appends `identity_links` rows through Firehose and publishes to the Mosaic bus.
 *
 * A batch it gives up on is not lost: the mapping writes it, whole, to a dedicated S3 bucket
 * (customer managed key, versioned, TLS only, private, access-logged, expiring) for inspection and
 * replay. Alarms notify when the resolver falls behind (IteratorAge), fails (Errors), or a given-up
 * batch could not even be written to the failure bucket (DestinationDeliveryFailures).
 */
export class Resolver extends Construct {
  public readonly function: MosaicFunction;
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** Records of batches the mapping gave up on (Lambda's on-failure destination). */
  public readonly failureBucket: s3.IBucket;
  public readonly failureBucketKey: kms.IKey;
  public readonly iteratorAgeAlarm: cloudwatch.Alarm;
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Lambda could not write a given-up batch to the failure bucket: those records are lost. */
  public readonly failureDeliveryAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ResolverProps) {
    super(scope, id);

    this.failureBucketKey = new kms.Key(this, 'FailureBucketKey', {
      description: 'Mosaic resolver failure bucket encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    const failureBucket = new s3.Bucket(this, 'FailureBucket', {
      ...bucketDefaults({ removalPolicy: props.removalPolicy, encryptionKey: this.failureBucketKey }),
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'resolver-failures/',
      lifecycleRules: [
        {
          // Failed batches hold raw events (personal data): they expire, old versions a day later.
          id: 'expire-failures',
          expiration: props.failureExpiration,
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    this.failureBucket = failureBucket;

    this.function = new MosaicFunction(this, 'Function', {
      entry: 'functions/resolver/index.ts',
      handler: 'handler',
      description: 'Mosaic resolver: events stream → identity graph, profiles, identity_links, bus',
      serviceName: 'resolver',
      memorySize: 1024,
      // A stuck invocation holds up its shard (its share of it) for at most this long per attempt.
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      bundledConfig: { [RESOLVER_ENV.identity]: JSON.stringify(props.identity) },
    });
    this.function.bindTable(props.identityTable, 'readWrite', RESOLVER_ENV.table);
    this.function.bindDeliveryStreamWriter(props.identityLinksDeliveryStream, RESOLVER_ENV.identityLinks);
    this.function.bindEventBus(props.eventBus, RESOLVER_ENV.bus);

    this.eventSourceMapping = this.function.addStreamEventSource('EventSource', props.eventStream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      parallelizationFactor: props.parallelizationFactor,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts,
      maxRecordAge: props.maxRecordAge,
      onFailure: new S3FailureDestination(failureBucket, this.failureBucketKey),
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by the Kinesis event source mapping, synchronously; a dead-letter queue applies to asynchronous invocations. Batches the mapping gives up on go to its on-failure destination, the S3 failure bucket.',
    });
    Validations.of(this.function.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(failureBucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      reason:
        'Lambda writes each failed batch to the on-failure bucket under a generated key (aws/lambda/<mapping>/<shard>/<date>/...); the bucket is dedicated to that, so s3:PutObject (no read, no delete) on its objects is the narrowest grant that works.',
    });

    const alarmAction = new cloudwatchActions.SnsAction(props.alarmTopic);
    const fn = this.function.function;
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription:
        'The resolver is falling behind the events stream: its oldest unprocessed record is older than the threshold. Profiles lag behind events; records older than the maximum record age go to the failure bucket.',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensionsMap: { FunctionName: fn.functionName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      threshold: props.iteratorAgeAlarmThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // No records, no datapoints: an idle stream is not a lagging resolver.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'The resolver function failed (threw, timed out or ran out of memory). Its batch is retried, bisected and finally written to the failure bucket.',
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureDeliveryAlarm = new cloudwatch.Alarm(this, 'FailureDeliveryAlarm', {
      alarmDescription:
        'Lambda could not write a batch the resolver gave up on to the failure bucket (permissions, key, bucket): those records are lost to the resolver and cannot be replayed from the bucket.',
      metric: fn.metric('DestinationDeliveryFailures', {
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.iteratorAgeAlarm, this.errorsAlarm, this.failureDeliveryAlarm]) {
      alarm.addAlarmAction(alarmAction);
      alarm.addOkAction(alarmAction);
    }
  }
}

/**
 * An S3 on-failure destination for an event source mapping that grants only what Lambda needs to
 * write there: `s3:PutObject` on the bucket's objects, `s3:ListBucket`, and `kms:GenerateDataKey` on
 * the bucket's key through S3. (CDK's `S3OnFailureDestination` grants read-write on the whole bucket
 * and key, deletes included, which would let the function erase the record of its own failures.)
 */
export class S3FailureDestination implements lambda.IEventSourceDlq {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly key: kms.IKey,
  ) {}

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    const region = Stack.of(this.bucket).region;
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      }),
    );
    return { destination: this.bucket.bucketArn };
  }
}
