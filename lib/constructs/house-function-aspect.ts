import { CfnResource, CustomResourceProviderBase, type IAspect, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { MosaicFunction } from './mosaic-function';

/** The id of the error this Aspect reports (errors cannot be acknowledged). */
export const HOUSE_FUNCTION_ERROR_ID = 'MosaicHouseFunction';

/**
 * Fails synth for any Lambda function in the app that was not created through {@link MosaicFunction},
 * so runtime, architecture, bundling, logging, tracing and permissions cannot quietly diverge.
 *
 * It looks at CloudFormation `AWS::Lambda::Function` resources, not at `lambda.Function` objects, so
 * L1 functions and functions hidden inside third-party constructs are caught as well.
 *
 * One kind is exempt, deliberately: the deploy-time handlers of CDK's own custom resource providers
 * (`CustomResourceProviderBase`, e.g. `Custom::S3AutoDeleteObjects`, added to the lake bucket when the
 * removal policy is `destroy`). Their code, runtime and role come with aws-cdk-lib and cannot be
 * built as a MosaicFunction; they run only while CloudFormation creates, updates or deletes the stack
 * and never touch events. Functions of other framework constructs (`AwsCustomResource`,
 * `BucketDeployment`, `Provider`, log retention) are not exempt: whoever adds one has to decide here
 * whether it may stay.
 */
export class HouseFunctionAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (MosaicFunction.owns(node)) return;
    if (isCdkCustomResourceProviderHandler(node)) return;
    Validations.of(node).addError(
      HOUSE_FUNCTION_ERROR_ID,
      'Lambda functions must be created with MosaicFunction (lib/constructs/mosaic-function.ts), the house construct that sets runtime, arm64, bundling, JSON logs with retention and tracing; this one was built another way.',
    );
  }
}

function isCdkCustomResourceProviderHandler(node: CfnResource): boolean {
  return node.node.scope instanceof CustomResourceProviderBase;
}
