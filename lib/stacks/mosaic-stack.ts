import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type MosaicConfig, removalPolicyOf } from '../config';
import { CollectorApi } from '../constructs/collector-api';
import { EventStream } from '../constructs/event-stream';
import { Lake } from '../constructs/lake';

export interface MosaicStackProps extends StackProps {
  readonly config: MosaicConfig;
}

/**
 * Mosaic in one stack: the collector API writes to the events stream, which Firehose lands in the lake.
 * Composition only; each concern lives in its construct.
 */
export class MosaicStack extends Stack {
  public readonly eventStream: EventStream;
  public readonly lake: Lake;
  public readonly collector: CollectorApi;

  constructor(scope: Construct, id: string, props: MosaicStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    const logRetention = config.retention.logDays;

    this.eventStream = new EventStream(this, 'EventStream', {
      retentionHours: config.retention.streamHours,
      removalPolicy,
    });

    this.lake = new Lake(this, 'Lake', {
      eventStream: this.eventStream.stream,
      databaseName: config.lake.databaseName,
      partitionStartDate: config.lake.partitionStartDate,
      bufferingInterval: Duration.seconds(config.firehose.intervalSeconds),
      bufferingSize: Size.mebibytes(config.firehose.sizeMiB),
      quarantineExpiration: Duration.days(config.retention.quarantineDays),
      errorsExpiration: Duration.days(config.retention.errorsDays),
      noncurrentVersionExpiration: Duration.days(config.retention.lakeNoncurrentDays),
      accessLogsExpiration: Duration.days(config.retention.accessLogDays),
      logRetention,
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
    });

    new CfnOutput(this, 'CollectorUrl', {
      description: 'Point Segment/RudderStack SDKs here (their host or dataPlaneUrl setting)',
      value: this.collector.url,
    });
    new CfnOutput(this, 'LakeBucketName', { value: this.lake.bucket.bucketName });
    new CfnOutput(this, 'LakeDatabaseName', { value: this.lake.databaseName });
  }
}
