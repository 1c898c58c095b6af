import { App, type AppProps, Aspects, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readConfig } from './config';
import { HouseFunctionAspect } from './constructs/house-function-aspect';
import { MosaicStack } from './stacks/mosaic-stack';

export interface MosaicApp {
  readonly app: App;
  readonly stack: MosaicStack;
}

/**
 * The Mosaic CDK app: the validated `mosaic` context, the stack, and the checks every synth runs —
 * the house-function Aspect and cdk-nag's AWS Solutions and Serverless packs as validation plugins.
 * Shared by `bin/mosaic.ts` and the tests, so both check exactly the same app.
 */
export function createMosaicApp(props: AppProps = {}): MosaicApp {
  const app = new App(props);
  const config = readConfig(app);
  const stack = new MosaicStack(app, 'Mosaic', {
    description: 'Mosaic: serverless Customer Data Platform (ingest, unify, segment, activate)',
    config,
  });
  Aspects.of(app).add(new HouseFunctionAspect());
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
