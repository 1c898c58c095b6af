import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { SegmentsApiEnv } from '../../functions/segments-api/env';
import { parseConfig } from '../../lib/config';
import { AthenaWorkgroup } from '../../lib/constructs/athena-workgroup';
import { EXPORT_MEMBERS_TABLE } from '../../lib/constructs/audience-exports';
import { PROJECT_ROOT } from '../../lib/constructs/mosaic-function';
import { SEGMENT_STORE_ACTIONS, SEGMENTS_ROUTES } from '../../lib/constructs/segments-api';
import { MosaicStack } from '../../lib/stacks/mosaic-stack';
import { SEGMENT_TABLE } from '../../src/adapters/aws/segment-table';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { EXPORT_MEMBER_COLUMNS } from '../../src/core/segments/export-plan';
import {
  actionsOf,
  arnOf,
  cdkJsonContext,
  exampleConfig,
  logicalIdOf,
  type PolicyStatementJson,
  refOf,
  resourcesOf,
  type SynthesizedMosaic,
  statementsOfRole,
  synthMosaic,
  testAppProps,
} from './support';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
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
const objectArn = (bucket: Construct, prefix: string) => ({
  'Fn::Join': ['', [arnOf(bucket), `/${prefix}*`]],
});
/** The resources of the statements that allow `action`. */
const resourcesFor = (statements: PolicyStatementJson[], action: string) =>
  statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
const HOUSE_ENV = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
const GB = 1_000_000_000;

const tlsDeny = (bucket: Construct) => {
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
const bucketPolicyOf = (bucket: Construct) =>
  Object.values(m.template.findResources('AWS::S3::BucketPolicy')).find(
    (p) => json(p.Properties.Bucket) === json(refOf(bucket)),
  ) as Resource;

describe('segments table', () => {
  it('has the key shape of SEGMENT_TABLE: string pk / sk, TTL on expiresAt', () => {
    const { table } = m.stack.segmentsTable;
    expect(propsOf(table)).toMatchObject({
      KeySchema: [
        { AttributeName: SEGMENT_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: SEGMENT_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('is on-demand with point-in-time recovery, encrypted with its own rotating key, retained and protected', () => {
    const { table, encryptionKey } = m.stack.segmentsTable;
    expect(propsOf(table)).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(encryptionKey) },
      DeletionProtectionEnabled: true,
    });
    expect(propsOf(table)).not.toHaveProperty('ProvisionedThroughput');
    expect(propsOf(encryptionKey)).toMatchObject({ EnableKeyRotation: true });
    expect(resourceOf(table).DeletionPolicy).toBe('Retain');
    expect(encryptionKey).not.toBe(m.stack.identityTable.encryptionKey);
  });
});

describe('Athena workgroup', () => {
  const workGroup = () => propsOf(m.stack.athenaWorkgroup.workGroup);

  it('enforces its configuration: engine 3, CloudWatch metrics, the scan cutoff from the config (100 GB)', () => {
    expect(workGroup()).toMatchObject({
      Name: 'mosaic',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 100 * GB,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        RequesterPaysEnabled: false,
      },
    });
  });

  it('is deleted with the stack, saved queries included, even when the data is retained: a new deployment can create it again', () => {
    expect(resourceOf(m.stack.athenaWorkgroup.workGroup).DeletionPolicy).toBe('Delete');
    expect(workGroup().RecursiveDeleteOption).toBe(true);
    // Its results stay, as the removal policy "retain" says.
    expect(resourceOf(m.stack.athenaWorkgroup.resultsBucket).DeletionPolicy).toBe('Retain');
    expect(resourceOf(m.stack.athenaWorkgroup.encryptionKey).DeletionPolicy).toBe('Retain');
  });

  it('writes results to results/ of its own bucket, SSE-KMS with its own rotating key, owned by this account', () => {
    const { resultsBucket, encryptionKey } = m.stack.athenaWorkgroup;
    expect((workGroup().WorkGroupConfiguration as Record<string, unknown>).ResultConfiguration).toEqual({
      OutputLocation: { 'Fn::Join': ['', ['s3://', refOf(resultsBucket), '/results/']] },
      ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
      EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: arnOf(encryptionKey) },
    });
    expect(propsOf(encryptionKey)).toMatchObject({ EnableKeyRotation: true });
  });

  it('results bucket: the workgroup key, private, TLS only, access-logged, results expire after the configured days', () => {
    const { resultsBucket, encryptionKey } = m.stack.athenaWorkgroup;
    expect(propsOf(resultsBucket)).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(encryptionKey) },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: {
        DestinationBucketName: refOf(m.stack.lake.accessLogsBucket),
        LogFilePrefix: 'athena-results/',
      },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          }),
        ],
      },
    });
    expect(bucketPolicyOf(resultsBucket).Properties.PolicyDocument).toMatchObject({
      Statement: expect.arrayContaining(tlsDeny(resultsBucket)),
    });
  });

  it('refuses a scan cutoff below Athena’s 10 MB minimum', () => {
    const stack = new Stack(new App(), 'S');
    const accessLogsBucket = new s3.Bucket(stack, 'Logs');
    const props = {
      workGroupName: 'w',
      accessLogsBucket,
      resultExpiration: Duration.days(1),
      removalPolicy: RemovalPolicy.RETAIN,
    };
    expect(
      () => new AthenaWorkgroup(stack, 'W', { ...props, bytesScannedCutoffPerQuery: 9_999_999 }),
    ).toThrow(/at least 10000000/);
    expect(
      () => new AthenaWorkgroup(stack, 'X', { ...props, bytesScannedCutoffPerQuery: 10_000_000 }),
    ).not.toThrow();
  });

  it('with removal policy "destroy", deletes the workgroup with its saved queries, and the results', () => {
    const app = new App(testAppProps({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }));
    const stack = new MosaicStack(app, 'Mosaic', {
      config: parseConfig({
        ...exampleConfig(),
        removalPolicy: 'destroy',
        segments: { workGroupName: 'mosaic_test', bytesScannedCutoffGb: 2.5, resultDays: 1, exportDays: 30 },
      }),
    });
    const template = Template.fromStack(stack);
    const all = template.toJSON().Resources as Record<string, Resource>;
    const wg = all[logicalIdOf(stack.athenaWorkgroup.workGroup)] as Resource;
    expect(wg.DeletionPolicy).toBe('Delete');
    expect(wg.Properties).toMatchObject({
      Name: 'mosaic_test',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: { BytesScannedCutoffPerQuery: 2_500_000_000 },
    });
    const lifecycle = (bucket: Construct) =>
      ((all[logicalIdOf(bucket)] as Resource).Properties.LifecycleConfiguration as { Rules: unknown[] })
        .Rules;
    expect(lifecycle(stack.athenaWorkgroup.resultsBucket)).toEqual([
      expect.objectContaining({ ExpirationInDays: 1 }),
    ]);
    expect(lifecycle(stack.audienceExports.bucket)).toEqual(
      expect.arrayContaining([expect.objectContaining({ ExpirationInDays: 30 })]),
    );
    for (const construct of [
      stack.segmentsTable.table,
      stack.segmentsTable.encryptionKey,
      stack.athenaWorkgroup.resultsBucket,
      stack.athenaWorkgroup.encryptionKey,
      stack.audienceExports.bucket,
      stack.exportWorkflow.logGroup,
      stack.exportWorkflow.logKey,
    ]) {
      expect(all[logicalIdOf(construct)]?.DeletionPolicy, construct.node.path).toBe('Delete');
    }
    expect(all[logicalIdOf(stack.segmentsTable.table)]?.Properties.DeletionProtectionEnabled).toBe(false);
    expect(
      Object.values(template.findResources('Custom::S3AutoDeleteObjects')).map(
        (r) => r.Properties.BucketName,
      ),
    ).toEqual(
      expect.arrayContaining([
        refOf(stack.athenaWorkgroup.resultsBucket),
        refOf(stack.audienceExports.bucket),
      ]),
    );
  });
});

describe('segments configuration', () => {
  const required = () => ({ sources: exampleConfig().sources, adminKeys: exampleConfig().adminKeys });

  it('defaults: workgroup named after the stack, 100 GB per query, results 7 days, exports 90 days', () => {
    expect(parseConfig(required()).segments).toEqual({
      bytesScannedCutoffGb: 100,
      resultDays: 7,
      exportDays: 90,
    });
  });

  it.each([
    [{ bytesScannedCutoffGb: 0.001 }, /mosaic\.segments\.bytesScannedCutoffGb: /],
    [{ resultDays: 0 }, /mosaic\.segments\.resultDays: /],
    [{ exportDays: 1.5 }, /mosaic\.segments\.exportDays: /],
    [{ workGroupName: 'no spaces' }, /mosaic\.segments\.workGroupName: /],
    [{ cutoff: 1 }, /mosaic\.segments: Unrecognized key: "cutoff"|mosaic\.segments\.cutoff/],
  ])('rejects %j', (segments, message) => {
    expect(() => parseConfig({ ...required(), segments })).toThrow(message);
  });
});

describe('exports bucket', () => {
  it('the workgroup key (UNLOAD files are encrypted with it), versioned, private, access-logged', () => {
    const { bucket } = m.stack.audienceExports;
    expect(propsOf(bucket)).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: arnOf(m.stack.athenaWorkgroup.encryptionKey),
            },
          },
        ],
      },
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
        LogFilePrefix: 'exports/',
      },
    });
    expect(resourceOf(bucket).DeletionPolicy).toBe('Retain');
  });

  it('expires exports (personal data) after the configured days, replaced versions a day later', () => {
    const rules = (propsOf(m.stack.audienceExports.bucket).LifecycleConfiguration as { Rules: unknown[] })
      .Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ExpirationInDays: 90,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
        expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
      ]),
    );
  });

  it('denies every request not made over TLS 1.2+', () => {
    expect(bucketPolicyOf(m.stack.audienceExports.bucket).Properties.PolicyDocument).toMatchObject({
      Statement: expect.arrayContaining(tlsDeny(m.stack.audienceExports.bucket)),
    });
  });
});

describe('export_members Glue table', () => {
  const input = () =>
    propsOf(m.stack.audienceExports.membersTable).TableInput as {
      Name: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: Array<{ Name: string; Type: string }>;
      StorageDescriptor: {
        Columns: Array<{ Name: string; Type: string }>;
        SerdeInfo: { SerializationLibrary: string };
      };
    };

  it('is in the lake’s database, created after it', () => {
    expect(propsOf(m.stack.audienceExports.membersTable).DatabaseName).toBe('mosaic');
    expect(input().Name).toBe(EXPORT_MEMBERS_TABLE);
    const database = Object.keys(m.template.findResources('AWS::Glue::Database'));
    expect(database).toHaveLength(1);
    expect(resourceOf(m.stack.audienceExports.membersTable).DependsOn).toEqual(
      expect.arrayContaining([database[0]]),
    );
  });

  it('has profile_id then c0..c99 (EXPORT_MEMBER_COLUMNS), strings, as Parquet', () => {
    expect(input().StorageDescriptor.Columns).toEqual([
      { Name: 'profile_id', Type: 'string' },
      ...EXPORT_MEMBER_COLUMNS.map((name) => ({ Name: name, Type: 'string' })),
    ]);
    expect(EXPORT_MEMBER_COLUMNS).toHaveLength(100);
    expect(input().StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(input().Parameters.classification).toBe('parquet');
  });

  it('is partitioned by segment_id and export_id, injected projection, each export’s members/ folder', () => {
    expect(input().PartitionKeys).toEqual([
      { Name: 'segment_id', Type: 'string' },
      { Name: 'export_id', Type: 'string' },
    ]);
    expect(input().Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.segment_id.type': 'injected',
      'projection.export_id.type': 'injected',
      'storage.location.template': {
        'Fn::Join': [
          '',
          [
            's3://',
            refOf(m.stack.audienceExports.bucket),
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders
            '/exports/segment_id=${segment_id}/export_id=${export_id}/members/',
          ],
        ],
      },
    });
  });
});

describe('Segments API', () => {
  const fn = () => m.stack.segmentsApi.function;
  const env = () => (propsOf(fn().function).Environment as { Variables: Record<string, unknown> }).Variables;
  const statements = () => statementsOfRole(m.template, logicalIdOf(fn().role));

  it('is a house function (functions/segments-api/index.ts) that outlives the 20 s preview wait', () => {
    expect(propsOf(fn().function)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: 29,
    });
    expect(env().PREVIEW_WAIT_MS).toBe('20000');
  });

  it('gets exactly what functions/segments-api/env.ts defines — the configuration in its bundle, the rest in its environment — and the house variables', () => {
    // MOSAIC_DESTINATIONS: an export naming a destination carries that destination's columns.
    const bundled = ['MOSAIC_IDENTITY', 'MOSAIC_DESTINATIONS'];
    expect(Object.keys(fn().bundledConfig).sort()).toEqual(bundled.sort());
    const expected = [
      ...Object.keys(SegmentsApiEnv.shape).filter((name) => !bundled.includes(name)),
      ...HOUSE_ENV,
    ];
    expect(Object.keys(env()).sort()).toEqual(expected.sort());
    expect(JSON.parse(fn().bundledConfig.MOSAIC_DESTINATIONS as string)).toEqual({
      destinations: [],
      defaultPhoneCountry: 'US',
    });
    expect(env()).toMatchObject({
      SEGMENTS_TABLE_NAME: refOf(m.stack.segmentsTable.table),
      ATHENA_WORKGROUP: refOf(m.stack.athenaWorkgroup.workGroup),
      GLUE_DATABASE: 'mosaic',
      EVENTS_TABLE: 'events',
      IDENTITY_LINKS_TABLE: 'identity_links',
      EXPORT_MEMBERS_TABLE: 'export_members',
      EXPORTS_ROOT: { 'Fn::Join': ['', ['s3://', refOf(m.stack.audienceExports.bucket), '/exports']] },
      EXPORT_STATE_MACHINE_ARN: refOf(m.stack.exportWorkflow.stateMachine),
    });
  });

  it('its environment passes the function’s own schema', () => {
    const parsed = SegmentsApiEnv.parse({
      ...env(),
      ...fn().bundledConfig,
      SEGMENTS_TABLE_NAME: 'segments',
      ATHENA_WORKGROUP: 'mosaic',
      EXPORTS_ROOT: 's3://mosaic-exports-bucket/exports',
      EXPORT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Export',
    });
    expect(parsed.MOSAIC_IDENTITY).toEqual(DEFAULT_IDENTITY_CONFIG);
    expect(parsed.PREVIEW_WAIT_MS).toBe(20_000);
  });

  it('adds every Segments route to the collector’s HTTP API, behind the admin authorizer', () => {
    const expected = [
      'POST /v1/segments',
      'GET /v1/segments',
      'GET /v1/segments/{id}',
      'PUT /v1/segments/{id}',
      'DELETE /v1/segments/{id}',
      'POST /v1/segments/{id}/preview',
      'POST /v1/segments/{id}/exports',
      'GET /v1/previews/{id}',
      'GET /v1/exports/{id}',
    ];
    const routes = m.stack.segmentsApi.routes.map((route) => propsOf(route));
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([...expected].sort());
    expect(SEGMENTS_ROUTES.flatMap((r) => r.methods.map((method) => `${method} ${r.path}`)).sort()).toEqual(
      [...expected].sort(),
    );
    const [authorizerId] = Object.keys(m.template.findResources('AWS::ApiGatewayV2::Authorizer'));
    const integration = Object.entries(m.template.findResources('AWS::ApiGatewayV2::Integration')).find(
      ([, i]) => json(i.Properties.IntegrationUri) === json(arnOf(fn().function)),
    );
    expect(integration?.[1].Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    for (const route of routes) {
      expect(route).toMatchObject({
        ApiId: refOf(m.stack.collector.api),
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration?.[0] }]] },
      });
    }
  });

  it('its role holds exactly the actions it needs, none with a wildcard', () => {
    const actions = [...new Set(statements().flatMap(actionsOf))].sort();
    expect(actions).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetQueryResults',
        'athena:GetDataCatalog',
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetPartitions',
        's3:GetBucketLocation',
        's3:ListBucket',
        's3:ListBucketMultipartUploads',
        's3:GetObject',
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        'states:StartExecution',
        'states:DescribeExecution',
      ].sort(),
    );
    for (const action of actions) expect(action).not.toContain('*');
    for (const statement of statements().filter((s) => resourcesOf(s).includes('*'))) {
      expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  it('may do on the segments table exactly what the segment store calls, nothing it never calls (BatchGetItem)', () => {
    const source = readFileSync(join(PROJECT_ROOT, 'src/adapters/aws/dynamodb-segment-store.ts'), 'utf8');
    const imported = /import \{([^}]*)\} from '@aws-sdk\/client-dynamodb'/.exec(source)?.[1] ?? '';
    const called = [...imported.matchAll(/\b(\w+)Command\b/g)].map(([, name]) => `dynamodb:${name}`);
    expect(called.length).toBeGreaterThan(0);
    expect([...SEGMENT_STORE_ACTIONS].sort()).toEqual(called.sort());
    const table = json(arnOf(m.stack.segmentsTable.table));
    const onTable = statements()
      .filter((statement) => resourcesOf(statement).some((resource) => json(resource) === table))
      .flatMap(actionsOf);
    expect(onTable.sort()).toEqual([...SEGMENT_STORE_ACTIONS].sort());
  });

  it('each grant is on its own resource: the table, the workgroup, the lake tables, the state machine', () => {
    const s = statements();
    const table = arnOf(m.stack.segmentsTable.table);
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query']) {
      expect(resourcesFor(s, action)).toEqual([table]);
    }
    const workGroupArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':athena:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':workgroup/',
          refOf(m.stack.athenaWorkgroup.workGroup),
        ],
      ],
    };
    for (const action of ['athena:StartQueryExecution', 'athena:GetQueryResults']) {
      expect(resourcesFor(s, action)).toEqual([workGroupArn]);
    }
    const glue = json(resourcesFor(s, 'glue:GetTable'));
    expect(glue).toContain(':table/mosaic/events"');
    expect(glue).toContain(':table/mosaic/identity_links"');
    expect(glue).not.toContain('export_members');
    expect(glue).not.toContain('*');
    expect(resourcesFor(s, 'states:StartExecution')).toEqual([refOf(m.stack.exportWorkflow.stateMachine)]);
    expect(json(resourcesFor(s, 'states:DescribeExecution'))).toContain(':execution:');
  });

  it('reads only events/ and identity_links/ of the lake, writes only Athena results, never export files', () => {
    const s = statements();
    const { lake, athenaWorkgroup } = m.stack;
    expect(resourcesFor(s, 's3:GetObject')).toEqual(
      expect.arrayContaining([
        objectArn(lake.bucket, 'events/'),
        objectArn(lake.bucket, 'identity_links/'),
        objectArn(athenaWorkgroup.resultsBucket, 'results/'),
      ]),
    );
    expect(resourcesFor(s, 's3:PutObject')).toEqual([objectArn(athenaWorkgroup.resultsBucket, 'results/')]);
    expect(json(s)).not.toContain(logicalIdOf(m.stack.audienceExports.bucket));
    // Keys only through their service.
    for (const statement of s.filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')))) {
      expect(json(statement.Condition)).toMatch(/kms:ViaService/);
    }
    expect(resourcesFor(s, 'kms:GenerateDataKey')).toEqual(
      expect.arrayContaining([
        arnOf(athenaWorkgroup.encryptionKey),
        arnOf(m.stack.segmentsTable.encryptionKey),
      ]),
    );
    expect(resourcesFor(s, 'kms:GenerateDataKey')).not.toContainEqual(arnOf(lake.encryptionKey));
  });
});

describe('outputs', () => {
  it('name the exports bucket, the workgroup, the export state machine and the segments table', () => {
    m.template.hasOutput('ExportsBucketName', { Value: refOf(m.stack.audienceExports.bucket) });
    m.template.hasOutput('AthenaWorkGroupName', { Value: refOf(m.stack.athenaWorkgroup.workGroup) });
    m.template.hasOutput('ExportStateMachineArn', { Value: refOf(m.stack.exportWorkflow.stateMachine) });
    m.template.hasOutput('SegmentsTableName', { Value: refOf(m.stack.segmentsTable.table) });
  });
});
