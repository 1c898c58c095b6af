import { App, Aws, type CfnResource, Duration, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DestinationDeliveryEnv } from '../../functions/destination-delivery/env';
import { Activation } from '../../lib/constructs/activation';
import { AlarmTopic } from '../../lib/constructs/alarm-topic';
import { AthenaWorkgroup } from '../../lib/constructs/athena-workgroup';
import { bucketDefaults } from '../../lib/constructs/bucket-defaults';
import { destinationPayloadKeys } from '../../lib/constructs/delivery-payload-bucket';
import { secretArnOf, targetQueueArn } from '../../lib/constructs/destination-access';
import { DestinationDelivery } from '../../lib/constructs/destination-delivery';
import {
  DESTINATIONS_API_ENV,
  DESTINATIONS_ROUTES,
  DestinationsApi,
} from '../../lib/constructs/destinations-api';
import { EventBus } from '../../lib/constructs/event-bus';
import { IdentityTable } from '../../lib/constructs/identity-table';
import { MosaicFunction } from '../../lib/constructs/mosaic-function';
import { SegmentsTable } from '../../lib/constructs/segments-table';
import { DELIVERY_LEDGER_TABLE_SHAPE } from '../../src/adapters/aws/delivery-ledger-table';
import { payloadPointerKey } from '../../src/core/activation/delivery-plan';
import {
  type Destination,
  type DestinationsConfig,
  parseDestinationsConfig,
} from '../../src/core/activation/destination-config';
import { destinationRulePattern } from '../../src/core/activation/routing';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import {
  PERSONALIZE_ARN,
  SAMPLE_DESTINATIONS,
  SIGNING_SECRET_ARN,
  WAREHOUSE_QUEUE_URL,
} from './sample-destinations';
import {
  actionsOf,
  arnOf,
  evaluateIntrinsics,
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

const FIXTURE = 'test/cdk/fixtures/handler.ts';
const HOUSE_ENV = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];
type Resource = { Type: string; Properties: Record<string, unknown> };

let app: App;
let stack: Stack;
let template: Template;
let config: DestinationsConfig;
let activation: Activation;
let api: DestinationsApi;
let eventBus: EventBus;
let identityTable: IdentityTable;
let segmentsTable: SegmentsTable;
let workGroup: AthenaWorkgroup;
let exportsBucket: s3.Bucket;
let alarms: AlarmTopic;
let authorizer: HttpLambdaAuthorizer;

beforeAll(() => {
  config = parseDestinationsConfig(SAMPLE_DESTINATIONS);
  app = new App(testAppProps());
  stack = new Stack(app, 'Test');
  const removalPolicy = RemovalPolicy.DESTROY;
  const accessLogs = new s3.Bucket(stack, 'AccessLogs', bucketDefaults({ removalPolicy }));
  eventBus = new EventBus(stack, 'EventBus', { busName: 'mosaic', archiveRetention: Duration.days(7) });
  identityTable = new IdentityTable(stack, 'IdentityTable', { removalPolicy });
  segmentsTable = new SegmentsTable(stack, 'SegmentsTable', { removalPolicy });
  workGroup = new AthenaWorkgroup(stack, 'Athena', {
    workGroupName: 'mosaic',
    bytesScannedCutoffPerQuery: 10_000_000_000,
    resultExpiration: Duration.days(7),
    accessLogsBucket: accessLogs,
    removalPolicy,
  });
  exportsBucket = new s3.Bucket(stack, 'Exports', {
    ...bucketDefaults({ removalPolicy, encryptionKey: workGroup.encryptionKey }),
    serverAccessLogsBucket: accessLogs,
  });
  alarms = new AlarmTopic(stack, 'Alarms', { removalPolicy });
  activation = new Activation(stack, 'Activation', {
    destinations: config,
    identity: DEFAULT_IDENTITY_CONFIG,
    eventBus: eventBus.bus,
    identityTable: identityTable.table,
    segmentsTable: segmentsTable.table,
    workGroup,
    databaseName: 'mosaic',
    exportsBucket,
    alarmTopic: alarms.topic,
    accessLogsBucket: accessLogs,
    maxReceiveCount: 5,
    oldestMessageAlarmThreshold: Duration.minutes(60),
    payloadExpiration: Duration.days(3),
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy,
    deliveryEntry: FIXTURE,
  });
  const httpApi = new apigw.HttpApi(stack, 'Api');
  const authorizerFunction = new MosaicFunction(stack, 'Authorizer', {
    entry: FIXTURE,
    description: 'test authorizer',
    serviceName: 'authorizer',
    logRetention: RetentionDays.ONE_WEEK,
    logRemovalPolicy: removalPolicy,
  });
  authorizer = new HttpLambdaAuthorizer('AdminKey', authorizerFunction.function, {
    responseTypes: [HttpLambdaResponseType.SIMPLE],
  });
  api = new DestinationsApi(stack, 'DestinationsApi', {
    api: httpApi,
    authorizer,
    destinations: config,
    identity: DEFAULT_IDENTITY_CONFIG,
    payloadBucket: activation.payloads.bucket,
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy,
    entry: FIXTURE,
  });
  template = Template.fromStack(stack);
});

type Construct = Parameters<typeof logicalIdOf>[0];
const templates = new Map<Stack, Template>();
/** The template of the stack `construct` is in: the test stack, or a delivery's nested stack. */
const templateOf = (construct: Construct) => {
  const s = Stack.of(construct);
  const found = templates.get(s) ?? (s === stack ? template : Template.fromStack(s));
  templates.set(s, found);
  return found;
};
/**
 * `value` from the template of `construct`'s stack, with each parameter a delivery's nested stack
 * receives replaced by what its parent stack passes it (`{ Ref: "referencetoTestEventBus...Ref" }`
 * becomes `{ Ref: "EventBus..." }`), so that it compares with the parent's own references.
 */
const inTestStack = <T>(construct: Construct, value: T): T => {
  const s = Stack.of(construct);
  if (!(s instanceof NestedStack)) return value;
  const nestedStackResource = s.nestedStackResource as CfnResource;
  const parameters = (
    templateOf(nestedStackResource).toJSON().Resources[logicalIdOf(nestedStackResource)] as Resource
  ).Properties.Parameters as Record<string, unknown>;
  const replace = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(replace);
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as { Ref?: unknown }).Ref;
    if (typeof ref === 'string' && Object.keys(node).length === 1 && ref in parameters)
      return parameters[ref];
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replace(v)]));
  };
  return replace(value) as T;
};
const resourcesIn = (construct: Construct) =>
  inTestStack(construct, templateOf(construct).toJSON().Resources as Record<string, Resource>);
const propsOf = (construct: Construct) =>
  (resourcesIn(construct)[logicalIdOf(construct)] as Resource).Properties;
/** Resources of a type in the test stack and in every delivery's nested stack. */
const allResourcesOfType = (type: string) =>
  [stack, ...activation.deliveries].flatMap((scope) =>
    Object.values(resourcesIn(scope)).filter((r) => r.Type === type),
  );
const json = (value: unknown) => JSON.stringify(value);
const resolved = (value: unknown) => stack.resolve(value);
/** A list as a comparable set: its members' JSON, sorted. */
const asSet = (values: readonly unknown[]) => values.map(json).sort();
const delivery = (name: string) => {
  const found = activation.deliveries.find((d) => d.destination.name === name);
  if (found === undefined) throw new Error(`no delivery for ${name}`);
  return found;
};
const destination = (name: string) => config.destinations.find((d) => d.name === name) as Destination;
const statementsOf = (fn: MosaicFunction) =>
  inTestStack(fn, statementsOfRole(templateOf(fn), logicalIdOf(fn.role)));
/** The resources of the statements that allow `action`. */
const resourcesFor = (statements: PolicyStatementJson[], action: string) =>
  statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
const functionOf = (d: DestinationDelivery) => propsOf(d.function.function);
const envOf = (fn: MosaicFunction) =>
  (propsOf(fn.function) as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
const ENABLED = ['crm', 'direct-mail', 'warehouse', 'personalize'];
/** Ids of two stacks of one name: the first deployment, and the one after it was deleted. */
const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/Test/1c2fa620-982a-11e3-aff7-50e2416294e0';
const RECREATED_STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/Test/7d0c4e90-1f3b-11f1-9c1a-0a3f5e2b7c11';
/** A queue's name, as CloudFormation names it in the stack with this id. */
const nameIn = (stackId: string, queue: Construct) =>
  evaluateIntrinsics(propsOf(queue).QueueName, { 'AWS::StackId': stackId });

describe('Activation: one isolated delivery per enabled destination', () => {
  it('builds a delivery for each enabled destination, in configuration order, and none for a disabled one', () => {
    expect(activation.deliveries.map((d) => d.destination.name)).toEqual(ENABLED);
    const queueNames = allResourcesOfType('AWS::SQS::Queue').map((q) =>
      evaluateIntrinsics(q.Properties.QueueName, { 'AWS::StackId': STACK_ID }),
    );
    expect(queueNames.sort()).toEqual(
      ENABLED.flatMap((name) => [`Test-${name}-1c2fa620`, `Test-${name}-1c2fa620-dlq`]).sort(),
    );
    // Only the Destinations API may reach the disabled destination (to test it before it is enabled).
    // Every delivery function carries its configuration in its bundle, as it carries every destination's.
    const withLegacy = [stack, ...activation.deliveries].flatMap((scope) =>
      Object.entries(resourcesIn(scope))
        .filter(([, resource]) => json(resource).includes('legacy-esp'))
        .map(([id]) => `${Stack.of(scope).node.path}/${id}`),
    );
    expect(withLegacy).toEqual([`Test/${logicalIdOf(api.function.role.node.findChild('DefaultPolicy'))}`]);
    expect(allResourcesOfType('AWS::Events::Rule')).toHaveLength(ENABLED.length);
  });

  it('each delivery is a nested stack of its own, one resource of the stack that holds Activation', () => {
    const stacks = activation.deliveries.map((d) => Stack.of(d));
    expect(new Set(stacks).size).toBe(ENABLED.length);
    for (const [i, s] of stacks.entries()) {
      expect(s).toBeInstanceOf(NestedStack);
      expect(s.nestedStackParent).toBe(stack);
      expect(s.node.id).toBe(`Destination-${ENABLED[i]}`);
    }
    expect(Object.keys(template.findResources('AWS::CloudFormation::Stack'))).toHaveLength(ENABLED.length);
    // Nothing of a delivery is in the test stack itself.
    for (const type of ['AWS::SQS::Queue', 'AWS::Events::Rule', 'AWS::Lambda::EventSourceMapping']) {
      expect(Object.keys(template.findResources(type)), type).toEqual([]);
    }
  });

  it('two destinations share no queue, dead-letter queue, key, function or role', () => {
    const parts = (d: DestinationDelivery) =>
      [d.queue, d.deadLetterQueue, d.encryptionKey, d.function.function, d.function.role, d.rule].map(
        (part) => `${Stack.of(part).node.path}/${logicalIdOf(part)}`,
      );
    const all = activation.deliveries.flatMap(parts);
    expect(new Set(all).size).toBe(all.length);
  });

  it('a delivery function may touch no other destination’s queues', () => {
    const crm = delivery('crm');
    // Its statements name resources of its own nested stack, or parameters its parent passes it:
    // none of those comes from another delivery's nested stack.
    const text = json(statementsOf(crm.function));
    for (const other of activation.deliveries.filter((d) => d !== crm)) {
      expect(text).not.toContain(
        logicalIdOf((Stack.of(other) as NestedStack).nestedStackResource as CfnResource),
      );
    }
    expect(text).not.toContain('AWS::CloudFormation::Stack');
    expect(text).not.toContain('Outputs.');
  });

  it('each rule listens on the Mosaic bus with the destination’s routing pattern, into its queue', () => {
    for (const name of ENABLED) {
      const d = delivery(name);
      const rule = propsOf(d.rule);
      expect(rule.EventBusName).toEqual(refOf(eventBus.bus));
      expect(rule.State).toBe('ENABLED');
      expect(rule.EventPattern).toEqual(destinationRulePattern(destination(name)));
      expect(rule.Targets).toEqual([
        {
          Id: 'DeliveryQueue',
          Arn: arnOf(d.queue),
          DeadLetterConfig: { Arn: arnOf(d.deadLetterQueue) },
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        },
      ]);
    }
  });

  it('the queue: own key, 30-minute visibility, redrive to its own dead-letter queue after N receives', () => {
    const d = delivery('crm');
    const queue = propsOf(d.queue);
    expect(queue.KmsMasterKeyId).toEqual(arnOf(d.encryptionKey));
    expect(queue.VisibilityTimeout).toBe(1800);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(d.deadLetterQueue),
      maxReceiveCount: 5,
    });
  });

  it('the dead-letter queue: own key, kept 14 days, takes and redrives messages of its source queue only', () => {
    const d = delivery('crm');
    const dlq = propsOf(d.deadLetterQueue);
    expect(dlq.KmsMasterKeyId).toEqual(arnOf(d.encryptionKey));
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.RedrivePolicy).toBeUndefined();
    const { sourceQueueArns, ...redriveAllowPolicy } = dlq.RedriveAllowPolicy as {
      sourceQueueArns: unknown[];
    };
    expect(redriveAllowPolicy).toEqual({ redrivePermission: 'byQueue' });
    // The ARN its source queue will have, whichever stack it is deployed in.
    for (const stackId of [STACK_ID, RECREATED_STACK_ID]) {
      expect(evaluateIntrinsics(sourceQueueArns, { 'AWS::StackId': stackId })).toEqual([
        `arn:aws:sqs:eu-west-1:123456789012:${nameIn(stackId, d.queue)}`,
      ]);
    }
  });

  it('queue names: the stack’s, the destination’s and a suffix of the stack id — kept by every update, new once the stack is created again', () => {
    for (const name of ENABLED) {
      const d = delivery(name);
      const first = [nameIn(STACK_ID, d.queue), nameIn(STACK_ID, d.deadLetterQueue)];
      expect(first).toEqual([`Test-${name}-1c2fa620`, `Test-${name}-1c2fa620-dlq`]);
      // Deleted with its queues retained, then deployed again: no name is taken.
      const again = [nameIn(RECREATED_STACK_ID, d.queue), nameIn(RECREATED_STACK_ID, d.deadLetterQueue)];
      expect(again).toEqual([`Test-${name}-7d0c4e90`, `Test-${name}-7d0c4e90-dlq`]);
    }
    // Nothing but the stack id, the stack's name and the destination's: an update never renames
    // (and so never replaces) a queue.
    const inputs = json([
      propsOf(delivery('crm').queue).QueueName,
      propsOf(delivery('crm').deadLetterQueue).QueueName,
    ]);
    expect(inputs.match(/"Ref":"[^"]+"/g)).toEqual(['"Ref":"AWS::StackId"', '"Ref":"AWS::StackId"']);
    expect(inputs).not.toContain('Fn::GetAtt');
  });

  it('only this destination’s rule may send to its queues, over TLS only', () => {
    for (const name of ENABLED) {
      const d = delivery(name);
      for (const queue of [d.queue, d.deadLetterQueue]) {
        const policy = Object.values(resourcesIn(d)).find(
          (p) => p.Type === 'AWS::SQS::QueuePolicy' && json(p.Properties.Queues).includes(logicalIdOf(queue)),
        ) as Resource;
        const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
          .Statement;
        const allows = statements.filter((s) => s.Effect === 'Allow');
        expect(allows).toEqual([
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arnOf(queue),
            Condition: { ArnEquals: { 'aws:SourceArn': arnOf(d.rule) } },
          },
        ]);
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    }
  });

  it('the queue key lets EventBridge of this account encrypt, and is rotated', () => {
    const key = propsOf(delivery('crm').encryptionKey);
    expect(key.EnableKeyRotation).toBe(true);
    expect((key.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it('the function: reserved concurrency of the destination, 5-minute timeout, the delivery entry', () => {
    for (const name of ENABLED) {
      const fn = functionOf(delivery(name));
      expect(fn.ReservedConcurrentExecutions).toBe(destination(name).reservedConcurrency);
      expect(fn.Timeout).toBe(300);
    }
    expect(functionOf(delivery('crm')).ReservedConcurrentExecutions).toBe(3);
    expect(functionOf(delivery('direct-mail')).ReservedConcurrentExecutions).toBe(2);
  });

  it('the queue feeds the function one message at a time, with partial batch failures, never more pollers than its concurrency', () => {
    for (const name of ENABLED) {
      const d = delivery(name);
      const mapping = Object.values(resourcesIn(d)).find(
        (m) =>
          m.Type === 'AWS::Lambda::EventSourceMapping' &&
          json(m.Properties.EventSourceArn) === json(arnOf(d.queue)),
      ) as Resource;
      expect(mapping.Properties).toMatchObject({
        FunctionName: refOf(d.function.function),
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: destination(name).reservedConcurrency },
      });
    }
  });

  it('the function gets exactly the delivery variables, which the runtime’s schema reads: configuration in its bundle, the rest in its environment', () => {
    const d = delivery('crm');
    const env = envOf(d.function);
    const bundled = ['MOSAIC_DESTINATIONS', 'MOSAIC_IDENTITY'];
    const expected = Object.keys(DestinationDeliveryEnv.shape);
    expect(Object.keys(d.function.bundledConfig).sort()).toEqual(bundled);
    expect(Object.keys(env).sort()).toEqual(
      [...expected.filter((name) => !bundled.includes(name)), ...HOUSE_ENV].sort(),
    );
    expect(expected.sort()).toEqual(
      [
        'DESTINATION_NAME',
        'MOSAIC_DESTINATIONS',
        'MOSAIC_IDENTITY',
        'IDENTITY_TABLE_NAME',
        'SEGMENTS_TABLE_NAME',
        'LEDGER_TABLE_NAME',
        'DELIVERY_QUEUE_URL',
        'DEAD_LETTER_QUEUE_URL',
        'ATHENA_WORKGROUP',
        'GLUE_DATABASE',
        'EXPORT_MEMBERS_TABLE',
        'PAYLOAD_BUCKET',
      ].sort(),
    );
    // The whole configuration (every delivery function has the same bundle); the name picks its own.
    expect(env.DESTINATION_NAME).toBe('crm');
    expect(
      parseDestinationsConfig(JSON.parse(d.function.bundledConfig.MOSAIC_DESTINATIONS as string)),
    ).toEqual(config);
    expect(JSON.parse(d.function.bundledConfig.MOSAIC_IDENTITY as string)).toEqual(DEFAULT_IDENTITY_CONFIG);
    for (const other of activation.deliveries) {
      expect(other.function.bundledConfig).toEqual(d.function.bundledConfig);
    }
    expect(env.IDENTITY_TABLE_NAME).toEqual(refOf(identityTable.table));
    expect(env.SEGMENTS_TABLE_NAME).toEqual(refOf(segmentsTable.table));
    expect(env.LEDGER_TABLE_NAME).toEqual(refOf(activation.ledgerTable.table));
    expect(env.DELIVERY_QUEUE_URL).toEqual(refOf(d.queue));
    expect(env.DEAD_LETTER_QUEUE_URL).toEqual(refOf(d.deadLetterQueue));
    expect(env.ATHENA_WORKGROUP).toEqual(refOf(workGroup.workGroup));
    expect(env.GLUE_DATABASE).toBe('mosaic');
    expect(env.EXPORT_MEMBERS_TABLE).toBe('export_members');
    expect(env.PAYLOAD_BUCKET).toEqual(refOf(activation.payloads.bucket));
  });

  it('tables: identity GetItem/BatchGetItem, segments GetItem, ledger GetItem/PutItem — nothing more', () => {
    const statements = statementsOf(delivery('crm').function).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    const byTable = (table: Construct) =>
      statements
        .filter((s) => json(resourcesOf(s)) === json([arnOf(table)]))
        .flatMap(actionsOf)
        .sort();
    expect(byTable(identityTable.table)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    expect(byTable(segmentsTable.table)).toEqual(['dynamodb:GetItem']);
    expect(byTable(activation.ledgerTable.table)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(statements.flatMap(resourcesOf)).toHaveLength(3);
  });

  it('queues: sends to its own queue and dead-letter queue (with their key through SQS), consumes its queue', () => {
    const d = delivery('crm');
    const statements = statementsOf(d.function);
    expect(asSet(resourcesFor(statements, 'sqs:SendMessage'))).toEqual(
      asSet([arnOf(d.queue), arnOf(d.deadLetterQueue)]),
    );
    expect(resourcesFor(statements, 'sqs:ReceiveMessage')).toEqual([arnOf(d.queue)]);
    expect(resourcesFor(statements, 'sqs:DeleteMessage')).toEqual([arnOf(d.queue)]);
    const producerKey = statements.find(
      (s) => actionsOf(s).includes('kms:GenerateDataKey') && json(s.Condition).includes('sqs.'),
    );
    expect(producerKey?.Resource).toEqual(arnOf(d.encryptionKey));
  });

  it('Athena in the workgroup over export_members, reading only the exports of its segments', () => {
    const statements = statementsOf(delivery('crm').function);
    expect(resourcesFor(statements, 'athena:StartQueryExecution')).toEqual([
      resolved(workGroup.workGroupArn),
    ]);
    const glue = resourcesFor(statements, 'glue:GetTable').map(json).join(' ');
    expect(glue).toContain('table/mosaic/export_members');
    expect(glue).not.toContain('table/mosaic/events');
    const reads = resourcesFor(statements, 's3:GetObject').map(json);
    expect(reads).toContain(json({ 'Fn::Join': ['', [arnOf(exportsBucket), '/exports/segment_id=vip/*']] }));
    expect(reads).toContain(
      json({ 'Fn::Join': ['', [arnOf(exportsBucket), '/exports/segment_id=churn-risk/*']] }),
    );
    expect(reads.join(' ')).not.toContain('segment_id=returning');
    expect(resourcesFor(statements, 'kms:Decrypt').map(json)).toContain(json(arnOf(workGroup.encryptionKey)));
  });

  it('payloads: writes (only) its own destination’s folder of the payload bucket, where the sender puts them', () => {
    const statements = statementsOf(delivery('warehouse').function);
    const pattern = destinationPayloadKeys('warehouse');
    expect(resourcesFor(statements, 's3:PutObject')).toContainEqual({
      'Fn::Join': ['', [arnOf(activation.payloads.bucket), `/${pattern}`]],
    });
    expect(resourcesFor(statements, 's3:DeleteObject')).toEqual([]);
    const key = payloadPointerKey('', {
      exportId: 'x01JD4',
      destination: 'warehouse',
      batch: { index: 12, total: 40, size: 1000 },
    });
    const glob = new RegExp(`^${pattern.replaceAll('*', '[^/]+')}$`);
    expect(key).toMatch(glob);
    expect(
      payloadPointerKey('', {
        exportId: 'x01JD4',
        destination: 'crm',
        batch: { index: 0, total: 1, size: 1 },
      }),
    ).not.toMatch(glob);
  });

  it('per kind: SQS send to the target queue (ARN from its URL), Lambda invoke, S3 put under the prefix, secrets', () => {
    const warehouse = statementsOf(delivery('warehouse').function);
    expect(resourcesFor(warehouse, 'sqs:SendMessage')).toContainEqual(
      resolved(`arn:${Aws.PARTITION}:sqs:eu-west-1:123456789012:audiences`),
    );
    expect(resourcesFor(warehouse, 'lambda:InvokeFunction')).toEqual([]);
    expect(resourcesFor(warehouse, 'secretsmanager:GetSecretValue')).toEqual([]);

    const personalize = statementsOf(delivery('personalize').function);
    expect(resourcesFor(personalize, 'lambda:InvokeFunction')).toEqual([PERSONALIZE_ARN]);

    const directMail = statementsOf(delivery('direct-mail').function);
    expect(resourcesFor(directMail, 's3:PutObject')).toContainEqual(
      resolved(`arn:${Aws.PARTITION}:s3:::print-vendor-drop/mosaic/audiences/*`),
    );

    const crm = statementsOf(delivery('crm').function);
    expect(asSet(resourcesFor(crm, 'secretsmanager:GetSecretValue'))).toEqual(
      asSet([resolved(secretArnOf(stack, 'mosaic/crm-api-key')), SIGNING_SECRET_ARN]),
    );
    expect(json(resolved(secretArnOf(stack, 'mosaic/crm-api-key')))).toContain(
      ':secret:mosaic/crm-api-key-??????',
    );
    expect(resourcesFor(crm, 'lambda:InvokeFunction')).toEqual([]);
    // The payload bucket and the workgroup's results, no target bucket.
    expect(asSet(resourcesFor(crm, 's3:PutObject'))).toEqual(
      asSet([
        { 'Fn::Join': ['', [arnOf(activation.payloads.bucket), `/${destinationPayloadKeys('crm')}`]] },
        { 'Fn::Join': ['', [arnOf(workGroup.resultsBucket), '/results/*']] },
      ]),
    );
  });

  it('no statement allows "*" but X-Ray’s', () => {
    for (const d of [...activation.deliveries.map((x) => x.function), api.function]) {
      for (const statement of statementsOf(d)) {
        if (resourcesOf(statement).includes('*')) {
          expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
        }
      }
    }
  });

  it('alarms on dead-letter depth, on the age of the oldest message and on function errors, to the alarm topic', () => {
    const d = delivery('crm');
    const alarmsOf = Object.values(resourcesIn(d))
      .filter((a) => a.Type === 'AWS::CloudWatch::Alarm')
      .map((a) => a.Properties);
    const dlqAlarm = alarmsOf.find(
      (a) =>
        a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        json(a.Dimensions) ===
          json([
            { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(d.deadLetterQueue), 'QueueName'] } },
          ]),
    );
    expect(dlqAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [refOf(alarms.topic)],
      OKActions: [refOf(alarms.topic)],
    });
    const ageAlarm = alarmsOf.find(
      (a) =>
        a.MetricName === 'ApproximateAgeOfOldestMessage' &&
        json(a.Dimensions) ===
          json([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(d.queue), 'QueueName'] } }]),
    );
    expect(ageAlarm).toMatchObject({ Threshold: 3600, AlarmActions: [refOf(alarms.topic)] });
    const errorsAlarm = alarmsOf.find(
      (a) =>
        a.MetricName === 'Errors' &&
        json(a.Dimensions) === json([{ Name: 'FunctionName', Value: refOf(d.function.function) }]),
    );
    expect(errorsAlarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [refOf(alarms.topic)],
    });
    expect(alarmsOf).toHaveLength(3);
    expect(allResourcesOfType('AWS::CloudWatch::Alarm')).toHaveLength(3 * ENABLED.length);
  });

  it('the ledger table and the payload bucket are kept as house resources', () => {
    const ledger = propsOf(activation.ledgerTable.table);
    expect(ledger.KeySchema).toEqual([
      { AttributeName: DELIVERY_LEDGER_TABLE_SHAPE.partitionKey, KeyType: 'HASH' },
      { AttributeName: DELIVERY_LEDGER_TABLE_SHAPE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(ledger.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const bucket = propsOf(activation.payloads.bucket);
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: arnOf(activation.payloads.encryptionKey),
          },
        },
      ],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'delivery-payloads/' });
    expect(bucket.LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ Id: 'expire-payloads', ExpirationInDays: 3, Status: 'Enabled' })],
    });
  });
});

describe('DestinationDelivery: what it deploys and what it refuses', () => {
  /** A delivery's props in a fresh stack named `stackName`. */
  const propsIn = (stackName: string) => {
    const s = new Stack(new App(testAppProps()), stackName);
    const removalPolicy = RemovalPolicy.DESTROY;
    const accessLogs = new s3.Bucket(s, 'AccessLogs', bucketDefaults({ removalPolicy }));
    const table = new SegmentsTable(s, 'Table', { removalPolicy }).table;
    return {
      scope: s,
      props: {
        identity: DEFAULT_IDENTITY_CONFIG,
        eventBus: new EventBus(s, 'Bus', { busName: 'mosaic', archiveRetention: Duration.days(1) }).bus,
        identityTable: table,
        segmentsTable: table,
        ledgerTable: table,
        workGroup: new AthenaWorkgroup(s, 'Athena', {
          workGroupName: 'mosaic',
          bytesScannedCutoffPerQuery: 10_000_000,
          resultExpiration: Duration.days(1),
          accessLogsBucket: accessLogs,
          removalPolicy,
        }),
        databaseName: 'mosaic',
        exportsBucket: accessLogs,
        payloadBucket: accessLogs,
        alarmTopic: new AlarmTopic(s, 'Alarms', { removalPolicy }).topic,
        maxReceiveCount: 5,
        oldestMessageAlarmThreshold: Duration.hours(1),
        logRetention: RetentionDays.ONE_WEEK,
        removalPolicy,
        entry: FIXTURE,
      },
    };
  };
  /** A delivery of `destination`, alone in the configuration. */
  const deliveryOf = (stackName: string, destination: Destination) => {
    const { scope, props } = propsIn(stackName);
    return new DestinationDelivery(scope, 'Esp', {
      ...props,
      destination,
      destinations: { destinations: [destination], defaultPhoneCountry: 'US' },
    });
  };
  const webhook = (overrides: Record<string, unknown>) =>
    parseDestinationsConfig({
      destinations: [
        {
          kind: 'webhook',
          name: 'esp',
          segments: ['vip'],
          consent: { category: 'marketing' },
          url: 'https://esp.example.com/hook',
          auth: { type: 'none' },
          ...overrides,
        },
      ],
    }).destinations[0] as Destination;

  it('refuses a disabled destination', () => {
    expect(() => deliveryOf('Test', webhook({ enabled: false }))).toThrow(/destination "esp" is disabled/);
  });

  it('refuses a destination that is not in the destinations configuration its function gets', () => {
    const { scope, props } = propsIn('Test');
    const destination = webhook({});
    expect(
      () =>
        new DestinationDelivery(scope, 'Esp', {
          ...props,
          destination,
          destinations: { destinations: [{ ...destination, name: 'crm' }], defaultPhoneCountry: 'US' },
        }),
    ).toThrow(/destination "esp" is not in the destinations configuration/);
  });

  it('refuses queue names longer than SQS allows, naming them', () => {
    expect(() =>
      deliveryOf(
        'Mosaic-production-customer-data-platform',
        webhook({ name: 'email-service-provider-for-the-newsletter' }),
      ),
    ).toThrow(
      'queue name "Mosaic-production-customer-data-platform-email-service-provider-for-the-newsletter-<8 characters of the stack id>-dlq" is 95 characters, longer than SQS allows (80)',
    );
  });

  it('a dead-letter queue name of exactly 80 characters is fine', () => {
    // "Test-" + name + "-" + 8 + "-dlq": 18 characters besides the destination's name.
    expect(() => deliveryOf('Test', webhook({ name: 'n'.repeat(62) }))).not.toThrow();
    expect(() => deliveryOf('Test', webhook({ name: 'n'.repeat(63) }))).toThrow(
      /is 81 characters, longer than SQS allows/,
    );
  });

  it('deploys a destination far larger than Lambda’s 4 KB of environment: its configuration is in the bundle', () => {
    const member = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`field_${i}_with_a_long_name`, '{{profileId}}']),
    );
    const destination = webhook({ payload: { body: { members: '{{members}}' }, member } });
    expect(JSON.stringify(destination).length).toBeGreaterThan(4096);
    const d = deliveryOf('Test', destination);
    const variables = (
      Template.fromStack(Stack.of(d)).toJSON().Resources[logicalIdOf(d.function.function)].Properties as {
        Environment: { Variables: Record<string, unknown> };
      }
    ).Environment.Variables;
    expect(JSON.stringify(variables)).not.toContain('field_0_with_a_long_name');
    expect(variables.DESTINATION_NAME).toBe('esp');
    expect(JSON.parse(d.function.bundledConfig.MOSAIC_DESTINATIONS as string).destinations).toEqual([
      destination,
    ]);
  });
});

describe('Destinations API', () => {
  it('serves its routes behind the admin authorizer', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as Resource).Properties,
    );
    const keys = DESTINATIONS_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));
    expect(keys).toEqual([
      'GET /v1/destinations',
      'GET /v1/destinations/{name}',
      'POST /v1/destinations/{name}/test',
    ]);
    for (const key of keys) {
      const route = routes.find((r) => r.RouteKey === key);
      expect(route, key).toMatchObject({ AuthorizationType: 'CUSTOM' });
      expect(json(route?.AuthorizerId)).toContain('AdminKey');
    }
  });

  it('gets the whole destinations configuration and the identity configuration in its bundle, the payload bucket in its environment', () => {
    const env = envOf(api.function);
    const bundled = api.function.bundledConfig;
    expect(Object.keys(bundled).sort()).toEqual(['MOSAIC_DESTINATIONS', 'MOSAIC_IDENTITY']);
    expect(Object.keys(env).sort()).toEqual(['PAYLOAD_BUCKET', ...HOUSE_ENV].sort());
    expect(Object.values(DESTINATIONS_API_ENV).sort()).toEqual(
      ['MOSAIC_DESTINATIONS', 'MOSAIC_IDENTITY', 'PAYLOAD_BUCKET'].sort(),
    );
    expect(parseDestinationsConfig(JSON.parse(bundled.MOSAIC_DESTINATIONS as string))).toEqual(config);
    expect(JSON.parse(bundled.MOSAIC_IDENTITY as string)).toEqual(DEFAULT_IDENTITY_CONFIG);
    expect(env.PAYLOAD_BUCKET).toEqual(refOf(activation.payloads.bucket));
  });

  it('may send to every configured destination as its delivery does (a disabled one too, to test it first)', () => {
    const statements = statementsOf(api.function);
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([
      resolved(targetQueueArn(WAREHOUSE_QUEUE_URL)),
    ]);
    expect(resourcesFor(statements, 'lambda:InvokeFunction')).toEqual([PERSONALIZE_ARN]);
    expect(asSet(resourcesFor(statements, 'secretsmanager:GetSecretValue'))).toEqual(
      asSet([
        resolved(secretArnOf(stack, 'mosaic/crm-api-key')),
        SIGNING_SECRET_ARN,
        resolved(secretArnOf(stack, 'mosaic/legacy-esp')),
      ]),
    );
    expect(json(statements)).not.toContain('dynamodb:');
    expect(resourcesFor(statements, 's3:PutObject')).toContainEqual({
      'Fn::Join': ['', [arnOf(activation.payloads.bucket), '/payloads/*']],
    });
  });
});

describe('cdk-nag on activation', () => {
  it('reports no unacknowledged finding on the deliveries, the ledger, the payload bucket or the API', () => {
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack).violations,
    );
    const ours = findings.flatMap((f) =>
      f.violatingResources
        .filter((r) => /\/(Activation|DestinationsApi)\//.test(`${r.constructPath}/`))
        .map((r) => `${f.ruleName} ${r.constructPath}`),
    );
    expect(ours).toEqual([]);
  });
});

describe('the Mosaic stack with destinations', () => {
  let mosaic: SynthesizedMosaic;

  beforeAll(() => {
    mosaic = synthMosaic({ ...exampleConfig(), destinations: SAMPLE_DESTINATIONS });
  });

  it('delivers every enabled destination from the Mosaic bus, with the real delivery entry', () => {
    const { stack: s } = mosaic;
    expect(s.activation.deliveries.map((d) => d.destination.name)).toEqual(ENABLED);
    for (const d of s.activation.deliveries) {
      expect(Stack.of(d).nestedStackParent).toBe(s);
      expect(inTestStack(d, Stack.of(d).resolve(d.rule.eventBusName))).toEqual(refOf(s.eventBus.bus));
      expect(propsOf(d.function.function).Description).toContain(`destination ${d.destination.name} (`);
      expect(propsOf(d.function.function).Handler).toBe('index.handler');
    }
  });

  it('the Segments API, the Destinations API and every delivery get the configured destinations in their bundle', () => {
    const { stack: s } = mosaic;
    const configured = parseDestinationsConfig(SAMPLE_DESTINATIONS);
    for (const fn of [
      s.segmentsApi.function,
      s.destinationsApi.function,
      ...s.activation.deliveries.map((d) => d.function),
    ]) {
      expect(JSON.parse(fn.bundledConfig.MOSAIC_DESTINATIONS as string), fn.node.path).toEqual(configured);
    }
  });

  it('with the retain removal policy, keeps each destination’s queues and their key when the stack is deleted', () => {
    // Undelivered events stay in the dead-letter queue for redrive; the stack deployed again names
    // its queues anew (see the queue names test), so it does not collide with these.
    for (const d of mosaic.stack.activation.deliveries) {
      const resources = templateOf(d).toJSON().Resources as Record<string, { DeletionPolicy?: string }>;
      for (const part of [d.queue, d.deadLetterQueue, d.encryptionKey]) {
        expect(resources[logicalIdOf(part)]?.DeletionPolicy, part.node.path).toBe('Retain');
      }
    }
  });

  it('outputs each destination’s queue and dead-letter queue, the ledger and the payload bucket', () => {
    const outputs = mosaic.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const id of ['DestinationCrmQueues', 'DestinationDirectMailQueues', 'DestinationWarehouseQueues']) {
      expect(outputs[id], id).toBeDefined();
    }
    // Through an output of the delivery's nested stack.
    const crm = mosaic.stack.activation.deliveries[0] as DestinationDelivery;
    const nestedOutputs = Template.fromStack(Stack.of(crm)).toJSON().Outputs as Record<
      string,
      { Value: unknown }
    >;
    const [dlqOutput] = Object.entries(nestedOutputs).find(
      ([, output]) =>
        json(output.Value) === json({ 'Fn::GetAtt': [logicalIdOf(crm.deadLetterQueue), 'QueueName'] }),
    ) ?? [''];
    expect(dlqOutput).not.toBe('');
    expect(json(outputs.DestinationCrmQueues?.Value)).toContain(`"Outputs.${dlqOutput}"`);
    expect(outputs.DeliveryLedgerTableName?.Value).toEqual(refOf(mosaic.stack.activation.ledgerTable.table));
    expect(outputs.DeliveryPayloadBucketName?.Value).toEqual(refOf(mosaic.stack.activation.payloads.bucket));
  });
});
