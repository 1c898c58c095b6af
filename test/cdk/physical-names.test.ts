import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config';
import { MosaicStack } from '../../lib/stacks/mosaic-stack';
import { cdkJsonContext, exampleConfig, logicalIdOf, testAppProps } from './support';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };
type Props = Record<string, unknown>;

/**
 * Where each resource type that takes a name unique in the account and region keeps it. A name given
 * there makes the resource collide with another of the same name: a second stack's, or a retained one
 * left behind by `cdk destroy`.
 */
const ACCOUNT_SCOPED_NAME: Record<string, (props: Props) => unknown> = {
  'AWS::Athena::WorkGroup': (p) => p.Name,
  'AWS::CloudWatch::Alarm': (p) => p.AlarmName,
  'AWS::DynamoDB::Table': (p) => p.TableName,
  'AWS::Events::Archive': (p) => p.ArchiveName,
  'AWS::Events::EventBus': (p) => p.Name,
  'AWS::Glue::Database': (p) => (p.DatabaseInput as Props | undefined)?.Name,
  'AWS::IAM::Role': (p) => p.RoleName,
  'AWS::KMS::Alias': (p) => p.AliasName,
  'AWS::Kinesis::Stream': (p) => p.Name,
  'AWS::KinesisFirehose::DeliveryStream': (p) => p.DeliveryStreamName,
  'AWS::Lambda::Function': (p) => p.FunctionName,
  'AWS::Logs::LogGroup': (p) => p.LogGroupName,
  'AWS::S3::Bucket': (p) => p.BucketName,
  'AWS::SNS::Topic': (p) => p.TopicName,
  'AWS::SQS::Queue': (p) => p.QueueName,
  'AWS::StepFunctions::StateMachine': (p) => p.StateMachineName,
};

/**
 * Types whose names, if any, are unique only inside their parent (an API, a role, a log group, a Glue
 * database, a bus) or that have none. A new resource type fails the tests below until it is put in
 * one of the two lists.
 */
const PARENT_SCOPED_OR_UNNAMED = new Set([
  'AWS::ApiGatewayV2::Api', // API names need not be unique
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
  'AWS::CDK::Metadata',
  'AWS::Events::Rule',
  'AWS::Glue::Table',
  'AWS::KMS::Key', // no name (an alias would have one)
  'AWS::IAM::Policy',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Permission',
  'AWS::Logs::LogStream',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'Custom::S3AutoDeleteObjects',
]);

/** Whether a name is made unique by CloudFormation itself: it contains the stack's id or name. */
const namesItsStack = (name: unknown) => /"AWS::Stack(Id|Name)"/.test(JSON.stringify(name));

/** The account-scoped names a template gives explicitly, by logical id. */
function givenNames(template: Template): Map<string, { type: string; name: unknown; retained: boolean }> {
  const names = new Map<string, { type: string; name: unknown; retained: boolean }>();
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, Resource>)) {
    const nameOf = ACCOUNT_SCOPED_NAME[resource.Type];
    if (nameOf === undefined) {
      expect(PARENT_SCOPED_OR_UNNAMED, `${resource.Type} (${id}): which of its names are unique?`).toContain(
        resource.Type,
      );
      continue;
    }
    const name = nameOf(resource.Properties ?? {});
    if (name !== undefined)
      names.set(id, { type: resource.Type, name, retained: resource.DeletionPolicy === 'Retain' });
  }
  return names;
}

describe('physical names', () => {
  let dev: MosaicStack;
  let prod: MosaicStack;
  let devTemplate: Template;
  let prodTemplate: Template;

  beforeAll(() => {
    // Two Mosaic stacks of one account and region, the example configuration (removal policy
    // "retain"); assets are not bundled: only the templates matter here.
    const app = new App(testAppProps({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }));
    const config = parseConfig(exampleConfig());
    dev = new MosaicStack(app, 'Mosaic-dev', { config });
    prod = new MosaicStack(app, 'Mosaic-prod', { config });
    devTemplate = Template.fromStack(dev);
    prodTemplate = Template.fromStack(prod);
  });

  it('a resource kept after the stack is deleted has a generated name, or one unique to that deployment of the stack: deploying it again succeeds', () => {
    const retained = [...givenNames(devTemplate)].filter(([, given]) => given.retained);
    for (const [id, { name }] of retained) {
      expect(JSON.stringify(name), `${id} keeps its name after cdk destroy`).toContain('"AWS::StackId"');
    }
    // Retained resources exist (the data), so the check above is not vacuous.
    expect(
      Object.values(devTemplate.toJSON().Resources as Record<string, Resource>).filter(
        (r) => r.DeletionPolicy === 'Retain',
      ).length,
    ).toBeGreaterThan(10);
  });

  it('two stacks in one account and region give no resource the same name', () => {
    const literal = (template: Template) =>
      [...givenNames(template).values()]
        .filter(({ name }) => !namesItsStack(name))
        .map(({ type, name }) => `${type} ${JSON.stringify(name)}`);
    const devNames = literal(devTemplate);
    expect(devNames.length).toBeGreaterThan(0);
    expect(devNames.filter((name) => literal(prodTemplate).includes(name))).toEqual([]);
  });

  it('the workgroup, the bus and the Glue database are named after their stack, not "mosaic"', () => {
    const named = (stack: MosaicStack, template: Template) => {
      const props = (construct: Parameters<typeof logicalIdOf>[0]) =>
        (template.toJSON().Resources[logicalIdOf(construct)] as Resource).Properties ?? {};
      return {
        workGroup: props(stack.athenaWorkgroup.workGroup).Name,
        bus: props(stack.eventBus.bus).Name,
        database: (props(stack.lake.node.findChild('Database')).DatabaseInput as Props).Name,
        eventsTableDatabase: props(stack.lake.eventsTable).DatabaseName,
      };
    };
    expect(named(dev, devTemplate)).toEqual({
      workGroup: 'mosaic-dev',
      bus: 'mosaic-dev',
      database: 'mosaic_dev',
      eventsTableDatabase: 'mosaic_dev',
    });
    expect(named(prod, prodTemplate)).toEqual({
      workGroup: 'mosaic-prod',
      bus: 'mosaic-prod',
      database: 'mosaic_prod',
      eventsTableDatabase: 'mosaic_prod',
    });
  });
});
