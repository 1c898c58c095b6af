import { ArnFormat, Duration, type RemovalPolicy, type Size, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IDENTITY_LINK_COLUMNS, LAKE_PREFIXES } from '../../src/core/lake/tables';
import { bucketDefaults } from './bucket-defaults';
import {
  columnToJsonKey,
  eventColumnToJsonKey,
  firehoseErrorPrefix,
  firehosePrefix,
  type LakeTableName,
  lakeTableInput,
} from './lake-catalog';

const ONE_DAY = Duration.days(1);

/**
 * How late the lake may be before an alarm: a record waits up to one buffering interval, then is
 * converted and written. One more interval (a slow or retried flush) and 5 minutes for conversion and
 * S3 retries are allowed on top; past that, landing is stuck or falling behind. 15 minutes at the
 * default 300 s interval (the most Firehose's alarm guidance suggests waiting).
 */
export function lakeLatenessThreshold(bufferingInterval: Duration): Duration {
  return Duration.seconds(2 * bufferingInterval.toSeconds() + 300);
}

/** The alarms on one delivery stream of the lake. */
export interface DeliveryStreamAlarms {
  /** S3 puts keep failing (`DeliveryToS3.Success` average below 1 for 15 minutes). */
  readonly delivery: cloudwatch.Alarm;
  /** Records could not be converted to Parquet and went to `errors/` (Parquet streams only). */
  readonly conversion?: cloudwatch.Alarm;
}

/** The lake's alarms, per delivery stream. */
export interface LakeAlarms {
  readonly events: Required<DeliveryStreamAlarms> & {
    /** The oldest record not yet in the lake is older than {@link lakeLatenessThreshold}. */
    readonly freshness: cloudwatch.Alarm;
    /** Firehose reads the events stream further behind its newest record than the same threshold. */
    readonly streamLag: cloudwatch.Alarm;
  };
  readonly quarantine: DeliveryStreamAlarms;
  readonly identityLinks: Required<DeliveryStreamAlarms>;
}

export interface LakeProps {
  /** The events stream; Firehose reads it and lands every record in `events/` as Parquet. */
  readonly eventStream: kinesis.IStream;
  /** Glue database holding the `events`, `quarantine` and `identity_links` tables. */
  readonly databaseName: string;
  /** First day (`YYYY-MM-DD`) of the `dt` partition projection. */
  readonly partitionStartDate: string;
  /** Firehose buffering: the longest a record waits before it is written. */
  readonly bufferingInterval: Duration;
  /** Firehose buffering: how much is collected into one file (64 to 128 MiB; Parquet needs ≥ 64). */
  readonly bufferingSize: Size;
  /** Age at which objects under `quarantine/` expire. */
  readonly quarantineExpiration: Duration;
  /** Age at which objects under `errors/` expire. */
  readonly errorsExpiration: Duration;
  /** How long a superseded or deleted object version is kept. */
  readonly noncurrentVersionExpiration: Duration;
  /** Age at which S3 server access logs expire. */
  readonly accessLogsExpiration: Duration;
  /** Retention of the Firehose error log group. */
  readonly logRetention: logs.RetentionDays;
  /** Where the delivery alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** What happens to the buckets, their objects, the key and the logs when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The raw-event lake: an S3 bucket (customer managed key, versioned, TLS only, private, access-logged,
 * with expiring quarantine, errors and old versions), the Glue tables `events`, `quarantine` and
 * `identity_links` with partition projection, and the three Firehose delivery streams that fill them:
 *
 * - `events`: reads the events stream (so nothing is lost while S3 is unavailable: records wait in the
 *   stream) and writes Snappy Parquet to `events/dt=YYYY-MM-DD/hour=HH/`, converting with the Glue
 *   table's schema.
 * - `quarantine`: Direct PUT from the collector; gzip JSON lines to `quarantine/dt=YYYY-MM-DD/hour=HH/`.
 * - `identity_links`: Direct PUT from the resolver (JSON rows keyed by column name); Snappy Parquet to
 *   `identity_links/dt=YYYY-MM-DD/hour=HH/`, converting with the Glue table's schema.
 *
 * Each delivery stream has its own role that can read only its source and write only its own prefix
 * and `errors/`.
 *
 * Alarms (to the alarm topic) tell when records leave the lake's tables silently: records Firehose
 * could not convert to Parquet (they land under `errors/`, which expires), S3 delivery failing (after
 * 24 hours of retries Firehose drops the records), and, for `events`, landing falling behind: the
 * oldest undelivered record too old (`DeliveryToS3.DataFreshness`) or Firehose reading the stream too
 * far behind its newest record (`KinesisMillisBehindLatest`), until the stream's retention drops them.
 */
export class Lake extends Construct {
  public readonly bucket: s3.IBucket;
  public readonly encryptionKey: kms.IKey;
  /** Receives the lake bucket's S3 server access logs. */
  public readonly accessLogsBucket: s3.IBucket;
  public readonly databaseName: string;
  public readonly eventsTable: glue.CfnTable;
  public readonly quarantineTable: glue.CfnTable;
  public readonly identityLinksTable: glue.CfnTable;
  /** Kinesis-sourced delivery stream that writes `events/`. */
  public readonly eventsDeliveryStream: firehose.IDeliveryStreamRef;
  /** Direct PUT delivery stream that writes `quarantine/`. */
  public readonly quarantineDeliveryStream: firehose.IDeliveryStreamRef;
  /** Direct PUT delivery stream that writes `identity_links/` (the resolver puts rows into it). */
  public readonly identityLinksDeliveryStream: firehose.IDeliveryStreamRef;
  /** Firehose delivery errors. */
  public readonly deliveryLogGroup: logs.ILogGroup;
  public readonly alarms: LakeAlarms;

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sizeMiB = props.bufferingSize.toMebibytes();
    if (sizeMiB < 64 || sizeMiB > 128) {
      throw new Error(
        `Lake bufferingSize must be 64 to 128 MiB (Parquet conversion needs ≥ 64), got ${sizeMiB}`,
      );
    }

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic lake encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    const accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging can only deliver to a bucket encrypted with S3 managed keys.
      ...bucketDefaults({ removalPolicy: props.removalPolicy }),
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: props.accessLogsExpiration,
          abortIncompleteMultipartUploadAfter: ONE_DAY,
        },
      ],
    });
    this.accessLogsBucket = accessLogsBucket;

    const bucket = new s3.Bucket(this, 'Bucket', {
      ...bucketDefaults({ removalPolicy: props.removalPolicy, encryptionKey: this.encryptionKey }),
      versioned: true,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: ONE_DAY,
        },
        { id: 'expire-quarantine', prefix: LAKE_PREFIXES.quarantine, expiration: props.quarantineExpiration },
        { id: 'expire-errors', prefix: LAKE_PREFIXES.errors, expiration: props.errorsExpiration },
      ],
    });
    this.bucket = bucket;

    // Catalog.
    this.databaseName = props.databaseName;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: 'Mosaic lake: raw events, quarantine and identity links',
      },
    });
    const table = (name: LakeTableName, id: string) => {
      const cfnTable = new glue.CfnTable(this, id, {
        catalogId: stack.account,
        databaseName: props.databaseName,
        tableInput: lakeTableInput(name, {
          bucketName: bucket.bucketName,
          partitionStartDate: props.partitionStartDate,
        }),
      });
      cfnTable.addResourceDependency(database);
      return cfnTable;
    };
    this.eventsTable = table('events', 'EventsTable');
    this.quarantineTable = table('quarantine', 'QuarantineTable');
    this.identityLinksTable = table('identity_links', 'IdentityLinksTable');

    // Delivery. The delivery streams are L1 resources on purpose: the L2 grants its role read-write
    // on the whole bucket (wildcard S3 and KMS actions), while these roles hold exactly the statements
    // written below.
    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.deliveryLogGroup = logGroup;
    const bufferingHints = { intervalInSeconds: props.bufferingInterval.toSeconds(), sizeInMBs: sizeMiB };
    const s3Encryption = { kmsEncryptionConfig: { awskmsKeyArn: this.encryptionKey.keyArn } };
    /** Lets a delivery stream read the schema of the table it converts records for. */
    const readSchema = (tableName: LakeTableName) =>
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseName }),
          stack.formatArn({
            service: 'glue',
            resource: 'table',
            resourceName: `${props.databaseName}/${tableName}`,
          }),
        ],
      });
    /** JSON → Snappy Parquet with the schema of the lake table of the same name. */
    const parquetConversion = (
      tableName: LakeTableName,
      roleArn: string,
      columnToJsonKeyMappings: Record<string, string>,
    ): firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty => ({
      enabled: true,
      schemaConfiguration: {
        catalogId: stack.account,
        region: stack.region,
        databaseName: props.databaseName,
        tableName,
        roleArn,
        versionId: 'LATEST',
      },
      inputFormatConfiguration: {
        deserializer: {
          // Keep key case; map the columns whose name differs from their JSON field.
          openXJsonSerDe: {
            caseInsensitive: false,
            ...(Object.keys(columnToJsonKeyMappings).length > 0 ? { columnToJsonKeyMappings } : {}),
            convertDotsInJsonKeysToUnderscores: false,
          },
        },
      },
      outputFormatConfiguration: {
        serializer: { parquetSerDe: { compression: 'SNAPPY', writerVersion: 'V1' } },
      },
    });

    const deliveryRole = (id: string, tableName: LakeTableName, extra: iam.PolicyStatement[]) => {
      const logStream = new logs.LogStream(this, `${id}LogStream`, {
        logGroup,
        logStreamName: `${tableName}-delivery`,
        removalPolicy: props.removalPolicy,
      });
      const role = new iam.Role(this, `${id}Role`, {
        description: `Firehose delivery into the lake's ${LAKE_PREFIXES[tableName]} prefix`,
        assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
          conditions: { StringEquals: { 'sts:ExternalId': stack.account } },
        }),
        inlinePolicies: {
          delivery: new iam.PolicyDocument({
            statements: [
              ...lakeWriteStatements(bucket, this.encryptionKey, tableName),
              new iam.PolicyStatement({
                actions: ['logs:PutLogEvents'],
                resources: [
                  stack.formatArn({
                    service: 'logs',
                    resource: 'log-group',
                    resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
                    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
                  }),
                ],
              }),
              ...extra,
            ],
          }),
        },
      });
      Validations.of(role).acknowledge(
        ...[LAKE_PREFIXES[tableName], `${LAKE_PREFIXES.errors}${tableName}/`].map((prefix) => ({
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${prefix}*]`,
          reason: `Firehose writes objects with generated names, so object access is granted by prefix: only ${prefix} of the lake bucket.`,
        })),
      );
      const logging = {
        enabled: true,
        logGroupName: logGroup.logGroupName,
        logStreamName: logStream.logStreamName,
      };
      return { role, logging };
    };

    // events: Kinesis → Parquet in events/.
    const events = deliveryRole('EventsDelivery', 'events', [
      new iam.PolicyStatement({
        actions: [
          'kinesis:DescribeStream',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
          'kinesis:ListShards',
        ],
        resources: [props.eventStream.streamArn],
      }),
      ...(props.eventStream.encryptionKey
        ? [
            new iam.PolicyStatement({
              actions: ['kms:Decrypt'],
              resources: [props.eventStream.encryptionKey.keyArn],
              conditions: {
                StringEquals: {
                  'kms:ViaService': `kinesis.${stack.region}.amazonaws.com`,
                  'kms:EncryptionContext:aws:kinesis:arn': props.eventStream.streamArn,
                },
              },
            }),
          ]
        : []),
      readSchema('events'),
    ]);
    const eventsDelivery = new firehose.CfnDeliveryStream(this, 'EventsDelivery', {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: {
        kinesisStreamArn: props.eventStream.streamArn,
        roleArn: events.role.roleArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: events.role.roleArn,
        prefix: firehosePrefix('events'),
        errorOutputPrefix: firehoseErrorPrefix('events'),
        bufferingHints,
        // Parquet compresses inside the file (Snappy); the file itself must not be compressed again.
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: s3Encryption,
        cloudWatchLoggingOptions: events.logging,
        s3BackupMode: 'Disabled',
        // Stream records are camelCase JSON: snake_case columns are mapped to their fields. Object
        // fields (properties, traits, ...) land in string columns as their JSON text.
        dataFormatConversionConfiguration: parquetConversion(
          'events',
          events.role.roleArn,
          eventColumnToJsonKey(),
        ),
      },
    });
    // Firehose reads the table's schema when it starts; the names above carry no reference to it.
    eventsDelivery.addResourceDependency(this.eventsTable);
    Validations.of(eventsDelivery).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason:
        'Firehose server-side encryption applies only to Direct PUT sources. This delivery stream reads the events stream, which is encrypted with its own customer managed key, and writes objects encrypted with the lake key.',
    });

    // quarantine: Direct PUT → gzip JSON lines in quarantine/.
    const quarantine = deliveryRole('QuarantineDelivery', 'quarantine', []);
    const quarantineDelivery = new firehose.CfnDeliveryStream(this, 'QuarantineDelivery', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: this.encryptionKey.keyArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: quarantine.role.roleArn,
        prefix: firehosePrefix('quarantine'),
        errorOutputPrefix: firehoseErrorPrefix('quarantine'),
        bufferingHints,
        compressionFormat: 'GZIP',
        encryptionConfiguration: s3Encryption,
        cloudWatchLoggingOptions: quarantine.logging,
        s3BackupMode: 'Disabled',
      },
    });

    // identity_links: Direct PUT (the resolver) → Parquet in identity_links/.
    const links = deliveryRole('IdentityLinksDelivery', 'identity_links', [readSchema('identity_links')]);
    const linksDelivery = new firehose.CfnDeliveryStream(this, 'IdentityLinksDelivery', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: this.encryptionKey.keyArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: links.role.roleArn,
        prefix: firehosePrefix('identity_links'),
        errorOutputPrefix: firehoseErrorPrefix('identity_links'),
        bufferingHints,
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: s3Encryption,
        cloudWatchLoggingOptions: links.logging,
        s3BackupMode: 'Disabled',
        // Rows are keyed by column name already (`IdentityLinkRow`): no mapping needed.
        dataFormatConversionConfiguration: parquetConversion(
          'identity_links',
          links.role.roleArn,
          columnToJsonKey(IDENTITY_LINK_COLUMNS),
        ),
      },
    });
    linksDelivery.addResourceDependency(this.identityLinksTable);

    this.eventsDeliveryStream = eventsDelivery;
    this.quarantineDeliveryStream = quarantineDelivery;
    this.identityLinksDeliveryStream = linksDelivery;

    // Alarms. Firehose publishes these metrics under AWS/Firehose by DeliveryStreamName; the L1
    // delivery streams have no metric helpers, so the metrics are named here.
    const errorsDays = props.errorsExpiration.toDays();
    const lateness = lakeLatenessThreshold(props.bufferingInterval);
    const alarmAction = new cloudwatchActions.SnsAction(props.alarmTopic);
    const lakeAlarm = (
      id: string,
      metricName: string,
      deliveryStream: firehose.CfnDeliveryStream,
      options: Omit<cloudwatch.AlarmProps, 'metric'> & { readonly statistic: string },
    ) => {
      const { statistic, ...alarmProps } = options;
      const alarm = new cloudwatch.Alarm(this, id, {
        ...alarmProps,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Firehose',
          metricName,
          dimensionsMap: { DeliveryStreamName: deliveryStream.ref },
          statistic,
          period: Duration.minutes(5),
        }),
        // No records, no datapoints: an idle delivery stream is a healthy one.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(alarmAction);
      alarm.addOkAction(alarmAction);
      return alarm;
    };
    /** Any record that failed Parquet conversion: it is in `errors/`, not in the table. */
    const conversionAlarm = (id: string, table: LakeTableName, deliveryStream: firehose.CfnDeliveryStream) =>
      lakeAlarm(id, 'FailedConversion.Records', deliveryStream, {
        alarmDescription: `Firehose could not convert records for the lake's ${table} table to Parquet (a record that does not match the Glue table's schema): they are under ${LAKE_PREFIXES.errors}${table}/format-conversion-failed/ with the error, not in the table, and expire after ${errorsDays} days. Fix the schema or the writer, then replay them from there.`,
        statistic: cloudwatch.Stats.SUM,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    /**
     * S3 puts failing for 15 minutes. Firehose retries a failed put, so one failure alone is no loss
     * (hence three periods); puts that keep failing (bucket policy, lake key, role) drop the records
     * after 24 hours.
     */
    const deliveryAlarm = (id: string, table: LakeTableName, deliveryStream: firehose.CfnDeliveryStream) =>
      lakeAlarm(id, 'DeliveryToS3.Success', deliveryStream, {
        alarmDescription: `Firehose keeps failing to write the lake's ${table} table to S3 (bucket policy, lake key or its role; the delivery log group says why). It retries for 24 hours, then drops the records.`,
        statistic: cloudwatch.Stats.AVERAGE,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
      });
    this.alarms = {
      events: {
        conversion: conversionAlarm('EventsConversionAlarm', 'events', eventsDelivery),
        delivery: deliveryAlarm('EventsDeliveryAlarm', 'events', eventsDelivery),
        freshness: lakeAlarm('EventsFreshnessAlarm', 'DeliveryToS3.DataFreshness', eventsDelivery, {
          alarmDescription: `Events reach the lake late: the oldest record Firehose has not yet written to events/ is older than ${lateness.toSeconds()} s (twice the ${props.bufferingInterval.toSeconds()} s buffering interval plus 5 minutes). Delivery is stuck or too slow; records wait in the events stream, which drops them after its retention.`,
          statistic: cloudwatch.Stats.MAXIMUM,
          threshold: lateness.toSeconds(),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
        }),
        streamLag: lakeAlarm('EventsStreamLagAlarm', 'KinesisMillisBehindLatest', eventsDelivery, {
          alarmDescription: `Firehose is reading the events stream more than ${lateness.toSeconds()} s behind its newest record: the lake is falling behind the stream (read throttling, or delivery too slow for the traffic). Records the stream drops after its retention never reach the lake.`,
          statistic: cloudwatch.Stats.MAXIMUM,
          threshold: lateness.toMilliseconds(),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
        }),
      },
      // Quarantine is gzip JSON lines: no format conversion, so no conversion alarm.
      quarantine: { delivery: deliveryAlarm('QuarantineDeliveryAlarm', 'quarantine', quarantineDelivery) },
      identityLinks: {
        conversion: conversionAlarm('IdentityLinksConversionAlarm', 'identity_links', linksDelivery),
        delivery: deliveryAlarm('IdentityLinksDeliveryAlarm', 'identity_links', linksDelivery),
      },
    };
  }
}

/**
 * Write access to the lake for one table's delivery stream: list the bucket, write objects under the
 * table's prefix and its own part of `errors/` (`errors/<table>/`: one stream cannot read another's
 * failed records), and use the lake key through S3.
 */
function lakeWriteStatements(bucket: s3.IBucket, key: kms.IKey, table: LakeTableName): iam.PolicyStatement[] {
  const stack = Stack.of(bucket);
  return [
    new iam.PolicyStatement({
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      resources: [
        bucket.arnForObjects(`${LAKE_PREFIXES[table]}*`),
        bucket.arnForObjects(`${LAKE_PREFIXES.errors}${table}/*`),
      ],
    }),
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }),
  ];
}
