import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdminAuthorizerEnv } from '../../functions/admin-authorizer/env';
import { CollectorEnv } from '../../functions/collector/env';
import { ProfileApiEnv } from '../../functions/profile-api/env';
import { ResolverEnv } from '../../functions/resolver/env';
import { createMosaicApp } from '../../lib/app';
import { accountScopedNames, type MosaicConfig, parseConfig } from '../../lib/config';
import { type MosaicFunction, PROJECT_ROOT } from '../../lib/constructs/mosaic-function';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import { ConfigError } from '../../src/core/errors';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import {
  cdkJsonContext,
  exampleConfig,
  logicalIdOf,
  type SynthesizedMosaic,
  synthMosaic,
  testAppProps,
} from './support';

const SOURCES = [{ name: 'web', keys: [{ sha256: 'a'.repeat(64) }] }];
const ADMIN_KEYS = [{ name: 'ops', keyHashes: ['b'.repeat(64)] }];
/** The required part of a configuration. */
const REQUIRED = { sources: SOURCES, adminKeys: ADMIN_KEYS };

describe('config schema', () => {
  it('the example in cdk.json is valid: one source "website" with one key hash', () => {
    const config = parseConfig(exampleConfig());
    expect(config.sources).toHaveLength(1);
    expect(config.sources[0]?.name).toBe('website');
    expect(config.sources[0]?.keys).toHaveLength(1);
  });

  it('the example in cdk.json has one admin key holder with one key hash, not a write key', () => {
    const config = parseConfig(exampleConfig());
    expect(config.adminKeys).toHaveLength(1);
    expect(config.adminKeys[0]?.keyHashes).toHaveLength(1);
    expect(config.adminKeys[0]?.keyHashes[0]).not.toBe(config.sources[0]?.keys[0]?.sha256);
  });

  it('needs only sources and admin keys; everything else has a default', () => {
    const config = parseConfig(REQUIRED);
    expect(config).toEqual({
      sources: [{ name: 'web', keys: [{ sha256: 'a'.repeat(64), revoked: false }] }],
      adminKeys: [{ name: 'ops', keyHashes: ['b'.repeat(64)], revokedHashes: [] }],
      identity: DEFAULT_IDENTITY_CONFIG,
      resolver: {
        batchSize: 100,
        maxBatchingWindowSeconds: 0,
        parallelizationFactor: 1,
        retryAttempts: 10,
        maxRecordAgeHours: 24,
        iteratorAgeAlarmSeconds: 60,
      },
      bus: { archiveDays: 7 },
      alarms: {},
      limits: DEFAULT_LIMITS,
      throttle: { rateLimit: 1000, burstLimit: 2000 },
      retention: {
        streamHours: 24,
        logDays: 30,
        quarantineDays: 30,
        errorsDays: 30,
        lakeNoncurrentDays: 7,
        accessLogDays: 90,
        resolverFailureDays: 14,
      },
      firehose: { intervalSeconds: 300, sizeMiB: 128 },
      lake: { partitionStartDate: '2025-01-01' },
      segments: { bytesScannedCutoffGb: 100, resultDays: 7, exportDays: 90 },
      destinations: { destinations: [], defaultPhoneCountry: 'US' },
      activation: { maxReceiveCount: 5, oldestMessageAlarmMinutes: 60, payloadDays: 3 },
      removalPolicy: 'retain',
    } satisfies MosaicConfig);
  });

  it('merges partial limits over Segment’s defaults', () => {
    expect(parseConfig({ ...REQUIRED, limits: { maxBatchMessages: 100 } }).limits).toEqual({
      ...DEFAULT_LIMITS,
      maxBatchMessages: 100,
    });
  });

  it('accepts the context as a JSON string (cdk synth -c mosaic=...)', () => {
    expect(parseConfig(JSON.stringify(REQUIRED)).sources[0]?.name).toBe('web');
  });

  it('fills in identity defaults under what is configured', () => {
    const identity = parseConfig({
      ...REQUIRED,
      identity: { types: [{ name: 'user_id', paths: ['userId'], limit: 1 }], defaultPhoneCountry: 'GB' },
    }).identity;
    expect(identity.types).toEqual([
      expect.objectContaining({ name: 'user_id', priority: 50, maxLength: 512 }),
    ]);
    expect(identity.defaultPhoneCountry).toBe('GB');
    expect(identity.blocked.includeDefaults).toBe(true);
  });

  it('accepts an existing SNS topic for the alarms', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
    expect(parseConfig({ ...REQUIRED, alarms: { topicArn } }).alarms.topicArn).toBe(topicArn);
  });

  it.each([
    ['no context at all', undefined, /Missing CDK context "mosaic"/],
    ['text that is not JSON', '{sources:', /not valid JSON/],
    ['no sources', { adminKeys: ADMIN_KEYS }, /mosaic\.sources: /],
    ['no admin keys', { sources: SOURCES }, /mosaic\.adminKeys: /],
    ['an empty list of admin keys', { ...REQUIRED, adminKeys: [] }, /mosaic\.adminKeys: /],
    [
      'an admin key that is not a SHA-256 hash',
      { ...REQUIRED, adminKeys: [{ name: 'ops', keyHashes: ['secret'] }] },
      /mosaic\.adminKeys\.0\.keyHashes\.0: must be the lowercase hex SHA-256 of the admin key/,
    ],
    [
      'an admin key that is also a write key',
      { ...REQUIRED, adminKeys: [{ name: 'ops', keyHashes: ['a'.repeat(64)] }] },
      /mosaic\.adminKeys\.0\.keyHashes\.0: is also a source write key/,
    ],
    [
      'one admin key hash configured twice',
      {
        ...REQUIRED,
        adminKeys: [
          { name: 'ops', keyHashes: ['b'.repeat(64)] },
          { name: 'crm', keyHashes: ['c'.repeat(64)], revokedHashes: ['b'.repeat(64)] },
        ],
      },
      /mosaic\.adminKeys\.1\.revokedHashes\.0: the same key hash is configured twice/,
    ],
    [
      'a misspelt admin key field',
      { ...REQUIRED, adminKeys: [{ name: 'ops', keyHashes: ['b'.repeat(64)], revoked: ['c'.repeat(64)] }] },
      /mosaic\.adminKeys\.0\.revoked: Unrecognized key: "revoked"/,
    ],
    [
      'a misspelt identity field, however deep',
      { ...REQUIRED, identity: { types: [{ name: 'user_id', paths: ['userId'], limt: 1 }] } },
      /mosaic\.identity\.types\.0\.limt: Unrecognized key: "limt"/,
    ],
    [
      'an identifier type named like a Profile API word',
      { ...REQUIRED, identity: { types: [{ name: 'profile_id', paths: ['userId'] }] } },
      /mosaic\.identity\.types\.0\.name: is reserved/,
    ],
    [
      'identity limits beyond the profile size budget',
      { ...REQUIRED, identity: { types: [{ name: 'anonymous_id', paths: ['anonymousId'], limit: 201 }] } },
      /mosaic\.identity\.types\.0\.limit: /,
    ],
    [
      'a resolver batch larger than Kinesis allows',
      { ...REQUIRED, resolver: { batchSize: 20_000 } },
      /mosaic\.resolver\.batchSize: /,
    ],
    [
      'a parallelization factor over 10',
      { ...REQUIRED, resolver: { parallelizationFactor: 11 } },
      /mosaic\.resolver\.parallelizationFactor: /,
    ],
    [
      'unbounded retries (-1)',
      { ...REQUIRED, resolver: { retryAttempts: -1 } },
      /mosaic\.resolver\.retryAttempts: /,
    ],
    [
      'a maximum record age over 7 days',
      { ...REQUIRED, resolver: { maxRecordAgeHours: 169 } },
      /mosaic\.resolver\.maxRecordAgeHours: /,
    ],
    ['a misspelt resolver field', { ...REQUIRED, resolver: { batch: 10 } }, /mosaic\.resolver: .*batch/],
    ['the default bus as Mosaic’s bus', { ...REQUIRED, bus: { name: 'default' } }, /mosaic\.bus\.name: /],
    [
      'an archive kept forever (0 days)',
      { ...REQUIRED, bus: { archiveDays: 0 } },
      /mosaic\.bus\.archiveDays: /,
    ],
    [
      'an alarm topic that is not an SNS topic ARN',
      { ...REQUIRED, alarms: { topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' } },
      /mosaic\.alarms\.topicArn: must be the ARN of a standard SNS topic/,
    ],
    [
      'a FIFO alarm topic (CloudWatch alarms publish to standard topics)',
      { ...REQUIRED, alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops.fifo' } },
      /mosaic\.alarms\.topicArn: /,
    ],
    [
      'a maximum record age beyond the stream’s retention',
      { ...REQUIRED, resolver: { maxRecordAgeHours: 48 }, retention: { streamHours: 24 } },
      /mosaic\.resolver\.maxRecordAgeHours: must not exceed retention\.streamHours \(24\)/,
    ],
    [
      'failed resolver batches kept over a year',
      { ...REQUIRED, retention: { resolverFailureDays: 400 } },
      /mosaic\.retention\.resolverFailureDays: /,
    ],
    [
      'a key that is not a SHA-256 hash',
      { sources: [{ name: 'web', keys: [{ sha256: 'secret' }] }] },
      /mosaic\.sources\.0\.keys\.0\.sha256: must be the lowercase hex SHA-256/,
    ],
    [
      'stream retention under 24 hours',
      { ...REQUIRED, retention: { streamHours: 12 } },
      /mosaic\.retention\.streamHours: /,
    ],
    [
      'stream retention over a year',
      { ...REQUIRED, retention: { streamHours: 9000 } },
      /mosaic\.retention\.streamHours: /,
    ],
    [
      'a log retention CloudWatch does not offer',
      { ...REQUIRED, retention: { logDays: 10 } },
      /mosaic\.retention\.logDays: must be one of .*30/,
    ],
    [
      'a Firehose buffer too small for Parquet',
      { ...REQUIRED, firehose: { sizeMiB: 32 } },
      /mosaic\.firehose\.sizeMiB: must be at least 64/,
    ],
    ['a negative throttle', { ...REQUIRED, throttle: { rateLimit: -1 } }, /mosaic\.throttle\.rateLimit: /],
    ['an unknown removal policy', { ...REQUIRED, removalPolicy: 'snapshot' }, /mosaic\.removalPolicy: /],
    ['a misspelt field', { ...REQUIRED, throtle: {} }, /mosaic: .*throtle/],
    ['a misspelt limit', { ...REQUIRED, limits: { maxBatch: 1 } }, /mosaic\.limits: .*maxBatch/],
    [
      'a message limit past what one Kinesis record holds',
      { ...REQUIRED, limits: { maxMessageBytes: 1024 * 1024 } },
      /mosaic\.limits\.maxMessageBytes: at most 1024000 bytes: .*Kinesis record/,
    ],
    [
      "a request limit past Lambda's invocation payload",
      { ...REQUIRED, limits: { maxRequestBytes: 6 * 1024 * 1024 } },
      /mosaic\.limits\.maxRequestBytes: at most 4194304 bytes: .*6 MB/,
    ],
    [
      'a destination webhook over plain http',
      {
        ...REQUIRED,
        destinations: {
          destinations: [
            {
              kind: 'webhook',
              name: 'crm',
              segments: ['vip'],
              consent: { category: 'marketing' },
              url: 'http://crm.example.com/hook',
              auth: { type: 'none' },
            },
          ],
        },
      },
      /mosaic\.destinations\.destinations\.0\.url: must be https/,
    ],
    [
      'a destination allowed fewer deliveries at once than an SQS event source polls with',
      {
        ...REQUIRED,
        destinations: {
          destinations: [
            {
              kind: 'webhook',
              name: 'crm',
              segments: ['vip'],
              consent: { category: 'marketing' },
              url: 'https://crm.example.com/hook',
              auth: { type: 'none' },
              reservedConcurrency: 1,
            },
          ],
        },
      },
      /mosaic\.destinations\.destinations\.0\.reservedConcurrency: must be at least 2 on AWS/,
    ],
    [
      'a destination receiving an identifier type identity does not configure',
      {
        ...REQUIRED,
        destinations: {
          destinations: [
            {
              kind: 'sqs',
              name: 'warehouse',
              segments: ['vip'],
              consent: { category: null },
              queue: 'arn:aws:sqs:eu-west-1:123456789012:audiences',
              fields: { identifiers: [{ type: 'fax', pii: 'raw' }] },
            },
          ],
        },
      },
      /mosaic\.destinations\.destinations\.0\.fields\.identifiers\.0\.type: "fax" is not a configured identifier type/,
    ],
    [
      'a misspelt destinations field',
      { ...REQUIRED, destinations: { destinations: [], defaultCountry: 'DE' } },
      /mosaic\.destinations: Unrecognized key: "defaultCountry"/,
    ],
    [
      'a dead-letter queue after the first receive',
      { ...REQUIRED, activation: { maxReceiveCount: 1 } },
      /mosaic\.activation\.maxReceiveCount: /,
    ],
    [
      'a bad partition start date',
      { ...REQUIRED, lake: { partitionStartDate: '2025-13-01' } },
      /mosaic\.lake\.partitionStartDate: /,
    ],
  ])('rejects %s, naming the field', (_what, value, message) => {
    expect(() => parseConfig(value)).toThrow(ConfigError);
    expect(() => parseConfig(value)).toThrow(message);
  });

  it('fails synth with a clear message when the context is invalid', () => {
    const context = { ...cdkJsonContext(), mosaic: { ...REQUIRED, retention: { streamHours: 1 } } };
    expect(() => createMosaicApp(testAppProps(context))).toThrow(
      /Invalid CDK context "mosaic":\s+mosaic\.retention\.streamHours: /,
    );
  });
});

describe('documented destination examples', () => {
  it('every JSON example there is a valid destinations configuration', () => {
    const text = readFileSync(join(PROJECT_ROOT, 'docs/destinations.md'), 'utf8');
    const examples = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) =>
      JSON.parse(match[1] as string),
    );
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const destinations of examples) {
      const config = parseConfig({ ...REQUIRED, destinations });
      expect(config.destinations.destinations.length).toBeGreaterThan(0);
    }
  });

  it('the destinations and activation of README’s deployment example are valid', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const block = /```json\n\s*("mosaic": \{[\s\S]*?)```/.exec(readme)?.[1];
    const { mosaic } = JSON.parse(`{${block}}`) as { mosaic: Record<string, unknown> };
    const config = parseConfig({
      ...REQUIRED,
      destinations: mosaic.destinations,
      activation: mosaic.activation,
    });
    expect(config.destinations.destinations.map((d) => d.kind)).toEqual(['webhook', 's3']);
  });
});

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';

describe('a non-default config flows into the template', () => {
  let m: SynthesizedMosaic;
  let resources: Record<
    string,
    { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
  >;

  beforeAll(() => {
    m = synthMosaic(
      {
        sources: SOURCES,
        adminKeys: [
          { name: 'ops', keyHashes: ['b'.repeat(64)], revokedHashes: ['c'.repeat(64)] },
          { name: 'crm', keyHashes: ['d'.repeat(64)] },
        ],
        identity: {
          types: [
            { name: 'user_id', paths: ['userId'], priority: 100, limit: 1 },
            { name: 'crm_id', paths: ['traits.crmId'], limit: 2 },
          ],
          defaultPhoneCountry: 'GB',
        },
        resolver: {
          batchSize: 250,
          maxBatchingWindowSeconds: 5,
          parallelizationFactor: 4,
          retryAttempts: 3,
          maxRecordAgeHours: 6,
          iteratorAgeAlarmSeconds: 300,
        },
        bus: { name: 'mosaic-test', archiveDays: 30 },
        alarms: { topicArn: TOPIC_ARN },
        limits: { maxBatchMessages: 100 },
        throttle: { rateLimit: 50, burstLimit: 100 },
        retention: {
          streamHours: 168,
          logDays: 90,
          quarantineDays: 14,
          errorsDays: 60,
          lakeNoncurrentDays: 3,
          accessLogDays: 365,
          resolverFailureDays: 5,
        },
        firehose: { intervalSeconds: 60, sizeMiB: 64 },
        lake: { databaseName: 'mosaic_test', partitionStartDate: '2026-01-01' },
        removalPolicy: 'destroy',
      },
      { cloudFormationValidation: false },
    ); // synth passes the house-function Aspect and cdk-nag with the removal policy "destroy" too
    resources = m.template.toJSON().Resources;
  });
  const props = (construct: Parameters<typeof logicalIdOf>[0]) =>
    resources[logicalIdOf(construct)]?.Properties ?? {};

  it('throttling, stream retention, log retention', () => {
    expect(props(m.stack.collector.stage).DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
    expect(props(m.stack.eventStream.stream).RetentionPeriodHours).toBe(168);
    for (const logGroup of Object.values(m.template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    }
  });

  it('lifecycle and Firehose buffering', () => {
    const rules = (props(m.stack.lake.bucket).LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 3 } }),
        expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: 14 }),
        expect.objectContaining({ Prefix: 'errors/', ExpirationInDays: 60 }),
      ]),
    );
    expect(props(m.stack.lake.accessLogsBucket).LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ ExpirationInDays: 365 })],
    });
    expect(props(m.stack.resolver.failureBucket).LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([expect.objectContaining({ ExpirationInDays: 5 })]),
    });
    for (const stream of [
      m.stack.lake.eventsDeliveryStream,
      m.stack.lake.quarantineDeliveryStream,
      m.stack.lake.identityLinksDeliveryStream,
    ]) {
      expect(props(stream).ExtendedS3DestinationConfiguration).toMatchObject({
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
      });
    }
  });

  it('catalog names and partition projection start', () => {
    expect(props(m.stack.lake.eventsTable)).toMatchObject({
      DatabaseName: 'mosaic_test',
      TableInput: { Parameters: { 'projection.dt.range': '2026-01-01,NOW' } },
    });
    expect(props(m.stack.lake.eventsDeliveryStream).ExtendedS3DestinationConfiguration).toMatchObject({
      DataFormatConversionConfiguration: {
        SchemaConfiguration: { DatabaseName: 'mosaic_test', TableName: 'events' },
      },
    });
  });

  it('collector limits and sources', () => {
    const env = (
      props(m.stack.collector.function.function).Environment as { Variables: Record<string, string> }
    ).Variables;
    const parsed = CollectorEnv.parse({
      ...env,
      EVENT_STREAM_NAME: 's',
      QUARANTINE_DELIVERY_STREAM_NAME: 'q',
    });
    expect(parsed.MOSAIC_LIMITS.maxBatchMessages).toBe(100);
    expect(parsed.MOSAIC_SOURCES.map((s) => s.name)).toEqual(['web']);
  });

  /** What a function reads: its environment and the configuration compiled into its bundle. */
  const envOf = (fn: MosaicFunction) => ({
    ...(props(fn.function).Environment as { Variables: Record<string, string> }).Variables,
    ...fn.bundledConfig,
  });

  it('resolver: event source mapping settings and the identity configuration', () => {
    expect(props(m.stack.resolver.eventSourceMapping)).toMatchObject({
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 4,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
    });
    const env = ResolverEnv.parse({
      ...envOf(m.stack.resolver.function),
      IDENTITY_TABLE_NAME: 't',
      IDENTITY_LINKS_DELIVERY_STREAM_NAME: 'l',
      EVENT_BUS_NAME: 'b',
    });
    expect(env.MOSAIC_IDENTITY.types.map((t) => t.name)).toEqual(['user_id', 'crm_id']);
    expect(env.MOSAIC_IDENTITY.defaultPhoneCountry).toBe('GB');
    // The Profile API normalises lookups with the same rules the resolver runs with.
    const profileEnv = ProfileApiEnv.parse({
      ...envOf(m.stack.profileApi.function),
      IDENTITY_TABLE_NAME: 't',
    });
    expect(profileEnv.MOSAIC_IDENTITY).toEqual(env.MOSAIC_IDENTITY);
  });

  it('admin keys reach the authorizer, revoked hashes included', () => {
    const env = AdminAuthorizerEnv.parse(envOf(m.stack.profileApi.authorizerFunction));
    expect(env.MOSAIC_ADMIN_KEYS).toEqual([
      { name: 'ops', keyHashes: ['b'.repeat(64)], revokedHashes: ['c'.repeat(64)] },
      { name: 'crm', keyHashes: ['d'.repeat(64)], revokedHashes: [] },
    ]);
  });

  it('bus name and archive retention', () => {
    expect(props(m.stack.eventBus.bus)).toMatchObject({ Name: 'mosaic-test' });
    expect(props(m.stack.eventBus.archive)).toMatchObject({ RetentionDays: 30 });
  });

  it('alarms: the configured topic instead of a new one, and the iterator-age threshold', () => {
    m.template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(m.stack.alarmTopic.created).toBe(false);
    const { iteratorAgeAlarm, errorsAlarm, failureDeliveryAlarm } = m.stack.resolver;
    for (const alarm of [iteratorAgeAlarm, errorsAlarm, failureDeliveryAlarm]) {
      expect(props(alarm)).toMatchObject({ AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    }
    expect(props(m.stack.resolver.iteratorAgeAlarm).Threshold).toBe(300_000);
  });

  it('alarms: the ingest path’s alarms notify the configured topic; lake lateness follows the buffering interval', () => {
    const { events, quarantine, identityLinks } = m.stack.lake.alarms;
    const { errorsAlarm, throttlesAlarm, serverErrorsAlarm, streamThrottlingAlarm } = m.stack.collector;
    for (const alarm of [
      ...Object.values(events),
      ...Object.values(quarantine),
      ...Object.values(identityLinks),
      errorsAlarm,
      throttlesAlarm,
      serverErrorsAlarm,
      streamThrottlingAlarm,
    ]) {
      expect(props(alarm)).toMatchObject({ AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    }
    // firehose.intervalSeconds 60: twice that plus 5 minutes.
    expect(props(events.freshness).Threshold).toBe(420);
    expect(props(events.streamLag).Threshold).toBe(420_000);
    // retention.errorsDays 60: the conversion alarms say how long the failed records stay.
    expect(props(events.conversion).AlarmDescription).toContain('expire after 60 days');
  });

  it('removal policy "destroy" deletes stateful resources, emptying the buckets first', () => {
    for (const construct of [
      m.stack.eventStream.stream,
      m.stack.lake.bucket,
      m.stack.lake.encryptionKey,
      m.stack.identityTable.table,
      m.stack.identityTable.encryptionKey,
      m.stack.resolver.failureBucket,
      m.stack.resolver.failureBucketKey,
    ]) {
      expect(resources[logicalIdOf(construct)]?.DeletionPolicy).toBe('Delete');
    }
    // Deletion protection would make "destroy" fail.
    expect(props(m.stack.identityTable.table).DeletionProtectionEnabled).toBe(false);
    const autoDeletes = Object.values(m.template.findResources('Custom::S3AutoDeleteObjects'));
    expect(autoDeletes.map((r) => r.Properties.BucketName)).toEqual(
      expect.arrayContaining([
        { Ref: logicalIdOf(m.stack.lake.bucket) },
        { Ref: logicalIdOf(m.stack.lake.accessLogsBucket) },
        { Ref: logicalIdOf(m.stack.resolver.failureBucket) },
      ]),
    );
  });
});

describe('account-scoped names (Glue database, Athena workgroup, bus)', () => {
  it('are derived from the stack name unless configured: the stack "Mosaic" keeps "mosaic"', () => {
    const config = parseConfig(REQUIRED);
    expect(accountScopedNames(config, 'Mosaic')).toEqual({
      databaseName: 'mosaic',
      workGroupName: 'mosaic',
      busName: 'mosaic',
    });
    expect(accountScopedNames(config, 'Mosaic-Prod-2')).toEqual({
      databaseName: 'mosaic_prod_2',
      workGroupName: 'mosaic-prod-2',
      busName: 'mosaic-prod-2',
    });
  });

  it('configured names win over the stack name', () => {
    const config = parseConfig({
      ...REQUIRED,
      lake: { databaseName: 'cdp_lake' },
      segments: { workGroupName: 'cdp-segments' },
      bus: { name: 'cdp-events' },
    });
    expect(accountScopedNames(config, 'Mosaic')).toEqual({
      databaseName: 'cdp_lake',
      workGroupName: 'cdp-segments',
      busName: 'cdp-events',
    });
  });

  it('refuses a stack name that would name the bus "default" (the account’s own bus)', () => {
    expect(() => accountScopedNames(parseConfig(REQUIRED), 'Default')).toThrow(/mosaic\.bus\.name/);
    expect(accountScopedNames(parseConfig({ ...REQUIRED, bus: { name: 'cdp' } }), 'Default').busName).toBe(
      'cdp',
    );
  });
});
