import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  App,
  Aspects,
  type CfnResource,
  CustomResource,
  CustomResourceProvider,
  CustomResourceProviderRuntime,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createMosaicApp } from '../../lib/app';
import {
  CDK_FUNCTION_ALLOW_LIST,
  HOUSE_FUNCTION_ERROR_ID,
  HouseFunctionAspect,
} from '../../lib/constructs/house-function-aspect';
import { MosaicFunction, PROJECT_ROOT } from '../../lib/constructs/mosaic-function';
import { tempOutdir, testAppProps } from './support';

const FIXTURE = 'test/cdk/fixtures/handler.ts';

function houseFunction(stack: Stack, id = 'House'): MosaicFunction {
  return new MosaicFunction(stack, id, {
    entry: FIXTURE,
    description: 'test',
    serviceName: 'test',
    logRetention: RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
  });
}

/** The function's CloudFormation resource, for escape hatches. */
const cfnOf = (fn: MosaicFunction) => fn.function.node.defaultChild as CfnResource;

/** A bare stack with the Aspect applied, as the app applies it. */
function stackWithAspect(): { app: App; stack: Stack } {
  const app = new App(testAppProps());
  Aspects.of(app).add(new HouseFunctionAspect());
  return { app, stack: new Stack(app, 'Test') };
}

describe('house-function Aspect', () => {
  it('fails synth of the Mosaic app when a raw lambda.Function is added to the stack', () => {
    const { app, stack } = createMosaicApp(testAppProps());
    new lambda.Function(stack, 'RawFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    expect(() => app.synth()).toThrow(/must be created with MosaicFunction/);
  });

  it('reports a raw NodejsFunction as an error on its resource', () => {
    const { app, stack } = stackWithAspect();
    new NodejsFunction(stack, 'RawNodejs', {
      entry: `${PROJECT_ROOT}${FIXTURE}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      bundling: { forceDockerBundling: false },
    });
    expect(() => app.synth()).toThrow(
      new RegExp(
        `must be created with MosaicFunction[\\s\\S]*Test/RawNodejs/Resource[\\s\\S]*${HOUSE_FUNCTION_ERROR_ID}`,
      ),
    );
  });

  it('reports an L1 CfnFunction as well', () => {
    const { app, stack } = stackWithAspect();
    new lambda.CfnFunction(stack, 'L1Function', {
      role: 'arn:aws:iam::123456789012:role/example',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      code: { zipFile: 'exports.handler = async () => {};' },
    });
    expect(() => app.synth()).toThrow(/must be created with MosaicFunction/);
  });

  it('accepts a MosaicFunction', () => {
    const { app, stack } = stackWithAspect();
    houseFunction(stack);
    expect(() => app.synth()).not.toThrow();
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('names what a raw function lacks', () => {
    const { app, stack } = stackWithAspect();
    new lambda.Function(stack, 'RawFunction', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    expect(() => app.synth()).toThrow(
      /must be created with MosaicFunction.*Runtime is "nodejs20\.x", not "nodejs22\.x"; Architectures is not set, not \["arm64"\]; TracingConfig\.Mode is not set, not "Active"; LoggingConfig\.LogFormat is not set, not "JSON"/,
    );
  });

  it.each([
    [
      'the runtime',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyOverride('Runtime', 'nodejs20.x'),
      /Runtime is "nodejs20\.x", not "nodejs22\.x"/,
    ],
    [
      'the architecture',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyOverride('Architectures', ['x86_64']),
      /Architectures is \["x86_64"\], not \["arm64"\]/,
    ],
    [
      'tracing',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyOverride('TracingConfig.Mode', 'PassThrough'),
      /TracingConfig\.Mode is "PassThrough", not "Active"/,
    ],
    [
      'tracing, removed',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyDeletionOverride('TracingConfig'),
      /TracingConfig\.Mode is not set/,
    ],
    [
      'the log format',
      (fn: MosaicFunction) => cfnOf(fn).addOverride('Properties.LoggingConfig.LogFormat', 'Text'),
      /LoggingConfig\.LogFormat is "Text", not "JSON"/,
    ],
    [
      'the log level',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyOverride('LoggingConfig.ApplicationLogLevel', 'DEBUG'),
      /LoggingConfig\.ApplicationLogLevel is "DEBUG", not "INFO"/,
    ],
    [
      'the log group',
      (fn: MosaicFunction) =>
        cfnOf(fn).addPropertyOverride('LoggingConfig.LogGroup', '/aws/lambda/elsewhere'),
      /LoggingConfig\.LogGroup is "\/aws\/lambda\/elsewhere", not a log group of this stack/,
    ],
    [
      'the log group, removed',
      (fn: MosaicFunction) => cfnOf(fn).addPropertyDeletionOverride('LoggingConfig.LogGroup'),
      /LoggingConfig\.LogGroup is not set/,
    ],
    [
      'the log retention',
      (fn: MosaicFunction) =>
        (fn.logGroup.node.defaultChild as CfnResource).addPropertyDeletionOverride('RetentionInDays'),
      /its log group \w+ has no RetentionInDays/,
    ],
  ])('reports a MosaicFunction after an escape hatch changed %s', (_, override, message) => {
    const { app, stack } = stackWithAspect();
    override(houseFunction(stack));
    expect(() => app.synth()).toThrow(message);
    expect(() => app.synth()).toThrow(/no longer has the house settings \(an escape hatch overrode them\)/);
  });

  it('reports an escape hatch on a function of the Mosaic app', () => {
    const { app, stack } = createMosaicApp(testAppProps());
    cfnOf(stack.collector.function).addPropertyOverride('Runtime', 'nodejs20.x');
    expect(() => app.synth()).toThrow(
      /Mosaic\/Collector\/Function\/Function\/Resource[\s\S]*MosaicHouseFunction/,
    );
  });

  it('exempts only the allow-listed functions CDK adds: the S3 auto-delete provider', () => {
    expect(CDK_FUNCTION_ALLOW_LIST.map((allowed) => allowed.providerId)).toEqual([
      'Custom::S3AutoDeleteObjectsCustomResourceProvider',
    ]);
  });

  it('exempts the deploy-time handler of CDK’s S3 auto-delete provider', () => {
    const { app, stack } = stackWithAspect();
    new s3.Bucket(stack, 'Bucket', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    expect(() => app.synth()).not.toThrow();
    const template = app.synth().getStackByName('Test').template as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::Lambda::Function')).toBe(true);
  });

  it('does not exempt the handler of any other custom resource provider', () => {
    const { app, stack } = stackWithAspect();
    const codeDirectory = tempOutdir();
    writeFileSync(join(codeDirectory, 'index.js'), 'exports.handler = async () => ({});');
    const serviceToken = CustomResourceProvider.getOrCreate(stack, 'Custom::Other', {
      codeDirectory,
      runtime: CustomResourceProviderRuntime.NODEJS_22_X,
    });
    new CustomResource(stack, 'Other', { serviceToken, resourceType: 'Custom::Other' });
    expect(() => app.synth()).toThrow(
      /must be created with MosaicFunction[\s\S]*Test\/Custom::OtherCustomResourceProvider\/Handler/,
    );
  });

  it('does not exempt framework functions built on lambda.Function (they need a deliberate decision)', () => {
    const { app, stack } = stackWithAspect();
    new lambda.SingletonFunction(stack, 'Singleton', {
      uuid: 'f7d4f730-4ee1-11e8-9c2d-fa7ae01bbebc',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    expect(() => app.synth()).toThrow(/must be created with MosaicFunction/);
  });
});
