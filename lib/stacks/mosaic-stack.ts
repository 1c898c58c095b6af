import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { accountScopedNames, type MosaicConfig, removalPolicyOf } from '../config';
import { Activation } from '../constructs/activation';
import { AlarmTopic } from '../constructs/alarm-topic';
import { AthenaWorkgroup } from '../constructs/athena-workgroup';
import { AudienceExportWorkflow } from '../constructs/audience-export-workflow';
import { AudienceExports } from '../constructs/audience-exports';
import { CollectorApi } from '../constructs/collector-api';
import { DestinationsApi } from '../constructs/destinations-api';
import { EventBus } from '../constructs/event-bus';
import { EventStream } from '../constructs/event-stream';
import { IdentityTable } from '../constructs/identity-table';
import { Lake } from '../constructs/lake';
import { ProfileApi } from '../constructs/profile-api';
import { Resolver } from '../constructs/resolver';
import { SegmentsApi } from '../constructs/segments-api';
import { SegmentsTable } from '../constructs/segments-table';

export interface MosaicStackProps extends StackProps {
  readonly config: MosaicConfig;
}

/**
 * Mosaic in one stack: the collector API writes to the events stream, which Firehose lands in the lake;
 * the resolver resolves every event to a profile in the identity table, appends identity links to the
 * lake and publishes to the Mosaic bus; the Profile API reads profiles behind admin keys. The Segments
 * API (behind the same admin keys) keeps segment definitions, previews them with Athena over the lake
 * and starts the export workflow, which writes audience files to the exports bucket and announces them
 * on the bus. Activation delivers them: each enabled destination has its own rule on the bus, queue,
 * delivery function and dead-letter queue, and the Destinations API (same admin keys) lists and tests
 * destinations. Composition only; each concern lives in its construct.
 */
export class MosaicStack extends Stack {
  public readonly eventStream: EventStream;
  public readonly lake: Lake;
  public readonly collector: CollectorApi;
  public readonly identityTable: IdentityTable;
  public readonly eventBus: EventBus;
  public readonly alarmTopic: AlarmTopic;
  public readonly resolver: Resolver;
  public readonly profileApi: ProfileApi;
  public readonly segmentsTable: SegmentsTable;
  public readonly athenaWorkgroup: AthenaWorkgroup;
  public readonly audienceExports: AudienceExports;
  public readonly exportWorkflow: AudienceExportWorkflow;
  public readonly segmentsApi: SegmentsApi;
  public readonly activation: Activation;
  public readonly destinationsApi: DestinationsApi;

  constructor(scope: Construct, id: string, props: MosaicStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    const logRetention = config.retention.logDays;
    // Named after the stack unless configured: unique in the account and region (see the function).
    const names = accountScopedNames(config, this.stackName);

    // First, so that every construct with alarms (the ingest path's included) can notify it.
    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      ...(config.alarms.topicArn === undefined ? {} : { topicArn: config.alarms.topicArn }),
      removalPolicy,
    });

    this.eventStream = new EventStream(this, 'EventStream', {
      retentionHours: config.retention.streamHours,
      removalPolicy,
    });

    this.lake = new Lake(this, 'Lake', {
      eventStream: this.eventStream.stream,
      databaseName: names.databaseName,
      partitionStartDate: config.lake.partitionStartDate,
      bufferingInterval: Duration.seconds(config.firehose.intervalSeconds),
      bufferingSize: Size.mebibytes(config.firehose.sizeMiB),
      quarantineExpiration: Duration.days(config.retention.quarantineDays),
      errorsExpiration: Duration.days(config.retention.errorsDays),
      noncurrentVersionExpiration: Duration.days(config.retention.lakeNoncurrentDays),
      accessLogsExpiration: Duration.days(config.retention.accessLogDays),
      logRetention,
      alarmTopic: this.alarmTopic.topic,
      removalPolicy,
    });

    this.collector = new CollectorApi(this, 'Collector', {
      eventStream: this.eventStream.stream,
      quarantineDeliveryStream: this.lake.quarantineDeliveryStream,
      sources: config.sources,
      limits: config.limits,
      throttle: config.throttle,
      logRetention,
      removalPolicy,
      alarmTopic: this.alarmTopic.topic,
    });

    this.identityTable = new IdentityTable(this, 'IdentityTable', { removalPolicy });

    this.eventBus = new EventBus(this, 'EventBus', {
      busName: names.busName,
      archiveRetention: Duration.days(config.bus.archiveDays),
    });

    this.resolver = new Resolver(this, 'Resolver', {
      eventStream: this.eventStream.stream,
      identityTable: this.identityTable.table,
      identityLinksDeliveryStream: this.lake.identityLinksDeliveryStream,
      eventBus: this.eventBus.bus,
      identity: config.identity,
      batchSize: config.resolver.batchSize,
      maxBatchingWindow: Duration.seconds(config.resolver.maxBatchingWindowSeconds),
      parallelizationFactor: config.resolver.parallelizationFactor,
      retryAttempts: config.resolver.retryAttempts,
      maxRecordAge: Duration.hours(config.resolver.maxRecordAgeHours),
      iteratorAgeAlarmThreshold: Duration.seconds(config.resolver.iteratorAgeAlarmSeconds),
      alarmTopic: this.alarmTopic.topic,
      accessLogsBucket: this.lake.accessLogsBucket,
      failureExpiration: Duration.days(config.retention.resolverFailureDays),
      logRetention,
      removalPolicy,
    });

    this.profileApi = new ProfileApi(this, 'ProfileApi', {
      api: this.collector.api,
      identityTable: this.identityTable.table,
      identity: config.identity,
      adminKeys: config.adminKeys,
      logRetention,
      removalPolicy,
    });

    this.segmentsTable = new SegmentsTable(this, 'SegmentsTable', { removalPolicy });

    this.athenaWorkgroup = new AthenaWorkgroup(this, 'Athena', {
      workGroupName: names.workGroupName,
      bytesScannedCutoffPerQuery: Math.round(config.segments.bytesScannedCutoffGb * 1e9),
      resultExpiration: Duration.days(config.segments.resultDays),
      accessLogsBucket: this.lake.accessLogsBucket,
      removalPolicy,
    });

    this.audienceExports = new AudienceExports(this, 'Exports', {
      databaseName: this.lake.databaseName,
      database: this.lake,
      encryptionKey: this.athenaWorkgroup.encryptionKey,
      accessLogsBucket: this.lake.accessLogsBucket,
      exportExpiration: Duration.days(config.segments.exportDays),
      removalPolicy,
    });

    this.exportWorkflow = new AudienceExportWorkflow(this, 'ExportWorkflow', {
      workGroup: this.athenaWorkgroup,
      databaseName: this.lake.databaseName,
      lakeBucket: this.lake.bucket,
      lakeKey: this.lake.encryptionKey,
      exportsBucket: this.audienceExports.bucket,
      segmentsTable: this.segmentsTable.table,
      eventBus: this.eventBus.bus,
      logRetention,
      removalPolicy,
    });

    this.segmentsApi = new SegmentsApi(this, 'SegmentsApi', {
      api: this.collector.api,
      authorizer: this.profileApi.authorizer,
      segmentsTable: this.segmentsTable.table,
      workGroup: this.athenaWorkgroup,
      databaseName: this.lake.databaseName,
      lakeBucket: this.lake.bucket,
      lakeKey: this.lake.encryptionKey,
      exportsRoot: this.audienceExports.exportsRoot,
      exportStateMachine: this.exportWorkflow.stateMachine,
      identity: config.identity,
      destinations: config.destinations,
      logRetention,
      removalPolicy,
    });

    this.activation = new Activation(this, 'Activation', {
      destinations: config.destinations,
      identity: config.identity,
      eventBus: this.eventBus.bus,
      identityTable: this.identityTable.table,
      segmentsTable: this.segmentsTable.table,
      workGroup: this.athenaWorkgroup,
      databaseName: this.lake.databaseName,
      exportsBucket: this.audienceExports.bucket,
      alarmTopic: this.alarmTopic.topic,
      accessLogsBucket: this.lake.accessLogsBucket,
      maxReceiveCount: config.activation.maxReceiveCount,
      oldestMessageAlarmThreshold: Duration.minutes(config.activation.oldestMessageAlarmMinutes),
      payloadExpiration: Duration.days(config.activation.payloadDays),
      logRetention,
      removalPolicy,
    });

    this.destinationsApi = new DestinationsApi(this, 'DestinationsApi', {
      api: this.collector.api,
      authorizer: this.profileApi.authorizer,
      destinations: config.destinations,
      identity: config.identity,
      payloadBucket: this.activation.payloads.bucket,
      logRetention,
      removalPolicy,
    });

    new CfnOutput(this, 'CollectorUrl', {
      description: 'Point Segment/RudderStack SDKs here (their host or dataPlaneUrl setting)',
      value: this.collector.url,
    });
    new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName });
    new CfnOutput(this, 'LakeDatabaseName', { value: this.lake.databaseName });
    new CfnOutput(this, 'ProfileApiUrl', {
      description:
        'Profile API base URL (the same HTTP API as the collector): GET {url}v1/profiles/{type}:{value} with Authorization: Bearer <admin key>',
      value: this.collector.url,
    });
    new CfnOutput(this, 'IdentityTableName', { value: this.identityTable.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName });
    new CfnOutput(this, 'ResolverFailureBucketName', {
      description: 'Batches the resolver gave up on (Lambda on-failure records with the raw events)',
      value: this.resolver.failureBucket.bucketName,
    });
    new CfnOutput(this, 'SegmentsTableName', { value: this.segmentsTable.table.tableName });
    new CfnOutput(this, 'ExportsBucketName', {
      description:
        'Audience exports: exports/segment_id={segment}/export_id={export}/{audience,changes,members}/',
      value: this.audienceExports.bucket.bucketName,
    });
    new CfnOutput(this, 'AthenaWorkGroupName', {
      description: 'The Athena workgroup segment previews and exports run in',
      value: this.athenaWorkgroup.workGroupName,
    });
    new CfnOutput(this, 'ExportStateMachineArn', {
      description: 'The audience export workflow (one execution per export)',
      value: this.exportWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description:
        'Subscribe here for the operational alarms (collector, lake landing, resolver, destination queues)',
      value: this.alarmTopic.topic.topicArn,
    });
    new CfnOutput(this, 'DeliveryLedgerTableName', {
      description: 'Batches each destination has accepted (idempotency of retries, redrives and replays)',
      value: this.activation.ledgerTable.table.tableName,
    });
    new CfnOutput(this, 'DeliveryPayloadBucketName', {
      description:
        'Payloads over 256 KB for SQS and Lambda destinations (S3 pointers); their readers need s3:GetObject here and kms:Decrypt on its key',
      value: this.activation.payloads.bucket.bucketName,
    });
    const outputIds = new Set<string>();
    for (const delivery of this.activation.deliveries) {
      const name = delivery.destination.name;
      let outputId = `Destination${name.replace(/(?:^|[-_])([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase())}Queues`;
      if (outputIds.has(outputId)) outputId = `${outputId}${outputIds.size}`;
      outputIds.add(outputId);
      new CfnOutput(this, outputId, {
        description: `Destination ${name}: its delivery queue and its dead-letter queue (redrive to the delivery queue)`,
        value: this.toJsonString({
          queue: delivery.queue.queueName,
          deadLetterQueue: delivery.deadLetterQueue.queueName,
        }),
      });
    }
  }
}
