import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdminAuthorizerEnv } from '../../functions/admin-authorizer/env';
import { ProfileApiEnv } from '../../functions/profile-api/env';
import { ResolverEnv } from '../../functions/resolver/env';
import { PROJECT_ROOT, TABLE_ACTIONS } from '../../lib/constructs/mosaic-function';
import { ADMIN_AUTHORIZER_CACHE_TTL, PROFILE_PATHS } from '../../lib/constructs/profile-api';
import { IDENTITY_TABLE } from '../../src/adapters/aws/identity-table';
import { AdminKeysConfig } from '../../src/core/auth/admin-keys';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { IDENTITY_LINK_COLUMNS } from '../../src/core/lake/tables';
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

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Construct = Parameters<typeof logicalIdOf>[0];

let m: SynthesizedMosaic;
let resources: Record<string, Resource>;

beforeAll(() => {
  m = synthMosaic(); // the example configuration of cdk.json, validation (cdk-nag) included
  resources = m.template.toJSON().Resources as Record<string, Resource>;
});

const resourceOf = (construct: Construct) => resources[logicalIdOf(construct)] as Resource;
const propsOf = (construct: Construct) => resourceOf(construct).Properties;
const json = (value: unknown) => JSON.stringify(value);
const roleStatements = (role: Construct) => statementsOfRole(m.template, logicalIdOf(role));
/** The resources of the statements that allow `action`. */
const resourcesFor = (statements: PolicyStatementJson[], action: string) =>
  statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
const envOf = (fn: { function: Construct }) =>
  (propsOf(fn.function).Environment as { Variables: Record<string, unknown> }).Variables;
const HOUSE_ENV = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
const HOUSE_ACTIONS = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

/** DynamoDB actions that must never be granted to a Mosaic function. */
const NEVER_DYNAMODB = [
  'dynamodb:Scan',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:CreateTable',
  'dynamodb:PartiQLDelete',
];

const tlsDenyStatements = (bucket: Construct) => {
  const everything = [arnOf(bucket), { 'Fn::Join': ['', [arnOf(bucket), '/*']] }];
  return [
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
  ];
};

describe('identity table', () => {
  it('has the key shape of IDENTITY_TABLE: string pk / sk, TTL on expiresAt', () => {
    expect(propsOf(m.stack.identityTable.table)).toMatchObject({
      KeySchema: [
        { AttributeName: IDENTITY_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: IDENTITY_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(propsOf(m.stack.identityTable.table)).not.toHaveProperty('GlobalSecondaryIndexes');
  });

  it('is on-demand, with point-in-time recovery', () => {
    expect(propsOf(m.stack.identityTable.table)).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is encrypted with its own customer managed key, which rotates', () => {
    const { table, encryptionKey } = m.stack.identityTable;
    expect(propsOf(table).SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: arnOf(encryptionKey),
    });
    expect(propsOf(encryptionKey)).toMatchObject({ EnableKeyRotation: true });
  });

  it('is retained and protected against deletion by default', () => {
    expect(resources[logicalIdOf(m.stack.identityTable.table)]).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(resources[logicalIdOf(m.stack.identityTable.encryptionKey)]).toMatchObject({
      DeletionPolicy: 'Retain',
    });
    expect(propsOf(m.stack.identityTable.table).DeletionProtectionEnabled).toBe(true);
  });
});

describe('event bus', () => {
  it('is a custom bus named "mosaic" with no resource policy (only granted principals of the account publish)', () => {
    expect(propsOf(m.stack.eventBus.bus)).toMatchObject({ Name: 'mosaic' });
    expect(propsOf(m.stack.eventBus.bus)).not.toHaveProperty('Policy');
    m.template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });

  it('archives every Mosaic event of the account for the configured days', () => {
    expect(propsOf(m.stack.eventBus.archive)).toMatchObject({
      SourceArn: arnOf(m.stack.eventBus.bus),
      EventPattern: { source: ['mosaic'], account: [{ Ref: 'AWS::AccountId' }] },
      RetentionDays: 7,
    });
  });
});

describe('lake: identity_links', () => {
  const tableInput = () =>
    propsOf(m.stack.lake.identityLinksTable).TableInput as {
      Name: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: unknown;
      StorageDescriptor: { Columns: unknown; Location: unknown; SerdeInfo: { SerializationLibrary: string } };
    };
  const delivery = () => propsOf(m.stack.lake.identityLinksDeliveryStream);
  const destination = () => delivery().ExtendedS3DestinationConfiguration as Record<string, unknown>;

  it('the Glue table has exactly the columns of IDENTITY_LINK_COLUMNS, as Parquet', () => {
    const input = tableInput();
    expect(input.Name).toBe('identity_links');
    expect(input.StorageDescriptor.Columns).toEqual(
      IDENTITY_LINK_COLUMNS.map((c) => ({ Name: c.name, Type: c.type })),
    );
    expect(input.StorageDescriptor.Columns).toEqual([
      { Name: 'id_type', Type: 'string' },
      { Name: 'id_value', Type: 'string' },
      { Name: 'profile_id', Type: 'string' },
      { Name: 'linked_at', Type: 'timestamp' },
      { Name: 'source', Type: 'string' },
      { Name: 'message_id', Type: 'string' },
      { Name: 'reason', Type: 'string' },
    ]);
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(propsOf(m.stack.lake.identityLinksTable).DatabaseName).toBe(
      propsOf(m.stack.lake.eventsTable).DatabaseName,
    );
  });

  it('is partitioned by dt and hour under identity_links/ with partition projection, like events', () => {
    const input = tableInput();
    const events = propsOf(m.stack.lake.eventsTable).TableInput as typeof input;
    expect(input.PartitionKeys).toEqual(events.PartitionKeys);
    expect(input.StorageDescriptor.Location).toEqual({
      'Fn::Join': ['', ['s3://', refOf(m.stack.lake.bucket), '/identity_links/']],
    });
    const projection = (p: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith('projection.')));
    expect(projection(input.Parameters)).toEqual(projection(events.Parameters));
    expect(input.Parameters['storage.location.template']).toEqual({
      'Fn::Join': ['', ['s3://', refOf(m.stack.lake.bucket), `/identity_links/dt=\${dt}/hour=\${hour}/`]],
    });
  });

  it('the delivery stream is Direct PUT with server-side encryption under the lake key', () => {
    expect(delivery()).toMatchObject({
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: {
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: arnOf(m.stack.lake.encryptionKey),
      },
    });
  });

  it('writes Parquet to identity_links/dt=/hour=, errors under errors/identity_links/, encrypted with the lake key', () => {
    expect(destination()).toMatchObject({
      BucketARN: arnOf(m.stack.lake.bucket),
      Prefix: 'identity_links/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      ErrorOutputPrefix:
        'errors/identity_links/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
      CompressionFormat: 'UNCOMPRESSED',
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: arnOf(m.stack.lake.encryptionKey) } },
      CloudWatchLoggingOptions: { Enabled: true },
      BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 },
    });
  });

  it('converts JSON rows keyed by column name to Snappy Parquet with the identity_links schema', () => {
    const table = propsOf(m.stack.lake.identityLinksTable);
    expect(destination().DataFormatConversionConfiguration).toMatchObject({
      Enabled: true,
      SchemaConfiguration: {
        DatabaseName: table.DatabaseName,
        TableName: 'identity_links',
        VersionId: 'LATEST',
      },
      InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: false } } },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
    });
    // Every column is read from the field of its own name: nothing to map.
    expect(IDENTITY_LINK_COLUMNS.every((c) => c.field === c.name)).toBe(true);
    expect(
      (destination().DataFormatConversionConfiguration as { InputFormatConfiguration: unknown })
        .InputFormatConfiguration,
    ).not.toHaveProperty('Deserializer.OpenXJsonSerDe.ColumnToJsonKeyMappings');
    // Firehose reads the schema when it starts: the table must exist first.
    expect(resourceOf(m.stack.lake.identityLinksDeliveryStream).DependsOn).toContain(
      logicalIdOf(m.stack.lake.identityLinksTable),
    );
  });

  it('its role writes only identity_links/ and errors/identity_links/, reads only the identity_links schema, and no stream', () => {
    const roleId = (destination().RoleARN as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(m.template, roleId);
    const objects = resourcesFor(statements, 's3:PutObject');
    expect(objects).toHaveLength(2);
    expect(objects).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [arnOf(m.stack.lake.bucket), '/identity_links/*']] },
        { 'Fn::Join': ['', [arnOf(m.stack.lake.bucket), '/errors/identity_links/*']] },
      ]),
    );
    expect(json(resourcesFor(statements, 'glue:GetTable'))).toContain('/identity_links');
    expect(json(resourcesFor(statements, 'glue:GetTable'))).not.toContain('/events');
    for (const statement of statements) {
      for (const action of actionsOf(statement)) {
        expect(action).not.toContain('*');
        expect(action.startsWith('kinesis:')).toBe(false);
        expect(action).not.toBe('s3:DeleteObject');
      }
    }
  });
});

describe('resolver: event source mapping', () => {
  it('reads the events stream from the oldest record with the configured batching', () => {
    expect(propsOf(m.stack.resolver.eventSourceMapping)).toMatchObject({
      FunctionName: refOf(m.stack.resolver.function.function),
      EventSourceArn: arnOf(m.stack.eventStream.stream),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 1,
    });
  });

  it('reports partial batch failures, bisects failing batches, and bounds retries and record age', () => {
    expect(propsOf(m.stack.resolver.eventSourceMapping)).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
    });
  });

  it('sends batches it gives up on to the dedicated S3 failure bucket', () => {
    expect(propsOf(m.stack.resolver.eventSourceMapping).DestinationConfig).toEqual({
      OnFailure: { Destination: arnOf(m.stack.resolver.failureBucket) },
    });
  });
});

describe('resolver: failure bucket', () => {
  const bucket = () => m.stack.resolver.failureBucket;

  it('encrypts with its own rotating customer managed key', () => {
    expect(propsOf(bucket()).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: arnOf(m.stack.resolver.failureBucketKey),
          },
        },
      ],
    });
    expect(propsOf(m.stack.resolver.failureBucketKey)).toMatchObject({ EnableKeyRotation: true });
  });

  it('is versioned and private, and logs server access to the lake’s access-logs bucket', () => {
    expect(propsOf(bucket())).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: {
        DestinationBucketName: refOf(m.stack.lake.accessLogsBucket),
        LogFilePrefix: 'resolver-failures/',
      },
    });
  });

  it('denies every request not made over TLS 1.2+', () => {
    m.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: refOf(bucket()),
      PolicyDocument: { Statement: Match.arrayWith(tlsDenyStatements(bucket())) },
    });
  });

  it('expires failed batches (personal data) after the configured days, old versions a day later', () => {
    const rules = (propsOf(bucket()).LifecycleConfiguration as { Rules: Array<Record<string, unknown>> })
      .Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ExpirationInDays: 14,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
      ]),
    );
    expect(rules.every((rule) => rule.Prefix === undefined)).toBe(true);
  });

  it('is retained by default', () => {
    expect(resourceOf(bucket())).toMatchObject({ DeletionPolicy: 'Retain' });
  });
});

describe('resolver: function', () => {
  const fn = () => m.stack.resolver.function;

  it('is a house function with a timeout that bounds how long one batch holds up its shard', () => {
    expect(propsOf(fn().function)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 60,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: refOf(fn().logGroup) },
    });
  });

  it('gets exactly what functions/resolver/env.ts defines (the identity configuration in its bundle), plus the house variables', () => {
    expect(Object.keys(fn().bundledConfig)).toEqual(['MOSAIC_IDENTITY']);
    expect([...Object.keys(envOf(fn())), ...Object.keys(fn().bundledConfig)].sort()).toEqual(
      [...Object.keys(ResolverEnv.shape), ...HOUSE_ENV].sort(),
    );
    expect(envOf(fn())).toMatchObject({
      IDENTITY_TABLE_NAME: refOf(m.stack.identityTable.table),
      IDENTITY_LINKS_DELIVERY_STREAM_NAME: refOf(m.stack.lake.identityLinksDeliveryStream),
      EVENT_BUS_NAME: refOf(m.stack.eventBus.bus),
      POWERTOOLS_SERVICE_NAME: 'resolver',
    });
  });

  it('its MOSAIC_IDENTITY passes the resolver’s own schema: the configured (here default) rules', () => {
    const env = ResolverEnv.parse({
      ...envOf(fn()),
      ...fn().bundledConfig,
      IDENTITY_TABLE_NAME: 't',
      IDENTITY_LINKS_DELIVERY_STREAM_NAME: 'l',
      EVENT_BUS_NAME: 'b',
    });
    expect(env.MOSAIC_IDENTITY).toEqual(DEFAULT_IDENTITY_CONFIG);
  });

  it('its role holds exactly the actions it needs, none with a wildcard', () => {
    const actions = [...new Set(roleStatements(fn().role).flatMap(actionsOf))].sort();
    expect(actions).toEqual(
      [
        ...HOUSE_ACTIONS,
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'firehose:PutRecordBatch',
        'kinesis:DescribeStream',
        'kinesis:DescribeStreamSummary',
        'kinesis:GetRecords',
        'kinesis:GetShardIterator',
        'kinesis:ListShards',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        's3:ListBucket',
        's3:PutObject',
      ].sort(),
    );
    for (const action of actions) expect(action).not.toContain('*');
    for (const action of NEVER_DYNAMODB) expect(actions).not.toContain(action);
    expect(resourceOf(fn().role).Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('the table grant covers every DynamoDB command the identity store adapter sends', () => {
    const source = readFileSync(join(PROJECT_ROOT, 'src/adapters/aws/dynamodb-identity-store.ts'), 'utf8');
    const commands = [
      ...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((match) => match[1] as string)),
    ];
    expect(commands.length).toBeGreaterThan(0);
    // The client's commands are named as the IAM actions: GetItemCommand → dynamodb:GetItem.
    for (const command of commands) {
      expect(TABLE_ACTIONS.readWrite, `${command}Command`).toContain(`dynamodb:${command}`);
    }
  });

  it('each grant is on its own resource only', () => {
    const statements = roleStatements(fn().role);
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(resourcesFor(statements, action)).toEqual([arnOf(m.stack.identityTable.table)]);
    }
    expect(resourcesFor(statements, 'firehose:PutRecordBatch')).toEqual([
      arnOf(m.stack.lake.identityLinksDeliveryStream),
    ]);
    expect(resourcesFor(statements, 'events:PutEvents')).toEqual([arnOf(m.stack.eventBus.bus)]);
    expect(resourcesFor(statements, 'kinesis:GetRecords')).toEqual([arnOf(m.stack.eventStream.stream)]);
    expect(resourcesFor(statements, 's3:ListBucket')).toEqual([arnOf(m.stack.resolver.failureBucket)]);
    expect(resourcesFor(statements, 's3:PutObject')).toEqual([
      { 'Fn::Join': ['', [arnOf(m.stack.resolver.failureBucket), '/*']] },
    ]);
    // "*" only where the service has no resource-level permissions (X-Ray).
    for (const statement of statements.filter((s) => resourcesOf(s).includes('*'))) {
      expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  it('uses each KMS key only through its service (and the stream key only for that stream)', () => {
    const statements = roleStatements(fn().role);
    const onKey = (key: Construct) => statements.filter((s) => json(resourcesOf(s)) === json([arnOf(key)]));
    expect(onKey(m.stack.identityTable.encryptionKey)).toEqual([
      expect.objectContaining({
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      }),
    ]);
    expect(onKey(m.stack.eventStream.encryptionKey)).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Condition: {
          StringEquals: expect.objectContaining({
            'kms:EncryptionContext:aws:kinesis:arn': arnOf(m.stack.eventStream.stream),
          }),
        },
      }),
    ]);
    expect(onKey(m.stack.resolver.failureBucketKey)).toEqual([
      expect.objectContaining({
        Action: 'kms:GenerateDataKey',
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      }),
    ]);
    // Nothing on the lake key: identity links reach the lake through Firehose.
    expect(onKey(m.stack.lake.encryptionKey)).toEqual([]);
  });

  it('cannot read or delete what it wrote to the failure bucket', () => {
    const actions = roleStatements(fn().role).flatMap(actionsOf);
    for (const action of ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 'kms:ReEncryptFrom']) {
      expect(actions).not.toContain(action);
    }
  });
});

describe('resolver: alarms', () => {
  it('alarms when the maximum IteratorAge stays above 60 s', () => {
    expect(propsOf(m.stack.resolver.iteratorAgeAlarm)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: refOf(m.stack.resolver.function.function) }],
      Statistic: 'Maximum',
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any function error', () => {
    expect(propsOf(m.stack.resolver.errorsAlarm)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: refOf(m.stack.resolver.function.function) }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when a given-up batch could not be written to the failure bucket (records lost)', () => {
    expect(propsOf(m.stack.resolver.failureDeliveryAlarm)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'DestinationDeliveryFailures',
      Dimensions: [{ Name: 'FunctionName', Value: refOf(m.stack.resolver.function.function) }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('all notify the alarm topic, on alarm and on recovery', () => {
    const topic = refOf(m.stack.alarmTopic.topic);
    const { iteratorAgeAlarm, errorsAlarm, failureDeliveryAlarm } = m.stack.resolver;
    for (const alarm of [iteratorAgeAlarm, errorsAlarm, failureDeliveryAlarm]) {
      expect(propsOf(alarm)).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
    }
  });

  it('without a configured topic, one is created: own rotating key, TLS only, open to this account’s alarms', () => {
    expect(m.stack.alarmTopic.created).toBe(true);
    const topic = propsOf(m.stack.alarmTopic.topic);
    const keyId = (topic.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const key = resources[keyId] as Resource;
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    // CloudWatch may use the key only for this account's alarms in this region.
    const thisAccountsAlarms = {
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    };
    const forCloudWatch = (
      key.Properties.KeyPolicy as { Statement: Array<{ Principal?: unknown }> }
    ).Statement.filter((statement) => JSON.stringify(statement.Principal).includes('cloudwatch'));
    expect(forCloudWatch).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: thisAccountsAlarms,
      },
    ]);
    m.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [refOf(m.stack.alarmTopic.topic)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: thisAccountsAlarms,
          }),
        ]),
      },
    });
  });
});

describe('Profile API', () => {
  const routes = () => Object.values(m.template.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
  const profileRoutes = () =>
    routes().filter((r) => (r.Properties.RouteKey as string).startsWith('GET /v1/profiles/'));
  const authorizers = () => m.template.findResources('AWS::ApiGatewayV2::Authorizer');

  it('adds GET /v1/profiles/{proxy+} (profiles, /events, /merges; values with an encoded "/") to the collector’s HTTP API', () => {
    expect(
      profileRoutes()
        .map((r) => r.Properties.RouteKey)
        .sort(),
    ).toEqual(PROFILE_PATHS.map((path) => `GET ${path}`).sort());
    expect(PROFILE_PATHS).toEqual(['/v1/profiles/{proxy+}']);
    for (const route of profileRoutes()) expect(route.Properties.ApiId).toEqual(refOf(m.stack.collector.api));
  });

  it('has one Lambda authorizer: payload 2.0, simple responses, the Authorization header, a short cache', () => {
    expect(Object.values(authorizers())).toHaveLength(1);
    expect(Object.values(authorizers())[0]?.Properties).toEqual({
      ApiId: refOf(m.stack.collector.api),
      Name: 'admin-key',
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 60,
      AuthorizerUri: {
        'Fn::Join': ['', expect.arrayContaining([arnOf(m.stack.profileApi.authorizerFunction.function)])],
      },
    });
    expect(ADMIN_AUTHORIZER_CACHE_TTL.toSeconds()).toBeLessThanOrEqual(300);
  });

  it('puts the authorizer on every route that is not a collector route, and on no collector route', () => {
    const [authorizerId] = Object.keys(authorizers());
    const collector = new Set(m.stack.collector.routes.map((route) => logicalIdOf(route)));
    const all = m.template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(all)).toHaveLength(
      collector.size +
        PROFILE_PATHS.length +
        m.stack.segmentsApi.routes.length +
        m.stack.destinationsApi.routes.length,
    );
    for (const [id, route] of Object.entries(all)) {
      if (collector.has(id)) {
        expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
        expect(route.Properties.AuthorizerId).toBeUndefined();
      } else {
        expect(route.Properties).toMatchObject({
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: authorizerId },
        });
      }
    }
  });

  it('routes the profile paths to the profile-api function (Lambda proxy, payload 2.0)', () => {
    const integrations = Object.entries(m.template.findResources('AWS::ApiGatewayV2::Integration')).filter(
      ([, i]) => json(i.Properties.IntegrationUri) === json(arnOf(m.stack.profileApi.function.function)),
    );
    expect(integrations).toHaveLength(1);
    const [integrationId, integration] = integrations[0] as [string, Resource];
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    for (const route of profileRoutes()) {
      expect(route.Properties.Target).toEqual({
        'Fn::Join': ['', ['integrations/', { Ref: integrationId }]],
      });
    }
  });

  it('the profile-api function gets exactly its env.ts variables (the identity configuration in its bundle) and answers within API Gateway’s timeout', () => {
    const fn = m.stack.profileApi.function;
    expect(Object.keys(fn.bundledConfig)).toEqual(['MOSAIC_IDENTITY']);
    expect([...Object.keys(envOf(fn)), ...Object.keys(fn.bundledConfig)].sort()).toEqual(
      [...Object.keys(ProfileApiEnv.shape), ...HOUSE_ENV].sort(),
    );
    expect(envOf(fn).IDENTITY_TABLE_NAME).toEqual(refOf(m.stack.identityTable.table));
    expect(
      ProfileApiEnv.parse({ ...envOf(fn), ...fn.bundledConfig, IDENTITY_TABLE_NAME: 't' }).MOSAIC_IDENTITY,
    ).toEqual(DEFAULT_IDENTITY_CONFIG);
    expect(propsOf(fn.function).Timeout).toBeLessThanOrEqual(29);
  });

  it('the profile-api function may only read the identity table', () => {
    const statements = roleStatements(m.stack.profileApi.function.role);
    const actions = [...new Set(statements.flatMap(actionsOf))].sort();
    expect(actions).toEqual(
      [
        ...HOUSE_ACTIONS,
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'kms:Decrypt',
        'kms:DescribeKey',
      ].sort(),
    );
    for (const action of [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      ...NEVER_DYNAMODB,
    ]) {
      expect(actions).not.toContain(action);
    }
    expect(resourcesFor(statements, 'dynamodb:GetItem')).toEqual([arnOf(m.stack.identityTable.table)]);
    expect(resourcesFor(statements, 'kms:Decrypt')).toEqual([arnOf(m.stack.identityTable.encryptionKey)]);
  });

  it('the authorizer gets the configured admin key hashes (never a key) and no data access at all', () => {
    const fn = m.stack.profileApi.authorizerFunction;
    expect(Object.keys(envOf(fn)).sort()).toEqual(
      [...Object.keys(AdminAuthorizerEnv.shape), ...HOUSE_ENV].sort(),
    );
    expect(AdminAuthorizerEnv.parse(envOf(fn)).MOSAIC_ADMIN_KEYS).toEqual(
      AdminKeysConfig.parse(exampleConfig().adminKeys),
    );
    const actions = [...new Set(roleStatements(fn.role).flatMap(actionsOf))].sort();
    expect(actions).toEqual([...HOUSE_ACTIONS].sort());
    expect(propsOf(fn.function).Timeout).toBeLessThanOrEqual(10);
  });

  it('the authorizer may be invoked only by API Gateway, for this authorizer', () => {
    const [authorizerId] = Object.keys(authorizers());
    const permissions = Object.values(m.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => json(p.Properties.FunctionName) === json(arnOf(m.stack.profileApi.authorizerFunction.function)),
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
    expect(json(permissions[0]?.Properties.SourceArn)).toContain(`authorizers/",{"Ref":"${authorizerId}"}`);
  });

  it('the profile-api function may be invoked only by API Gateway for this API', () => {
    const permissions = Object.values(m.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => json(p.Properties.FunctionName) === json(arnOf(m.stack.profileApi.function.function)),
    );
    expect(permissions).toHaveLength(PROFILE_PATHS.length);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', expect.arrayContaining([refOf(m.stack.collector.api)])] },
      });
    }
  });
});

describe('outputs', () => {
  it('the Profile API URL is the HTTP API’s URL', () => {
    expect(m.template.toJSON().Outputs.ProfileApiUrl.Value).toEqual(
      m.template.toJSON().Outputs.CollectorUrl.Value,
    );
  });

  it('names the identity table, the bus, the failure bucket and the alarm topic', () => {
    m.template.hasOutput('IdentityTableName', { Value: refOf(m.stack.identityTable.table) });
    m.template.hasOutput('EventBusName', { Value: refOf(m.stack.eventBus.bus) });
    m.template.hasOutput('ResolverFailureBucketName', { Value: refOf(m.stack.resolver.failureBucket) });
    m.template.hasOutput('AlarmTopicArn', { Value: refOf(m.stack.alarmTopic.topic) });
  });
});
