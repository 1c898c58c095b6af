import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventStream } from '../../lib/constructs/event-stream';
import { MosaicFunction } from '../../lib/constructs/mosaic-function';
import { actionsOf, arnOf, logicalIdOf, refOf, resourcesOf, statementsOfRole, testAppProps } from './support';

const FIXTURE = 'test/cdk/fixtures/handler.ts';

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

  it('refuses to override a house variable or to use an invalid name', () => {
    const s = stack();
    expect(() => houseFunction(s, 'A', { POWERTOOLS_SERVICE_NAME: 'x' })).toThrow(/set by MosaicFunction/);
    expect(() => houseFunction(s, 'B', { 'bad-name': 'x' })).toThrow(/Invalid environment variable name/);
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
