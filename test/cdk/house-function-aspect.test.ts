import { App, Aspects, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createMosaicApp } from '../../lib/app';
import { HOUSE_FUNCTION_ERROR_ID, HouseFunctionAspect } from '../../lib/constructs/house-function-aspect';
import { MosaicFunction, PROJECT_ROOT } from '../../lib/constructs/mosaic-function';
import { testAppProps } from './support';

const FIXTURE = 'test/cdk/fixtures/handler.ts';

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
    new MosaicFunction(stack, 'House', {
      entry: FIXTURE,
      description: 'test',
      serviceName: 'test',
      logRetention: RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    expect(() => app.synth()).not.toThrow();
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('exempts the deploy-time handler of CDK’s own custom resource providers (S3 auto-delete)', () => {
    const { app, stack } = stackWithAspect();
    new s3.Bucket(stack, 'Bucket', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    expect(() => app.synth()).not.toThrow();
    const template = app.synth().getStackByName('Test').template as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::Lambda::Function')).toBe(true);
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
