import { CfnResource, CustomResourceProviderBase, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { HOUSE_FUNCTION_SETTINGS, MosaicFunction } from './mosaic-function';

/** The id of the error this Aspect reports (errors cannot be acknowledged). */
export const HOUSE_FUNCTION_ERROR_ID = 'MosaicHouseFunction';

/**
 * The functions CDK itself adds that may stay although they are not MosaicFunctions and cannot have
 * their settings: the handlers of CDK's own custom resource providers, by the provider's id (one
 * provider per stack, whatever uses it), each with the reason. Nothing else is exempt — not the
 * other providers, nor `AwsCustomResource`, `BucketDeployment`, `Provider`, log retention or bucket
 * notification functions: whoever adds one has to decide here whether it may stay.
 */
export const CDK_FUNCTION_ALLOW_LIST: ReadonlyArray<{
  readonly providerId: string;
  readonly reason: string;
}> = [
  {
    providerId: 'Custom::S3AutoDeleteObjectsCustomResourceProvider',
    reason:
      'Empties a bucket before CloudFormation deletes it (`autoDeleteObjects`, on every bucket when the removal policy is "destroy"). Its code, runtime, architecture and role come with aws-cdk-lib and cannot be built as a MosaicFunction; it runs only while CloudFormation deletes a bucket and never touches events.',
  },
];

interface RenderedResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/**
 * Fails synth for any Lambda function in the app that is not a {@link MosaicFunction} with the house
 * settings ({@link HOUSE_FUNCTION_SETTINGS}), so runtime, architecture, bundling, logging, tracing and
 * permissions cannot quietly diverge.
 *
 * It looks at CloudFormation `AWS::Lambda::Function` resources, not at `lambda.Function` objects, so
 * L1 functions and functions hidden inside third-party constructs are caught as well. And it reads
 * each function's properties as synthesis writes them into the template — escape hatches
 * (`addPropertyOverride`, `addOverride`) included — so a MosaicFunction whose runtime, architecture,
 * JSON logging, log group or tracing was overridden after construction fails too; so does one whose
 * log group lost its retention.
 *
 * The only exemptions are the functions of {@link CDK_FUNCTION_ALLOW_LIST}.
 */
export class HouseFunctionAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (isAllowedCdkFunction(node)) return;
    const problems = settingProblems(node);
    if (!MosaicFunction.owns(node)) {
      Validations.of(node).addError(
        HOUSE_FUNCTION_ERROR_ID,
        `Lambda functions must be created with MosaicFunction (lib/constructs/mosaic-function.ts), the house construct that sets runtime, arm64, bundling, JSON logs with retention and tracing; this one was built another way${problems.length > 0 ? ` (${problems.join('; ')})` : ''}.`,
      );
    } else if (problems.length > 0) {
      Validations.of(node).addError(
        HOUSE_FUNCTION_ERROR_ID,
        `This MosaicFunction no longer has the house settings (an escape hatch overrode them): ${problems.join('; ')}. Change HOUSE_FUNCTION_SETTINGS in lib/constructs/mosaic-function.ts for every function instead.`,
      );
    }
  }
}

function isAllowedCdkFunction(node: CfnResource): boolean {
  const provider = node.node.scope;
  return (
    provider instanceof CustomResourceProviderBase &&
    provider.node.scope === Stack.of(node) &&
    CDK_FUNCTION_ALLOW_LIST.some((allowed) => allowed.providerId === provider.node.id)
  );
}

/** How a function's synthesized properties differ from the house settings. */
function settingProblems(node: CfnResource): string[] {
  const props = render(node)?.Properties ?? {};
  const logging = asRecord(props.LoggingConfig);
  const expect = (what: string, actual: unknown, wanted: unknown): string[] =>
    JSON.stringify(actual) === JSON.stringify(wanted)
      ? []
      : [`${what} is ${JSON.stringify(actual) ?? 'not set'}, not ${JSON.stringify(wanted)}`];
  return [
    ...expect('Runtime', props.Runtime, HOUSE_FUNCTION_SETTINGS.runtime.name),
    ...expect('Architectures', props.Architectures, [HOUSE_FUNCTION_SETTINGS.architecture.name]),
    ...expect('TracingConfig.Mode', asRecord(props.TracingConfig).Mode, HOUSE_FUNCTION_SETTINGS.tracing),
    ...expect('LoggingConfig.LogFormat', logging.LogFormat, HOUSE_FUNCTION_SETTINGS.loggingFormat),
    ...expect(
      'LoggingConfig.ApplicationLogLevel',
      logging.ApplicationLogLevel,
      HOUSE_FUNCTION_SETTINGS.applicationLogLevel,
    ),
    ...expect('LoggingConfig.SystemLogLevel', logging.SystemLogLevel, HOUSE_FUNCTION_SETTINGS.systemLogLevel),
    ...logGroupProblems(node, logging.LogGroup),
  ];
}

/** The function must log into a log group of its own stack that expires its logs. */
function logGroupProblems(node: CfnResource, logGroup: unknown): string[] {
  const logicalId = asRecord(logGroup).Ref;
  const stack = Stack.of(node);
  const resource =
    typeof logicalId === 'string'
      ? stack.node
          .findAll()
          .find(
            (c): c is CfnResource => CfnResource.isCfnResource(c) && stack.resolve(c.logicalId) === logicalId,
          )
      : undefined;
  const rendered = resource && render(resource);
  if (rendered?.Type !== 'AWS::Logs::LogGroup') {
    return [
      `LoggingConfig.LogGroup is ${JSON.stringify(logGroup) ?? 'not set'}, not a log group of this stack (Lambda's default group never expires)`,
    ];
  }
  return typeof rendered.Properties.RetentionInDays === 'number'
    ? []
    : [`its log group ${logicalId} has no RetentionInDays: its logs would never expire`];
}

/**
 * A resource as synthesis writes it into the template: its properties with every escape hatch
 * applied, tokens resolved. `_toCloudFormation` is what the stack itself calls for each resource when
 * it synthesizes; it is internal to aws-cdk-lib (no public API returns the overrides), so the tests of
 * this Aspect pin it: an upgrade that changes it fails them rather than silently checking less.
 */
function render(resource: CfnResource): RenderedResource | undefined {
  const renderable = resource as unknown as { _toCloudFormation(): unknown };
  const template = asRecord(Stack.of(resource).resolve(renderable._toCloudFormation()));
  const [rendered] = Object.values(asRecord(template.Resources));
  if (rendered === undefined) return undefined;
  const { Type, Properties } = rendered as { Type: string; Properties?: Record<string, unknown> };
  return { Type, Properties: Properties ?? {} };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
