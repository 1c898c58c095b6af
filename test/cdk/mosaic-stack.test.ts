import { Capture, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CollectorEnv } from '../../functions/collector/env';
import { COLLECTOR_FIREHOSE_SDK, COLLECTOR_KINESIS_SDK } from '../../functions/collector/timing';
import { BROWSER_SDK_ROUTES, COLLECTOR_PATHS } from '../../lib/constructs/collector-api';
import { DESTINATIONS_ROUTES } from '../../lib/constructs/destinations-api';
import { SEGMENTS_ROUTES } from '../../lib/constructs/segments-api';
import { QUARANTINE_RETRY } from '../../src/adapters/aws/firehose-quarantine-sink';
import { CollectorLimits, DEFAULT_LIMITS } from '../../src/core/config/limits';
import { SourcesConfig } from '../../src/core/config/sources';
import { EVENT_COLUMNS, QUARANTINE_COLUMNS } from '../../src/core/lake/tables';
import { DEFAULT_STREAM_RETRY } from '../../src/use-cases/put-all-or-fail';
import { BROWSER_SDK_HEADERS } from '../support/browser-sdk-headers';
import {
  actionsOf,
  arnOf,
  exampleConfig,
  logicalIdOf,
  type PolicyStatementJson,
  refOf,
  resourcesOf,
  type SynthesizedMosaic,
  statementsOfRole,
  synthMosaic,
} from './support';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let m: SynthesizedMosaic;
let resources: Resources;

beforeAll(() => {
  m = synthMosaic();
  resources = m.template.toJSON().Resources as Resources;
});

const propsOf = (construct: Parameters<typeof logicalIdOf>[0]) =>
  (resources[logicalIdOf(construct)] as Resources[string]).Properties;

const objectArn = (bucketConstruct: Parameters<typeof logicalIdOf>[0], prefix: string) => ({
  'Fn::Join': ['', [arnOf(bucketConstruct), `/${prefix}*`]],
});

describe('events stream', () => {
  it('is on-demand, encrypted with its own rotating KMS key, and keeps records for the configured hours', () => {
    const { stream, encryptionKey } = m.stack.eventStream;
    m.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: arnOf(encryptionKey) },
      RetentionPeriodHours: 24,
    });
    expect(propsOf(stream)).not.toHaveProperty('ShardCount');
    expect(propsOf(encryptionKey)).toMatchObject({ EnableKeyRotation: true });
  });

  it('is retained when the stack is deleted (default removal policy)', () => {
    expect(m.template.toJSON().Resources[logicalIdOf(m.stack.eventStream.stream)].DeletionPolicy).toBe(
      'Retain',
    );
    expect(m.template.toJSON().Resources[logicalIdOf(m.stack.lake.bucket)].DeletionPolicy).toBe('Retain');
  });
});

describe('lake bucket', () => {
  it('encrypts with the customer managed lake key, which rotates', () => {
    const { bucket, encryptionKey } = m.stack.lake;
    expect(propsOf(bucket).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(encryptionKey) },
        },
      ],
    });
    expect(propsOf(encryptionKey)).toMatchObject({ EnableKeyRotation: true });
  });

  it('is versioned, blocks all public access, enforces bucket-owner ownership', () => {
    expect(propsOf(m.stack.lake.bucket)).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('logs server access to the separate access-logs bucket', () => {
    expect(propsOf(m.stack.lake.bucket).LoggingConfiguration).toEqual({
      DestinationBucketName: refOf(m.stack.lake.accessLogsBucket),
      LogFilePrefix: 'lake/',
    });
  });

  it('expires old versions, quarantine/ and errors/ as configured and aborts stale uploads', () => {
    const rules = (propsOf(m.stack.lake.bucket).LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: 30, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'errors/', ExpirationInDays: 30, Status: 'Enabled' }),
      ]),
    );
    // Only quarantine/ and errors/ expire; raw events are kept (their rule has no current-version expiry).
    for (const rule of rules as Array<Record<string, unknown>>) {
      if (rule.ExpirationInDays !== undefined) expect(['quarantine/', 'errors/']).toContain(rule.Prefix);
    }
  });

  it.each([
    ['lake', () => m.stack.lake.bucket],
    ['access logs', () => m.stack.lake.accessLogsBucket],
  ])('%s bucket policy denies every request not made over TLS 1.2+', (_name, bucketOf) => {
    const bucket = bucketOf();
    const everything = [arnOf(bucket), { 'Fn::Join': ['', [arnOf(bucket), '/*']] }];
    m.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: refOf(bucket),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: everything,
          },
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            Resource: everything,
          },
        ]),
      },
    });
  });

  it('access-logs bucket is private, S3-encrypted (the only encryption log delivery supports) and expires logs', () => {
    expect(propsOf(m.stack.lake.accessLogsBucket)).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
    });
  });
});

describe('Glue tables', () => {
  const tableInput = (table: 'eventsTable' | 'quarantineTable') =>
    propsOf(m.stack.lake[table]).TableInput as {
      Name: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: Array<{ Name: string; Type: string }>;
      StorageDescriptor: {
        Columns: Array<{ Name: string; Type: string }>;
        Location: unknown;
        SerdeInfo: { SerializationLibrary: string; Parameters?: Record<string, string> };
        InputFormat: string;
      };
    };

  it('events has exactly the columns of EVENT_COLUMNS, stored as Parquet', () => {
    const input = tableInput('eventsTable');
    expect(input.Name).toBe('events');
    expect(input.StorageDescriptor.Columns).toEqual(
      EVENT_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
    );
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(input.StorageDescriptor.Location).toEqual({
      'Fn::Join': ['', ['s3://', refOf(m.stack.lake.bucket), '/events/']],
    });
  });

  it('events reads Parquet columns by name: files written before a column was added read NULL for it', () => {
    // By index, a file without the columns added since would be read against the wrong columns, or
    // fail, as soon as a column is added anywhere but at the end.
    expect(tableInput('eventsTable').StorageDescriptor.SerdeInfo.Parameters).toEqual({
      'parquet.column.index.access': 'false',
    });
  });

  it('quarantine has exactly the columns of QUARANTINE_COLUMNS, stored as (gzip) JSON lines', () => {
    const input = tableInput('quarantineTable');
    expect(input.Name).toBe('quarantine');
    expect(input.StorageDescriptor.Columns).toEqual(
      QUARANTINE_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
    );
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
    expect(input.Parameters.compressionType).toBe('gzip');
  });

  it.each(['eventsTable', 'quarantineTable'] as const)(
    '%s is partitioned by dt and hour with partition projection (no crawler)',
    (table) => {
      const input = tableInput(table);
      const prefix = table === 'eventsTable' ? 'events' : 'quarantine';
      expect(input.PartitionKeys).toEqual([
        { Name: 'dt', Type: 'string' },
        { Name: 'hour', Type: 'string' },
      ]);
      expect(input.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2025-01-01,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'projection.hour.type': 'integer',
        'projection.hour.range': '0,23',
        'projection.hour.digits': '2',
        'storage.location.template': {
          'Fn::Join': ['', ['s3://', refOf(m.stack.lake.bucket), `/${prefix}/dt=\${dt}/hour=\${hour}/`]],
        },
      });
    },
  );

  it('no crawler exists', () => {
    m.template.resourceCountIs('AWS::Glue::Crawler', 0);
  });
});

describe('Firehose: events stream → lake (Parquet)', () => {
  const events = () => propsOf(m.stack.lake.eventsDeliveryStream);
  const destination = () => events().ExtendedS3DestinationConfiguration as Record<string, unknown>;

  it('reads the Kinesis events stream (not Direct PUT), so records wait in the stream during an S3 outage', () => {
    expect(events().DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(events().KinesisStreamSourceConfiguration).toMatchObject({
      KinesisStreamARN: arnOf(m.stack.eventStream.stream),
    });
  });

  it('writes to events/dt=/hour= of the lake bucket, errors under errors/ by error type', () => {
    expect(destination()).toMatchObject({
      BucketARN: arnOf(m.stack.lake.bucket),
      Prefix: 'events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      ErrorOutputPrefix:
        'errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: arnOf(m.stack.lake.encryptionKey) } },
      CloudWatchLoggingOptions: { Enabled: true },
    });
  });

  it('converts to Snappy Parquet with the Glue events table schema', () => {
    const table = propsOf(m.stack.lake.eventsTable);
    expect(destination().DataFormatConversionConfiguration).toMatchObject({
      Enabled: true,
      SchemaConfiguration: {
        DatabaseName: table.DatabaseName,
        TableName: (table.TableInput as { Name: string }).Name,
        VersionId: 'LATEST',
      },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
    });
    // Parquet compresses inside the file; the object must not be compressed again.
    expect(destination().CompressionFormat).toBe('UNCOMPRESSED');
  });

  it('reads camelCase stream records case-sensitively, mapping each snake_case column to its field', () => {
    const serde = new Capture();
    m.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: {
        DataFormatConversionConfiguration: {
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: serde } },
        },
      },
    });
    const { CaseInsensitive, ColumnToJsonKeyMappings } = serde.asObject() as {
      CaseInsensitive: boolean;
      ColumnToJsonKeyMappings: Record<string, string>;
    };
    expect(CaseInsensitive).toBe(false);
    for (const column of EVENT_COLUMNS) {
      // A column either has the field's name or is mapped to it.
      expect(ColumnToJsonKeyMappings[column.name] ?? column.name).toBe(column.field);
    }
    expect(
      Object.keys(ColumnToJsonKeyMappings).every((name) => EVENT_COLUMNS.some((c) => c.name === name)),
    ).toBe(true);
    expect(ColumnToJsonKeyMappings).toMatchObject({ message_id: 'messageId', received_at: 'receivedAt' });
  });

  it('buffers as configured, at least 64 MiB as Parquet conversion requires', () => {
    expect(destination().BufferingHints).toEqual({ IntervalInSeconds: 300, SizeInMBs: 128 });
  });
});

describe('Firehose: quarantine (Direct PUT → gzip JSON)', () => {
  const quarantine = () => propsOf(m.stack.lake.quarantineDeliveryStream);

  it('is Direct PUT with server-side encryption under the lake key', () => {
    expect(quarantine()).toMatchObject({
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: {
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: arnOf(m.stack.lake.encryptionKey),
      },
    });
  });

  it('writes gzip to quarantine/dt=/hour=, errors under errors/, objects encrypted with the lake key', () => {
    expect(quarantine().ExtendedS3DestinationConfiguration).toMatchObject({
      BucketARN: arnOf(m.stack.lake.bucket),
      Prefix: 'quarantine/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      ErrorOutputPrefix:
        'errors/quarantine/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      CompressionFormat: 'GZIP',
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: arnOf(m.stack.lake.encryptionKey) } },
      CloudWatchLoggingOptions: { Enabled: true },
    });
    expect(quarantine().ExtendedS3DestinationConfiguration).not.toHaveProperty(
      'DataFormatConversionConfiguration',
    );
  });
});

describe('Firehose roles (least privilege)', () => {
  const roleOf = (deliveryStream: 'eventsDeliveryStream' | 'quarantineDeliveryStream') => {
    const dest = propsOf(m.stack.lake[deliveryStream]).ExtendedS3DestinationConfiguration as {
      RoleARN: unknown;
    };
    return (dest.RoleARN as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  };
  const objectResources = (statements: PolicyStatementJson[]) =>
    statements.filter((s) => actionsOf(s).includes('s3:PutObject')).flatMap(resourcesOf);

  it.each([
    ['eventsDeliveryStream', 'events/', 'errors/events/'],
    ['quarantineDeliveryStream', 'quarantine/', 'errors/quarantine/'],
  ] as const)('%s may write objects only under %s and %s', (deliveryStream, prefix, errors) => {
    const statements = statementsOfRole(m.template, roleOf(deliveryStream));
    expect(objectResources(statements)).toEqual(
      expect.arrayContaining([
        objectArn(m.stack.lake.bucket, prefix),
        objectArn(m.stack.lake.bucket, errors),
      ]),
    );
    expect(objectResources(statements)).toHaveLength(2);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      expect(actionsOf(statement)).not.toContain('s3:DeleteObject');
    }
  });

  it('only the events role reads the Kinesis stream, and only that stream', () => {
    const read = (deliveryStream: 'eventsDeliveryStream' | 'quarantineDeliveryStream') =>
      statementsOfRole(m.template, roleOf(deliveryStream)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kinesis:')),
      );
    expect(read('quarantineDeliveryStream')).toEqual([]);
    expect(read('eventsDeliveryStream').flatMap(resourcesOf)).toEqual([arnOf(m.stack.eventStream.stream)]);
    const decrypt = statementsOfRole(m.template, roleOf('eventsDeliveryStream')).filter((s) =>
      resourcesOf(s).some(
        (r) => JSON.stringify(r) === JSON.stringify(arnOf(m.stack.eventStream.encryptionKey)),
      ),
    );
    expect(decrypt).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Condition: {
          StringEquals: expect.objectContaining({
            'kms:EncryptionContext:aws:kinesis:arn': arnOf(m.stack.eventStream.stream),
          }),
        },
      }),
    ]);
  });

  it('roles can be assumed only by Firehose for this account', () => {
    for (const deliveryStream of ['eventsDeliveryStream', 'quarantineDeliveryStream'] as const) {
      expect(
        m.template.toJSON().Resources[roleOf(deliveryStream)].Properties.AssumeRolePolicyDocument.Statement,
      ).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'firehose.amazonaws.com' },
          Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
        },
      ]);
    }
  });
});

describe('collector HTTP API', () => {
  const collectorRoutes = () => m.stack.collector.routes.map((route) => propsOf(route));

  it('has exactly the 14 POST routes of the Segment HTTP API, long and short forms, and the browser SDK routes (plus the Profile API’s GETs and the Segments and Destinations APIs’ routes)', () => {
    const segmentsRoutes = new Set(
      [...SEGMENTS_ROUTES, ...DESTINATIONS_ROUTES].flatMap((route) =>
        route.methods.map((method) => `${method} ${route.path}`),
      ),
    );
    const routes = Object.values(m.template.findResources('AWS::ApiGatewayV2::Route'))
      .map((r) => (r.Properties as { RouteKey: string }).RouteKey)
      .filter((key) => !segmentsRoutes.has(key));
    const calls = ['track', 'identify', 'page', 'screen', 'group', 'alias', 'batch'].flatMap((call) => [
      `POST /v1/${call}`,
      `POST /v1/${call[0]}`,
    ]);
    // analytics.js 2.0's settings, RudderStack's source config (asked for as /sourceConfig/) and
    // RudderStack's beacon batches.
    const browserSdk = [
      'GET /v1/projects/{writeKey}/settings',
      'GET /sourceConfig',
      'GET /sourceConfig/{proxy+}',
      'POST /beacon/v1/batch',
    ];
    const expected = [...calls, ...browserSdk];
    expect(
      collectorRoutes()
        .map((r) => r.RouteKey as string)
        .sort(),
    ).toEqual(expected.sort());
    expect(routes.filter((key) => !key.startsWith('GET /v1/profiles/')).sort()).toEqual(expected.sort());
    expect(COLLECTOR_PATHS).toHaveLength(14);
    expect(BROWSER_SDK_ROUTES.map(({ method, path }) => `${method} ${path}`)).toEqual(browserSdk);
  });

  it('routes every collector path to the collector function (Lambda proxy, payload 2.0), without an API Gateway authorizer', () => {
    const integrations = Object.entries(m.template.findResources('AWS::ApiGatewayV2::Integration')).filter(
      ([, i]) =>
        JSON.stringify(i.Properties.IntegrationUri) ===
        JSON.stringify(arnOf(m.stack.collector.function.function)),
    );
    expect(integrations).toHaveLength(1);
    const [integrationId, integration] = integrations[0] as [string, Resources[string]];
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    for (const route of collectorRoutes()) {
      expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
      expect(route.AuthorizerId).toBeUndefined();
      expect(route.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    }
  });

  it('answers CORS preflights for browsers from any origin', () => {
    // GET for the SDK settings; every header a browser SDK adds, retries included (see
    // src/core/collector/cors.ts): API Gateway answers the preflights itself, with exactly these.
    expect(propsOf(m.stack.collector.api).CorsConfiguration).toEqual({
      AllowOrigins: ['*'],
      AllowMethods: ['GET', 'POST', 'OPTIONS'],
      AllowHeaders: [...BROWSER_SDK_HEADERS],
      MaxAge: 86400,
    });
  });

  it('throttles the default stage explicitly and writes JSON access logs without personal data', () => {
    const stage = propsOf(m.stack.collector.stage);
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      AccessLogSettings: { DestinationArn: arnOf(m.stack.collector.accessLogGroup) },
    });
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<
      string,
      string
    >;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(JSON.stringify(format)).not.toMatch(/sourceIp|userAgent/);
    expect(propsOf(m.stack.collector.accessLogGroup)).toMatchObject({ RetentionInDays: 30 });
  });

  it('outputs the collector URL', () => {
    m.template.hasOutput('CollectorUrl', {
      Value: {
        'Fn::Join': ['', Match.arrayWith(['https://', refOf(m.stack.collector.api), '.execute-api.'])],
      },
    });
  });
});

describe('lake landing: alarms', () => {
  const topic = () => refOf(m.stack.alarmTopic.topic);
  const onStream = (deliveryStream: Parameters<typeof logicalIdOf>[0]) => ({
    Namespace: 'AWS/Firehose',
    Dimensions: [{ Name: 'DeliveryStreamName', Value: refOf(deliveryStream) }],
    Period: 300,
    TreatMissingData: 'notBreaching',
  });
  const parquetStreams = () => [
    { name: 'events', stream: m.stack.lake.eventsDeliveryStream, alarms: m.stack.lake.alarms.events },
    {
      name: 'identity_links',
      stream: m.stack.lake.identityLinksDeliveryStream,
      alarms: m.stack.lake.alarms.identityLinks,
    },
  ];
  const allStreams = () => [
    ...parquetStreams(),
    {
      name: 'quarantine',
      stream: m.stack.lake.quarantineDeliveryStream,
      alarms: m.stack.lake.alarms.quarantine,
    },
  ];

  it('alarms on any record that failed Parquet conversion (it went to errors/, which expires), for both Parquet streams', () => {
    for (const { name, stream, alarms } of parquetStreams()) {
      const alarm = propsOf(alarms.conversion);
      expect(alarm, name).toMatchObject({
        ...onStream(stream),
        MetricName: 'FailedConversion.Records',
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
      expect(alarm.AlarmDescription).toContain(`errors/${name}/format-conversion-failed/`);
      expect(alarm.AlarmDescription).toContain('expire after 30 days');
    }
  });

  it('has no conversion alarm on the quarantine, which converts nothing (gzip JSON lines)', () => {
    expect(m.stack.lake.alarms.quarantine.conversion).toBeUndefined();
    expect(
      propsOf(m.stack.lake.quarantineDeliveryStream).ExtendedS3DestinationConfiguration,
    ).not.toHaveProperty('DataFormatConversionConfiguration');
  });

  it('alarms when S3 delivery keeps failing (success rate below 1 for three 5-minute periods), for all three streams', () => {
    for (const { name, stream, alarms } of allStreams()) {
      expect(propsOf(alarms.delivery), name).toMatchObject({
        ...onStream(stream),
        MetricName: 'DeliveryToS3.Success',
        Statistic: 'Average',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
      });
    }
  });

  it('alarms when events land late: DataFreshness above twice the 300 s buffering interval plus 5 minutes', () => {
    expect(propsOf(m.stack.lake.alarms.events.freshness)).toMatchObject({
      ...onStream(m.stack.lake.eventsDeliveryStream),
      MetricName: 'DeliveryToS3.DataFreshness',
      Statistic: 'Maximum',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('alarms when Firehose reads the events stream more than the same 15 minutes behind its newest record', () => {
    expect(propsOf(m.stack.lake.alarms.events.streamLag)).toMatchObject({
      ...onStream(m.stack.lake.eventsDeliveryStream),
      MetricName: 'KinesisMillisBehindLatest',
      Statistic: 'Maximum',
      Threshold: 900_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('all notify the alarm topic, on alarm and on recovery; no other Firehose alarm exists', () => {
    const lakeAlarms = allStreams().flatMap(({ alarms }) => Object.values(alarms));
    expect(lakeAlarms).toHaveLength(7);
    for (const alarm of lakeAlarms) {
      expect(propsOf(alarm)).toMatchObject({ AlarmActions: [topic()], OKActions: [topic()] });
    }
    const firehoseAlarms = Object.values(m.template.findResources('AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties.Namespace === 'AWS/Firehose',
    );
    expect(firehoseAlarms).toHaveLength(7);
  });
});

describe('collector: alarms', () => {
  const fnDimensions = () => [{ Name: 'FunctionName', Value: refOf(m.stack.collector.function.function) }];

  it.each([
    ['errorsAlarm', 'Errors', 'function error'],
    ['throttlesAlarm', 'Throttles', 'throttled invocation'],
  ] as const)('%s: alarms on any collector %s (%s)', (alarm, metricName, _what) => {
    expect(propsOf(m.stack.collector[alarm])).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: fnDimensions(),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any 5xx of the HTTP API’s $default stage (HTTP API metric names and dimensions)', () => {
    expect(propsOf(m.stack.collector.serverErrorsAlarm)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [
        { Name: 'ApiId', Value: refOf(m.stack.collector.api) },
        { Name: 'Stage', Value: '$default' },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(propsOf(m.stack.collector.stage).StageName).toBe('$default');
  });

  it('alarms when the events stream throttles writes in 3 of 5 minutes (brief throttles are retried away)', () => {
    expect(propsOf(m.stack.collector.streamThrottlingAlarm)).toMatchObject({
      Namespace: 'AWS/Kinesis',
      MetricName: 'WriteProvisionedThroughputExceeded',
      Dimensions: [{ Name: 'StreamName', Value: refOf(m.stack.eventStream.stream) }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('all notify the alarm topic, on alarm and on recovery', () => {
    const topic = refOf(m.stack.alarmTopic.topic);
    const { errorsAlarm, throttlesAlarm, serverErrorsAlarm, streamThrottlingAlarm } = m.stack.collector;
    for (const alarm of [errorsAlarm, throttlesAlarm, serverErrorsAlarm, streamThrottlingAlarm]) {
      expect(propsOf(alarm)).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
    }
  });
});

describe('collector function', () => {
  const fn = () => propsOf(m.stack.collector.function.function);
  const env = () => (fn().Environment as { Variables: Record<string, unknown> }).Variables;

  it('is Node.js 22 on arm64 with active tracing, JSON logs into its own log group with retention', () => {
    expect(fn()).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: refOf(m.stack.collector.function.logGroup) },
    });
    expect(fn().MemorySize).toBeGreaterThanOrEqual(512);
    expect(fn().Timeout).toBeLessThanOrEqual(29); // below API Gateway's integration timeout
    expect(propsOf(m.stack.collector.function.logGroup)).toMatchObject({ RetentionInDays: 30 });
  });

  it('runs longer than its slowest write can take, so it answers 503 itself, not a timeout', () => {
    // One SDK call: each attempt bounded by its timeouts, 1 s allowed for the SDK's back-off between.
    const callMs = (sdk: typeof COLLECTOR_KINESIS_SDK) => {
      const attempts = sdk.maxAttempts ?? 3;
      return (
        attempts * ((sdk.connectionTimeoutMs ?? 0) + (sdk.requestTimeoutMs ?? 0)) + (attempts - 1) * 1000
      );
    };
    const chainMs = (policy: { maxAttempts: number; maxDelayMs: number }, perCallMs: number) =>
      policy.maxAttempts * perCallMs + (policy.maxAttempts - 1) * policy.maxDelayMs;
    const stream = chainMs(DEFAULT_STREAM_RETRY, callMs(COLLECTOR_KINESIS_SDK));
    const quarantine = chainMs(QUARANTINE_RETRY, callMs(COLLECTOR_FIREHOSE_SDK));
    const timeoutMs = Number(fn().Timeout) * 1000;
    expect(Math.max(stream, quarantine) + 2000).toBeLessThan(timeoutMs);
    expect(timeoutMs).toBeLessThan(30_000);
  });

  it('gets exactly the environment functions/collector/env.ts defines, plus the house variables', () => {
    expect(Object.keys(env()).sort()).toEqual(
      [
        ...Object.keys(CollectorEnv.shape),
        'NODE_OPTIONS',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ].sort(),
    );
    expect(env()).toMatchObject({
      EVENT_STREAM_NAME: refOf(m.stack.eventStream.stream),
      QUARANTINE_DELIVERY_STREAM_NAME: refOf(m.stack.lake.quarantineDeliveryStream),
      POWERTOOLS_SERVICE_NAME: 'collector',
    });
  });

  it('its environment passes the collector’s own schema, with the configured sources and limits', () => {
    const resolved = { ...env(), EVENT_STREAM_NAME: 'events', QUARANTINE_DELIVERY_STREAM_NAME: 'quarantine' };
    const parsed = CollectorEnv.parse(resolved);
    const configured = SourcesConfig.parse(exampleConfig().sources);
    expect(parsed.MOSAIC_SOURCES.map((s) => s.name)).toEqual(configured.map((s) => s.name));
    expect(parsed.MOSAIC_SOURCES[0]?.keys[0]?.sha256).toBe(configured[0]?.keys[0]?.sha256);
    expect(parsed.MOSAIC_LIMITS).toEqual(CollectorLimits.parse({}));
    expect(parsed.MOSAIC_LIMITS).toEqual(DEFAULT_LIMITS);
    // Key labels are notes for people and stay out of the function's configuration.
    expect(env().MOSAIC_SOURCES).not.toContain('label');
  });

  it('its role allows exactly PutRecords on the stream, PutRecordBatch on the quarantine, and logs/traces', () => {
    const roleId = logicalIdOf(m.stack.collector.function.role);
    const statements = statementsOfRole(m.template, roleId);
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toEqual(
      [
        'firehose:PutRecordBatch',
        'kinesis:PutRecords',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    for (const action of actions) expect(action).not.toContain('*');
    const resourceOf = (action: string) =>
      statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
    expect(resourceOf('kinesis:PutRecords')).toEqual([arnOf(m.stack.eventStream.stream)]);
    expect(resourceOf('kms:GenerateDataKey')).toEqual([arnOf(m.stack.eventStream.encryptionKey)]);
    expect(statements.find((s) => actionsOf(s).includes('kms:GenerateDataKey'))?.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:aws:kinesis:arn': arnOf(m.stack.eventStream.stream) },
    });
    expect(resourceOf('firehose:PutRecordBatch')).toEqual([arnOf(m.stack.lake.quarantineDeliveryStream)]);
    expect(resourceOf('logs:PutLogEvents')).toEqual([arnOf(m.stack.collector.function.logGroup)]);
    // "*" only where the service has no resource-level permissions (X-Ray).
    for (const statement of statements.filter((s) => resourcesOf(s).includes('*'))) {
      expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
    }
    expect(m.template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('may be invoked only by API Gateway for this API', () => {
    const permissions = Object.values(m.template.findResources('AWS::Lambda::Permission')).filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName) ===
        JSON.stringify(arnOf(m.stack.collector.function.function)),
    );
    // One per route: the 14 calls and the 4 browser SDK routes.
    expect(permissions).toHaveLength(COLLECTOR_PATHS.length + BROWSER_SDK_ROUTES.length);
    expect(permissions).toHaveLength(18);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: arnOf(m.stack.collector.function.function),
        SourceArn: { 'Fn::Join': ['', expect.arrayContaining([refOf(m.stack.collector.api)])] },
      });
    }
  });
});

describe('the whole template', () => {
  it('has no Lambda function other than the six house functions (no destination configured: no delivery function; deploy-time helpers are off by default)', () => {
    const functions = [
      m.stack.collector.function,
      m.stack.resolver.function,
      m.stack.profileApi.function,
      m.stack.profileApi.authorizerFunction,
      m.stack.segmentsApi.function,
      m.stack.destinationsApi.function,
    ];
    expect(m.stack.activation.deliveries).toEqual([]);
    expect(Object.keys(m.template.findResources('AWS::Lambda::Function')).sort()).toEqual(
      functions.map((fn) => logicalIdOf(fn.function)).sort(),
    );
  });

  it('gives every log group a retention', () => {
    for (const logGroup of Object.values(m.template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
  });
});
