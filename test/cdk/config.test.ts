import { beforeAll, describe, expect, it } from 'vitest';
import { CollectorEnv } from '../../functions/collector/env';
import { createMosaicApp } from '../../lib/app';
import { type MosaicConfig, parseConfig } from '../../lib/config';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import { ConfigError } from '../../src/core/errors';
import {
  cdkJsonContext,
  exampleConfig,
  logicalIdOf,
  type SynthesizedMosaic,
  synthMosaic,
  testAppProps,
} from './support';

const SOURCES = [{ name: 'web', keys: [{ sha256: 'a'.repeat(64) }] }];

describe('config schema', () => {
  it('the example in cdk.json is valid: one source "website" with one key hash', () => {
    const config = parseConfig(exampleConfig());
    expect(config.sources).toHaveLength(1);
    expect(config.sources[0]?.name).toBe('website');
    expect(config.sources[0]?.keys).toHaveLength(1);
  });

  it('needs only sources; everything else has a default', () => {
    const config = parseConfig({ sources: SOURCES });
    expect(config).toEqual({
      sources: [{ name: 'web', keys: [{ sha256: 'a'.repeat(64), revoked: false }] }],
      limits: DEFAULT_LIMITS,
      throttle: { rateLimit: 1000, burstLimit: 2000 },
      retention: {
        streamHours: 24,
        logDays: 30,
        quarantineDays: 30,
        errorsDays: 30,
        lakeNoncurrentDays: 7,
        accessLogDays: 90,
      },
      firehose: { intervalSeconds: 300, sizeMiB: 128 },
      lake: { databaseName: 'mosaic', partitionStartDate: '2025-01-01' },
      removalPolicy: 'retain',
    } satisfies MosaicConfig);
  });

  it('merges partial limits over Segment’s defaults', () => {
    expect(parseConfig({ sources: SOURCES, limits: { maxBatchMessages: 100 } }).limits).toEqual({
      ...DEFAULT_LIMITS,
      maxBatchMessages: 100,
    });
  });

  it('accepts the context as a JSON string (cdk synth -c mosaic=...)', () => {
    expect(parseConfig(JSON.stringify({ sources: SOURCES })).sources[0]?.name).toBe('web');
  });

  it.each([
    ['no context at all', undefined, /Missing CDK context "mosaic"/],
    ['text that is not JSON', '{sources:', /not valid JSON/],
    ['no sources', {}, /mosaic\.sources: /],
    [
      'a key that is not a SHA-256 hash',
      { sources: [{ name: 'web', keys: [{ sha256: 'secret' }] }] },
      /mosaic\.sources\.0\.keys\.0\.sha256: must be the lowercase hex SHA-256/,
    ],
    [
      'stream retention under 24 hours',
      { sources: SOURCES, retention: { streamHours: 12 } },
      /mosaic\.retention\.streamHours: /,
    ],
    [
      'stream retention over a year',
      { sources: SOURCES, retention: { streamHours: 9000 } },
      /mosaic\.retention\.streamHours: /,
    ],
    [
      'a log retention CloudWatch does not offer',
      { sources: SOURCES, retention: { logDays: 10 } },
      /mosaic\.retention\.logDays: must be one of .*30/,
    ],
    [
      'a Firehose buffer too small for Parquet',
      { sources: SOURCES, firehose: { sizeMiB: 32 } },
      /mosaic\.firehose\.sizeMiB: must be at least 64/,
    ],
    [
      'a negative throttle',
      { sources: SOURCES, throttle: { rateLimit: -1 } },
      /mosaic\.throttle\.rateLimit: /,
    ],
    ['an unknown removal policy', { sources: SOURCES, removalPolicy: 'snapshot' }, /mosaic\.removalPolicy: /],
    ['a misspelt field', { sources: SOURCES, throtle: {} }, /mosaic: .*throtle/],
    ['a misspelt limit', { sources: SOURCES, limits: { maxBatch: 1 } }, /mosaic\.limits: .*maxBatch/],
    [
      'a bad partition start date',
      { sources: SOURCES, lake: { partitionStartDate: '2025-13-01' } },
      /mosaic\.lake\.partitionStartDate: /,
    ],
  ])('rejects %s, naming the field', (_what, value, message) => {
    expect(() => parseConfig(value)).toThrow(ConfigError);
    expect(() => parseConfig(value)).toThrow(message);
  });

  it('fails synth with a clear message when the context is invalid', () => {
    const context = { ...cdkJsonContext(), mosaic: { sources: SOURCES, retention: { streamHours: 1 } } };
    expect(() => createMosaicApp(testAppProps(context))).toThrow(
      /Invalid CDK context "mosaic":\s+mosaic\.retention\.streamHours: /,
    );
  });
});

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
        limits: { maxBatchMessages: 100 },
        throttle: { rateLimit: 50, burstLimit: 100 },
        retention: {
          streamHours: 168,
          logDays: 90,
          quarantineDays: 14,
          errorsDays: 60,
          lakeNoncurrentDays: 3,
          accessLogDays: 365,
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
    for (const stream of [m.stack.lake.eventsDeliveryStream, m.stack.lake.quarantineDeliveryStream]) {
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

  it('removal policy "destroy" deletes stateful resources, emptying the buckets first', () => {
    for (const construct of [m.stack.eventStream.stream, m.stack.lake.bucket, m.stack.lake.encryptionKey]) {
      expect(resources[logicalIdOf(construct)]?.DeletionPolicy).toBe('Delete');
    }
    const autoDeletes = Object.values(m.template.findResources('Custom::S3AutoDeleteObjects'));
    expect(autoDeletes.map((r) => r.Properties.BucketName)).toEqual(
      expect.arrayContaining([
        { Ref: logicalIdOf(m.stack.lake.bucket) },
        { Ref: logicalIdOf(m.stack.lake.accessLogsBucket) },
      ]),
    );
  });
});
