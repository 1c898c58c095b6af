import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../lib/constructs/event-bus';
import { EventStream } from '../../lib/constructs/event-stream';
import { IdentityTable } from '../../lib/constructs/identity-table';
import {
  configEnvironment,
  MAX_CONFIG_ENV_BYTES,
  MosaicFunction,
  STREAM_READ_ACTIONS,
  TABLE_ACTIONS,
  TRACING_ACTIONS,
} from '../../lib/constructs/mosaic-function';
import {
  actionsOf,
  arnOf,
  bundleDirOf,
  logicalIdOf,
  refOf,
  resourcesOf,
  startBundle,
  statementsOfRole,
  testAppProps,
} from './support';

const FIXTURE = 'test/cdk/fixtures/handler.ts';
/** Answers with the bundled configuration it reads. */
const CONFIG_FIXTURE = 'test/cdk/fixtures/config-handler.ts';

function houseFunction(stack: Stack, id: string, environment?: Record<string, string>): MosaicFunction {
  return new MosaicFunction(stack, id, {
    entry: FIXTURE,
    description: 'test function',
    serviceName: 'tester',
    logRetention: RetentionDays.ONE_WEEK,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    environment,
  });
}

function deliveryStream(stack: Stack): firehose.CfnDeliveryStream {
  return new firehose.CfnDeliveryStream(stack, 'Delivery', {
    deliveryStreamType: 'DirectPut',
    s3DestinationConfiguration: {
      bucketArn: 'arn:aws:s3:::example-bucket',
      roleArn: 'arn:aws:iam::123456789012:role/example',
    },
  });
}

describe('MosaicFunction', () => {
  let app: App;
  let stack: Stack;
  let fn: MosaicFunction;
  let events: EventStream;
  let delivery: firehose.CfnDeliveryStream;
  let template: Template;

  beforeAll(() => {
    app = new App(testAppProps());
    stack = new Stack(app, 'Test');
    events = new EventStream(stack, 'Events', { retentionHours: 24, removalPolicy: RemovalPolicy.DESTROY });
    delivery = deliveryStream(stack);
    fn = houseFunction(stack, 'Fn', { PLAIN: 'value' });
    fn.bindStreamWriter(events.stream, 'STREAM_NAME');
    fn.bindDeliveryStreamWriter(delivery, 'DELIVERY_NAME');
    app.synth();
    template = Template.fromStack(stack);
  });

  const props = () => template.toJSON().Resources[logicalIdOf(fn.function)].Properties;

  it('is Node.js 22 on arm64, traced, JSON-logged into its own log group with retention', () => {
    expect(props()).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Timeout: 10,
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: refOf(fn.logGroup) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('is bundled as a minified ESM module with a source map, by the local esbuild', () => {
    const assetHash = (props().Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const assetDir = join(app.outdir, `asset.${assetHash}`);
    expect(existsSync(join(assetDir, 'index.mjs'))).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __mosaicCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(code).toContain('statusCode:204'); // minified
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
  });

  it('sets the house variables, its own and the bound ones', () => {
    expect((props().Environment as { Variables: unknown }).Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'tester',
      POWERTOOLS_METRICS_NAMESPACE: 'Mosaic',
      PLAIN: 'value',
      STREAM_NAME: refOf(events.stream),
      DELIVERY_NAME: refOf(delivery),
    });
  });

  it('grants with each bind exactly the one action it needs, on that resource only', () => {
    const statements = statementsOfRole(template, logicalIdOf(fn.role));
    const granted = statements.map((s) => ({ actions: actionsOf(s), resources: resourcesOf(s) }));
    expect(granted).toEqual(
      expect.arrayContaining([
        { actions: ['kinesis:PutRecords'], resources: [arnOf(events.stream)] },
        { actions: ['kms:GenerateDataKey'], resources: [arnOf(events.encryptionKey)] },
        { actions: ['firehose:PutRecordBatch'], resources: [arnOf(delivery)] },
      ]),
    );
    expect(statements.flatMap(actionsOf).sort()).toEqual(
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
  });

  it('grants "*" only for X-Ray, in a policy of its own; everything else in the default policy names its resource', () => {
    const resources = template.toJSON().Resources;
    const tracing = fn.node.findChild('TracingPolicy');
    expect(resources[logicalIdOf(tracing)].Properties).toEqual({
      PolicyName: expect.any(String),
      Roles: [refOf(fn.role)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: [...TRACING_ACTIONS].sort(), Resource: '*' }],
      },
    });
    expect(resources[logicalIdOf(fn.function)].DependsOn).toContain(logicalIdOf(tracing));
    expect(resources[logicalIdOf(fn.role)].Properties.Policies).toBeUndefined();
    const defaultPolicy = fn.role.node.findChild('DefaultPolicy');
    const granted = resources[logicalIdOf(defaultPolicy)].Properties.PolicyDocument.Statement;
    expect(granted.length).toBeGreaterThan(0);
    for (const statement of granted) expect(resourcesOf(statement)).not.toContain('*');
  });

  it('acknowledges cdk-nag’s Resource::* finding on the tracing policy only, not on the role and its default policy', () => {
    const acknowledged = (construct: IConstruct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
        .map((id) => id.replace(/^annotation::/i, ''));
    expect(acknowledged(fn.node.findChild('TracingPolicy'))).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    for (const construct of [fn, fn.role, fn.function, fn.role.node.findChild('DefaultPolicy')]) {
      expect(acknowledged(construct)).not.toContain('AwsSolutions-IAM5[Resource::*]');
    }
  });

  it('has its own role, without the managed AWSLambdaBasicExecutionRole', () => {
    expect(template.toJSON().Resources[logicalIdOf(fn.role)].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('owns its function and nothing else', () => {
    expect(MosaicFunction.owns(fn.function)).toBe(true);
    expect(MosaicFunction.owns(fn.function.node.defaultChild as never)).toBe(true);
    expect(MosaicFunction.owns(fn.logGroup)).toBe(false);
    expect(MosaicFunction.isMosaicFunction(fn)).toBe(true);
    expect(MosaicFunction.isMosaicFunction(stack)).toBe(false);
  });
});

describe('MosaicFunction binds', () => {
  const stack = () => new Stack(new App(testAppProps()), 'Test');

  it('asks for no KMS permission for a stream without a customer managed key', () => {
    const s = stack();
    const stream = new kinesis.Stream(s, 'Managed', { encryption: kinesis.StreamEncryption.MANAGED });
    const fn = houseFunction(s, 'Fn');
    fn.bindStreamWriter(stream, 'STREAM_NAME');
    const statements = statementsOfRole(Template.fromStack(s), logicalIdOf(fn.role));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('refuses to bind one variable twice, so a grant and its variable cannot drift apart', () => {
    const s = stack();
    const fn = houseFunction(s, 'Fn', { PLAIN: 'x' });
    const stream = new kinesis.Stream(s, 'Stream');
    fn.bindStreamWriter(stream, 'STREAM_NAME');
    expect(() => fn.bindStreamWriter(stream, 'STREAM_NAME')).toThrow(/STREAM_NAME is already set/);
    expect(() => fn.bindDeliveryStreamWriter(deliveryStream(s), 'PLAIN')).toThrow(/PLAIN is already set/);
  });

  it('bindTable grants the access level’s item actions on that table, and its key only through DynamoDB', () => {
    const s = stack();
    const { table, encryptionKey } = new IdentityTable(s, 'Identity', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const reader = houseFunction(s, 'Reader');
    const writer = houseFunction(s, 'Writer');
    reader.bindTable(table, 'read', 'TABLE_NAME');
    writer.bindTable(table, 'readWrite', 'TABLE_NAME');
    const template = Template.fromStack(s);
    const grants = (fn: MosaicFunction) =>
      statementsOfRole(template, logicalIdOf(fn.role)).filter((st) =>
        actionsOf(st).some((a) => a.startsWith('dynamodb:') || a.startsWith('kms:')),
      );
    const viaDynamoDb = {
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    };
    expect(grants(reader)).toEqual([
      { Effect: 'Allow', Action: [...TABLE_ACTIONS.read].sort(), Resource: arnOf(table) },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: arnOf(encryptionKey),
        Condition: viaDynamoDb,
      },
    ]);
    expect(grants(writer)).toEqual([
      { Effect: 'Allow', Action: [...TABLE_ACTIONS.readWrite].sort(), Resource: arnOf(table) },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: arnOf(encryptionKey),
        Condition: viaDynamoDb,
      },
    ]);
    expect(TABLE_ACTIONS.read.every((a) => (TABLE_ACTIONS.readWrite as readonly string[]).includes(a))).toBe(
      true,
    );
    for (const action of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(TABLE_ACTIONS.readWrite).not.toContain(action);
    }
    const env = template.toJSON().Resources[logicalIdOf(reader.function)].Properties.Environment.Variables;
    expect(env.TABLE_NAME).toEqual(refOf(table));
  });

  it('bindTable asks for no KMS permission for a table without a customer managed key', () => {
    const s = stack();
    const table = new dynamodb.Table(s, 'Plain', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    const fn = houseFunction(s, 'Fn');
    fn.bindTable(table, 'readWrite', 'TABLE_NAME');
    const statements = statementsOfRole(Template.fromStack(s), logicalIdOf(fn.role));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('bindTable with exact actions grants those only, and the key’s encrypt actions only when one writes', () => {
    const s = stack();
    const { table, encryptionKey } = new IdentityTable(s, 'Identity', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const reader = houseFunction(s, 'Reader');
    const ledger = houseFunction(s, 'Ledger');
    reader.bindTable(table, ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], 'TABLE_NAME');
    ledger.bindTable(table, ['dynamodb:GetItem', 'dynamodb:PutItem'], 'TABLE_NAME');
    expect(() => houseFunction(s, 'Bad').bindTable(table, ['s3:GetObject'], 'TABLE_NAME')).toThrow(
      /bindTable needs DynamoDB actions/,
    );
    const template = Template.fromStack(s);
    const grants = (fn: MosaicFunction) =>
      statementsOfRole(template, logicalIdOf(fn.role))
        .filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:') || a.startsWith('kms:')))
        .map((st) => ({ actions: actionsOf(st), resources: resourcesOf(st) }));
    expect(grants(reader)).toEqual([
      { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], resources: [arnOf(table)] },
      { actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [arnOf(encryptionKey)] },
    ]);
    expect(grants(ledger)).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [arnOf(table)] },
      {
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [arnOf(encryptionKey)],
      },
    ]);
  });

  it('bindQueueSender grants SendMessage on that queue and its key as a producer needs, only through SQS', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    const queue = new sqs.Queue(s, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
    });
    const plain = new sqs.Queue(s, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    const fn = houseFunction(s, 'Fn');
    fn.bindQueueSender(queue, 'QUEUE_URL');
    fn.bindQueueSender(plain, 'PLAIN_QUEUE_URL');
    const template = Template.fromStack(s);
    const statements = statementsOfRole(template, logicalIdOf(fn.role));
    const sends = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
    expect(sends.flatMap(actionsOf)).toEqual(['sqs:SendMessage']);
    expect(
      sends
        .flatMap(resourcesOf)
        .map((r) => JSON.stringify(r))
        .sort(),
    ).toEqual([arnOf(queue), arnOf(plain)].map((r) => JSON.stringify(r)).sort());
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')))).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: arnOf(key),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
    const env = template.toJSON().Resources[logicalIdOf(fn.function)].Properties.Environment.Variables;
    expect(env.QUEUE_URL).toEqual(refOf(queue));
    expect(env.PLAIN_QUEUE_URL).toEqual(refOf(plain));
  });

  it('bindBucketWriter grants PutObject (no read, no delete) on the given keys, and its key only through S3', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    const bucket = new s3.Bucket(s, 'Bucket', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
    const fn = houseFunction(s, 'Fn');
    fn.bindBucketWriter(bucket, 'BUCKET', 'payloads/*/crm/*');
    const template = Template.fromStack(s);
    const statements = statementsOfRole(template, logicalIdOf(fn.role));
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')))).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [arnOf(bucket), '/payloads/*/crm/*']] },
      },
    ]);
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')))).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: arnOf(key),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
    expect(
      template.toJSON().Resources[logicalIdOf(fn.function)].Properties.Environment.Variables.BUCKET,
    ).toEqual(refOf(bucket));
  });

  it('reserves concurrency only when asked', () => {
    const s = stack();
    const reserved = new MosaicFunction(s, 'Reserved', {
      entry: FIXTURE,
      description: 'test function',
      serviceName: 'tester',
      logRetention: RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      reservedConcurrentExecutions: 3,
    });
    const unreserved = houseFunction(s, 'Unreserved');
    const resources = Template.fromStack(s).toJSON().Resources;
    expect(resources[logicalIdOf(reserved.function)].Properties.ReservedConcurrentExecutions).toBe(3);
    expect(
      resources[logicalIdOf(unreserved.function)].Properties.ReservedConcurrentExecutions,
    ).toBeUndefined();
  });

  it('bindEventBus grants PutEvents on that bus only and sets its name', () => {
    const s = stack();
    const bus = new events.EventBus(s, 'Bus', { eventBusName: 'test-bus' });
    const fn = houseFunction(s, 'Fn');
    fn.bindEventBus(bus, 'BUS_NAME');
    const template = Template.fromStack(s);
    const statements = statementsOfRole(template, logicalIdOf(fn.role));
    expect(statements.filter((st) => actionsOf(st).includes('events:PutEvents'))).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: arnOf(bus) },
    ]);
    expect(
      template.toJSON().Resources[logicalIdOf(fn.function)].Properties.Environment.Variables.BUS_NAME,
    ).toEqual(refOf(bus));
  });

  it('addStreamEventSource maps the stream with the given options and grants reading that stream only', () => {
    const s = stack();
    const stream = new EventStream(s, 'Events', { retentionHours: 24, removalPolicy: RemovalPolicy.DESTROY });
    const fn = houseFunction(s, 'Fn');
    const mapping = fn.addStreamEventSource('Source', stream.stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      maxRecordAge: Duration.hours(1),
    });
    const template = Template.fromStack(s);
    expect(template.toJSON().Resources[logicalIdOf(mapping)].Properties).toMatchObject({
      FunctionName: refOf(fn.function),
      EventSourceArn: arnOf(stream.stream),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumRecordAgeInSeconds: 3600,
    });
    const statements = statementsOfRole(template, logicalIdOf(fn.role));
    expect(statements.filter((st) => actionsOf(st).some((a) => a.startsWith('kinesis:')))).toEqual([
      { Effect: 'Allow', Action: [...STREAM_READ_ACTIONS].sort(), Resource: arnOf(stream.stream) },
    ]);
    expect(statements.filter((st) => actionsOf(st).includes('kms:Decrypt'))).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: arnOf(stream.encryptionKey),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['kinesis.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
            'kms:EncryptionContext:aws:kinesis:arn': arnOf(stream.stream),
          },
        },
      },
    ]);
  });

  it('configEnvironment refuses configuration that would not fit in Lambda’s 4 KB of variables', () => {
    expect(configEnvironment('test configuration', { SMALL: 'x' })).toEqual({ SMALL: 'x' });
    expect(() => configEnvironment('test configuration', { BIG: 'x'.repeat(MAX_CONFIG_ENV_BYTES) })).toThrow(
      /The test configuration is too large for the function's environment/,
    );
  });

  it('refuses to override a house variable or to use an invalid name', () => {
    const s = stack();
    expect(() => houseFunction(s, 'A', { POWERTOOLS_SERVICE_NAME: 'x' })).toThrow(/set by MosaicFunction/);
    expect(() => houseFunction(s, 'B', { 'bad-name': 'x' })).toThrow(/Invalid environment variable name/);
  });
});

describe('MosaicFunction bundled configuration', () => {
  // Larger than one esbuild command-line argument may be (128 KiB on Linux), with every character a
  // JavaScript string must escape.
  const destinations = JSON.stringify({
    destinations: Array.from({ length: 400 }, (_, i) => ({
      name: `d-${i}`,
      note: `"quoted" \\ \n ${'x'.repeat(300)}`,
    })),
    quotes: `'single' "double" \`back\` \${template} </script> \u2028`,
  });
  const identity = JSON.stringify({ types: [{ name: 'crm_id' }] });
  let app: App;
  let stack: Stack;
  let fns: Record<'a' | 'b' | 'c' | 'plain', MosaicFunction>;

  beforeAll(() => {
    app = new App(testAppProps());
    stack = new Stack(app, 'Test');
    const withConfig = (id: string, bundledConfig?: Record<string, string>) =>
      new MosaicFunction(stack, id, {
        entry: CONFIG_FIXTURE,
        description: 'test function',
        serviceName: 'tester',
        logRetention: RetentionDays.ONE_WEEK,
        logRemovalPolicy: RemovalPolicy.DESTROY,
        environment: { PLAIN: 'value' },
        ...(bundledConfig === undefined ? {} : { bundledConfig }),
      });
    fns = {
      a: withConfig('A', { MOSAIC_DESTINATIONS: destinations, MOSAIC_IDENTITY: identity }),
      b: withConfig('B', { MOSAIC_DESTINATIONS: destinations, MOSAIC_IDENTITY: identity }),
      c: withConfig('C', { MOSAIC_IDENTITY: identity }),
      plain: withConfig('Plain'),
    };
    app.synth();
  });

  const propsOf = (fn: MosaicFunction) =>
    Template.fromStack(stack).toJSON().Resources[logicalIdOf(fn.function)].Properties as Record<
      string,
      unknown
    >;
  const start = (fn: MosaicFunction, env: Record<string, string> = {}) =>
    startBundle(bundleDirOf(app.outdir, propsOf(fn)), env, { invoke: true });

  it('compiles the configuration into the bundle: the code reads it as process.env.NAME, with no such variable', () => {
    expect(destinations.length).toBeGreaterThan(128 * 1024);
    const run = start(fns.a);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ MOSAIC_DESTINATIONS: destinations, MOSAIC_IDENTITY: identity });
    expect(fns.a.bundledConfig).toEqual({ MOSAIC_DESTINATIONS: destinations, MOSAIC_IDENTITY: identity });
  });

  it('puts none of it into the environment, which keeps the house, own and bound variables', () => {
    const variables = (propsOf(fns.a).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables).sort()).toEqual(
      ['NODE_OPTIONS', 'PLAIN', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort(),
    );
  });

  it('a name that is not bundled is still read from the environment', () => {
    expect(JSON.parse(start(fns.c, { MOSAIC_DESTINATIONS: '{"from":"env"}' }).stdout)).toEqual({
      MOSAIC_DESTINATIONS: '{"from":"env"}',
      MOSAIC_IDENTITY: identity,
    });
    expect(JSON.parse(start(fns.plain, { MOSAIC_IDENTITY: '{}' }).stdout)).toEqual({ MOSAIC_IDENTITY: '{}' });
  });

  it('bundles one entry with one configuration once: functions with the same share one asset, others get their own', () => {
    const key = (fn: MosaicFunction) => (propsOf(fn).Code as { S3Key: string }).S3Key;
    expect(key(fns.b)).toBe(key(fns.a));
    expect(new Set([key(fns.a), key(fns.c), key(fns.plain)]).size).toBe(3);
  });

  it('refuses a name the functions do not read from their bundle, and one that is also a variable', () => {
    const s = new Stack(new App(testAppProps()), 'Refusals');
    const props = {
      entry: CONFIG_FIXTURE,
      description: 'test function',
      serviceName: 'tester',
      logRetention: RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    };
    expect(
      () => new MosaicFunction(s, 'Unknown', { ...props, bundledConfig: { MOSAIC_SOURCES: '[]' } as never }),
    ).toThrow(
      /"MOSAIC_SOURCES" cannot be bundled: the functions read only MOSAIC_IDENTITY, MOSAIC_DESTINATIONS/,
    );
    expect(
      () =>
        new MosaicFunction(s, 'Both', {
          ...props,
          environment: { MOSAIC_IDENTITY: '{}' },
          bundledConfig: { MOSAIC_IDENTITY: '{}' },
        }),
    ).toThrow(/MOSAIC_IDENTITY is both an environment variable and bundled configuration/);
  });
});

describe('EventBus', () => {
  it.each([0, 0.5])('rejects an archive kept %s days (forever, or part of a day)', (days) => {
    const s = new Stack(new App(), 'Test');
    expect(
      () => new EventBus(s, 'Bus', { busName: 'mosaic', archiveRetention: Duration.hours(days * 24) }),
    ).toThrow(/archiveRetention/);
  });
});

describe('EventStream', () => {
  it.each([23, 8761, 24.5])('rejects a retention of %s hours', (hours) => {
    const s = new Stack(new App(), 'Test');
    expect(
      () => new EventStream(s, 'Events', { retentionHours: hours, removalPolicy: RemovalPolicy.DESTROY }),
    ).toThrow(/retentionHours/);
  });

  it('keeps records for the given hours', () => {
    const s = new Stack(new App(), 'Test');
    new EventStream(s, 'Events', { retentionHours: 8760, removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(s).hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: 8760 });
  });
});
