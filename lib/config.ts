import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { DestinationsConfig } from '../src/core/activation/destination-config';
import { AdminKeysConfig } from '../src/core/auth/admin-keys';
import { CollectorLimits } from '../src/core/config/limits';
import { SourcesConfig } from '../src/core/config/sources';
import { ConfigError } from '../src/core/errors';
import { IdentityConfig } from '../src/core/identity/identity-config';

/** The CDK context key that holds the deployment's configuration (`cdk.json` or `-c mosaic=...`). */
export const CONFIG_CONTEXT_KEY = 'mosaic';

/** Log retention periods CloudWatch accepts, without "never expire" (every log group must expire). */
const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is RetentionDays => typeof days === 'number' && days !== RetentionDays.INFINITE,
);

const days = (max: number) => z.number().int().min(1).max(max);

/** Requests per second and burst for the collector API's stage (API Gateway throttling). */
export const ThrottleConfig = z.strictObject({
  rateLimit: z.number().positive().max(1_000_000).default(1000),
  burstLimit: z.number().int().positive().max(5000).default(2000),
});
export type ThrottleConfig = z.infer<typeof ThrottleConfig>;

/** How long each kind of data is kept. Everything expires; nothing is kept forever by default. */
export const RetentionConfig = z.strictObject({
  /** Kinesis retention: how long the resolver and Firehose can fall behind without losing events. */
  streamHours: z.number().int().min(24).max(8760).default(24),
  /** CloudWatch log groups (functions, API access logs, Firehose errors). */
  logDays: z
    .number()
    .int()
    .refine((value) => (LOG_RETENTION_DAYS as number[]).includes(value), {
      message: `must be one of the retention periods CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(RetentionDays.ONE_MONTH),
  /** Rejected messages under `quarantine/` (they hold raw, possibly personal, data). */
  quarantineDays: days(3650).default(30),
  /** Records Firehose could not convert or deliver, under `errors/`. */
  errorsDays: days(3650).default(30),
  /**
   * Superseded and deleted lake object versions. Keep this short: a person's rows removed by a
   * deletion request live on in old versions until they expire.
   */
  lakeNoncurrentDays: days(365).default(7),
  /** S3 server access logs of the lake and resolver-failure buckets. */
  accessLogDays: days(3650).default(90),
  /**
   * Batches the resolver gave up on (the event source mapping's on-failure records, which hold the
   * raw events). Keep this short: they are personal data outside the lake's deletion path.
   */
  resolverFailureDays: days(365).default(14),
});
export type RetentionConfig = z.infer<typeof RetentionConfig>;

/** Firehose buffering. Parquet conversion needs a buffer of at least 64 MiB. */
export const FirehoseConfig = z.strictObject({
  intervalSeconds: z.number().int().min(0).max(900).default(300),
  sizeMiB: z
    .number()
    .int()
    .min(64, 'must be at least 64 (MiB): Firehose requires it when converting records to Parquet')
    .max(128)
    .default(128),
});
export type FirehoseConfig = z.infer<typeof FirehoseConfig>;

/** The lake's catalog. */
export const LakeConfig = z.strictObject({
  /**
   * Glue database name (unique in the account and region). By default the stack's name in lowercase,
   * `-` written `_` (`mosaic` for the stack `Mosaic`): see {@link accountScopedNames}.
   */
  databaseName: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,254}$/, 'lowercase letters, digits and "_", starting with a letter')
    .optional(),
  /** First day of the `dt` partition projection (`YYYY-MM-DD`); queries see days from it to now. */
  partitionStartDate: z.iso.date('must be a date written YYYY-MM-DD').default('2025-01-01'),
});
export type LakeConfig = z.infer<typeof LakeConfig>;

/** The resolver's event source mapping on the events stream, and when its lag raises an alarm. */
export const ResolverConfig = z.strictObject({
  /** Most records per invocation. */
  batchSize: z.number().int().min(1).max(10_000).default(100),
  /**
   * Longest wait to fill a batch; 0 (the default) invokes as soon as records arrive, so a profile
   * shows an event within about a second of its acceptance. A longer window makes fuller batches
   * (fewer profile writes per event: the resolver coalesces per profile within a batch) at the cost
   * of that freshness.
   */
  maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(0),
  /**
   * Concurrent batches per shard (1 to 10). Records of one partition key (one person) stay in order
   * at any factor: Lambda keeps each partition key on one of the shard's concurrent batches.
   */
  parallelizationFactor: z.number().int().min(1).max(10).default(1),
  /**
   * Retries of a failing batch before it goes to the failure bucket. Bounded, so one bad record
   * cannot hold up its shard for the stream's whole retention.
   */
  retryAttempts: z.number().int().min(0).max(10_000).default(10),
  /**
   * Records older than this go to the failure bucket instead of being processed (1 hour to 7 days).
   * At most `retention.streamHours`: a record the stream has already dropped cannot go anywhere.
   */
  maxRecordAgeHours: z.number().int().min(1).max(168).default(24),
  /** Alarm when the oldest unprocessed record is older than this (the function's IteratorAge). */
  iteratorAgeAlarmSeconds: z.number().int().min(1).max(604_800).default(60),
});
export type ResolverConfig = z.infer<typeof ResolverConfig>;

/**
 * Segments: the Athena workgroup that previews and exports run in, and how long their outputs are
 * kept. Query results and export files hold personal data (profile ids, identifiers, traits), so
 * both expire.
 */
export const SegmentsConfig = z.strictObject({
  /**
   * Athena workgroup name (unique in the account and region). By default the stack's name in
   * lowercase (`mosaic` for the stack `Mosaic`): see {@link accountScopedNames}.
   */
  workGroupName: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" and "-", at most 128 characters')
    .optional(),
  /**
   * Most data one query may scan, in gigabytes (10^9 bytes): Athena cancels a query past it, which
   * bounds the cost of one preview or export. At least 0.01 (10 MB, Athena's minimum).
   */
  bytesScannedCutoffGb: z.number().min(0.01).max(1_000_000).default(100),
  /** Athena query results (preview results, the CSV an export copies), in the results bucket. */
  resultDays: days(365).default(7),
  /**
   * Export folders (members, audience file, changes). An export's added/removed compare with the
   * segment's previous export's members, so keep them longer than the time between two exports of
   * a segment; an export whose previous one has expired counts every member as added.
   */
  exportDays: days(3650).default(90),
});
export type SegmentsConfig = z.infer<typeof SegmentsConfig>;

/** The custom EventBridge bus that Mosaic publishes to (`source: "mosaic"`). */
export const BusConfig = z.strictObject({
  /**
   * Bus name (unique in the account and region). By default the stack's name in lowercase (`mosaic`
   * for the stack `Mosaic`): see {@link accountScopedNames}.
   */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,256}$/, 'letters, digits, ".", "_" and "-", at most 256 characters')
    .refine((name) => name !== 'default', { message: 'must not be "default" (the account\'s own bus)' })
    .optional(),
  /** How long the bus's archive keeps events for replay. */
  archiveDays: days(3650).default(7),
});
export type BusConfig = z.infer<typeof BusConfig>;

/**
 * Where the operational alarms notify: collector errors and throttling, lake landing (conversion,
 * delivery, freshness), resolver lag and errors, destination queues.
 */
export const AlarmsConfig = z.strictObject({
  /**
   * An existing standard SNS topic for the alarms (its policy and key must let CloudWatch alarms
   * publish); without it, the stack creates one — subscribe to it yourself.
   */
  topicArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
      'must be the ARN of a standard SNS topic',
    )
    .optional(),
});
export type AlarmsConfig = z.infer<typeof AlarmsConfig>;

/**
 * Activation's delivery plumbing (every destination's queue, dead-letter queue and alarms) and the
 * bucket large payloads travel through. What each destination receives is configured in
 * `destinations`.
 */
export const ActivationConfig = z.strictObject({
  /**
   * Receives of one message before SQS moves it to the destination's dead-letter queue. The delivery
   * function retries a failing destination itself (its retry policy, re-queueing with a delay), so
   * this only counts crashes, timeouts and throttled invocations: keep it above 1.
   */
  maxReceiveCount: z.number().int().min(2).max(100).default(5),
  /**
   * Alarm when a destination's oldest queued message is older than this many minutes: the
   * destination is not keeping up (down, throttled or too slow for its reserved concurrency).
   */
  oldestMessageAlarmMinutes: z.number().int().min(1).max(20_160).default(60),
  /**
   * Payloads over 256 KB sent to SQS and Lambda destinations as S3 pointers expire after this many
   * days. They hold personal data; the target must read them within this time.
   */
  payloadDays: days(30).default(3),
});
export type ActivationConfig = z.infer<typeof ActivationConfig>;

/**
 * `schema`, with unknown fields at any depth reported as errors (`Unrecognized key: "limt"`) although
 * `schema` itself drops them, as everywhere in the configuration: a misspelt field must not silently
 * fall back to its default. Used for the parts whose schemas live with the code that reads them.
 * `fallback` stands in for a missing value.
 */
function strictly<T extends z.ZodType>(schema: T, fallback?: unknown) {
  return z
    .unknown()
    .optional()
    .transform((input, ctx): z.infer<T> => {
      const value = input === undefined ? fallback : input;
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
        }
        return z.NEVER;
      }
      for (const { path, key } of unknownKeys(value, parsed.data)) {
        ctx.addIssue({ code: 'custom', path, message: `Unrecognized key: "${key}"` });
      }
      return parsed.data;
    });
}

/**
 * The deployment's configuration: the CDK context key `mosaic`. Only `sources` and `adminKeys` are
 * required; every other field has a default. Unknown fields are errors, so a typo cannot silently fall
 * back to a default.
 */
export const MosaicConfig = z
  .strictObject({
    /** Who may send events: sources and the SHA-256 hashes of their write keys. */
    sources: SourcesConfig,
    /**
     * Who may read profiles: holders and the SHA-256 hashes of their admin keys (never write keys), as
     * the Profile API's authorizer reads them (`AdminKeysConfig`).
     */
    adminKeys: strictly(AdminKeysConfig),
    /** Identifier types, priorities, limits and blocked values of identity resolution (`IdentityConfig`). */
    identity: strictly(IdentityConfig, {}),
    resolver: ResolverConfig.prefault({}),
    bus: BusConfig.prefault({}),
    alarms: AlarmsConfig.prefault({}),
    /** Overrides of the collector limits; Segment's limits otherwise. */
    limits: CollectorLimits.strict().prefault({}),
    throttle: ThrottleConfig.prefault({}),
    retention: RetentionConfig.prefault({}),
    firehose: FirehoseConfig.prefault({}),
    lake: LakeConfig.prefault({}),
    segments: SegmentsConfig.prefault({}),
    /**
     * Where audiences go (`DestinationsConfig` of `src/core/activation/destination-config.ts`, the
     * same JSON the local runtime reads from `MOSAIC_DESTINATIONS`): `{ destinations: [...],
     * defaultPhoneCountry }`. None by default. Each enabled destination gets its own rule, queue,
     * dead-letter queue and delivery function.
     */
    destinations: strictly(DestinationsConfig, {}),
    activation: ActivationConfig.prefault({}),
    /**
     * What happens to stateful resources (stream, lake, keys, logs) when the stack is deleted. `retain`
     * keeps the data; `destroy` deletes it, objects included — for test deployments only.
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  })
  .superRefine((config, ctx) => {
    if (config.resolver.maxRecordAgeHours > config.retention.streamHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['resolver', 'maxRecordAgeHours'],
        message: `must not exceed retention.streamHours (${config.retention.streamHours}): the stream drops older records before the resolver could hand them to the failure bucket`,
      });
    }
    // A destination may receive only identifier types identity resolution knows.
    const identifierTypes = new Set(config.identity.types.map((type) => type.name));
    config.destinations.destinations.forEach((destination, d) => {
      // Locally 1 means one delivery at a time; on AWS an SQS event source polls with two at least,
      // so a function allowed one would be throttled, and each throttled poll counts a receive
      // towards the dead-letter queue: messages would end there without a delivery failing.
      if (destination.reservedConcurrency < 2)
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', 'destinations', d, 'reservedConcurrency'],
          message:
            'must be at least 2 on AWS: an SQS event source runs two pollers at least, and a throttled poll counts a receive towards the dead-letter queue',
        });
      destination.fields.identifiers.forEach((field, f) => {
        if (!identifierTypes.has(field.type))
          ctx.addIssue({
            code: 'custom',
            path: ['destinations', 'destinations', d, 'fields', 'identifiers', f, 'type'],
            message: `"${field.type}" is not a configured identifier type (${[...identifierTypes].join(', ')})`,
          });
      });
    });
    // A write key is public (it ships in web pages); it must never also open the Profile API.
    const writeKeys = new Set(config.sources.flatMap((source) => source.keys.map((key) => key.sha256)));
    config.adminKeys.forEach((holder, i) => {
      holder.keyHashes.forEach((hash, h) => {
        if (writeKeys.has(hash))
          ctx.addIssue({
            code: 'custom',
            path: ['adminKeys', i, 'keyHashes', h],
            message: 'is also a source write key: admin keys must be separate keys, never a write key',
          });
      });
    });
  });
export type MosaicConfig = z.infer<typeof MosaicConfig>;

/**
 * Validates a configuration value, failing with every offending field named by its path
 * (`mosaic.retention.streamHours: ...`). A string is read as JSON (`cdk synth -c mosaic='{...}'`).
 */
export function parseConfig(value: unknown): MosaicConfig {
  let input = value;
  if (input === undefined) {
    throw new ConfigError(
      `Missing CDK context "${CONFIG_CONTEXT_KEY}": add it to cdk.json (see the example there) with at least "sources" and "adminKeys".`,
    );
  }
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch (cause) {
      throw new ConfigError(`Invalid CDK context "${CONFIG_CONTEXT_KEY}": not valid JSON`, { cause });
    }
  }
  const parsed = MosaicConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid CDK context "${CONFIG_CONTEXT_KEY}":\n  ${problems.join('\n  ')}`);
}

/** Reads and validates the `mosaic` context visible from `scope` (normally the app). */
export function readConfig(scope: IConstruct): MosaicConfig {
  return parseConfig(scope.node.tryGetContext(CONFIG_CONTEXT_KEY));
}

/**
 * The keys of `input` (at any depth, arrays included) that a schema dropped from `output`: unknown
 * fields. `output` is what the schema made of `input`, so every known key is in it (with defaults).
 */
function unknownKeys(
  input: unknown,
  output: unknown,
  path: PropertyKey[] = [],
): Array<{ path: PropertyKey[]; key: string }> {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((item, i) => unknownKeys(item, output[i], [...path, i]));
  }
  if (!isPlainObject(input) || !isPlainObject(output)) return [];
  return Object.keys(input).flatMap((key) =>
    Object.hasOwn(output, key)
      ? unknownKeys(input[key], output[key], [...path, key])
      : [{ path: [...path, key], key }],
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The names of the resources whose names must be unique in the account and region. */
export interface AccountScopedNames {
  readonly databaseName: string;
  readonly workGroupName: string;
  readonly busName: string;
}

/**
 * The Glue database, Athena workgroup and EventBridge bus names of the stack `stackName`: as
 * configured, or else derived from the stack name, which CloudFormation already keeps unique in the
 * account and region — so two Mosaic stacks there (`MosaicDev`, `MosaicProd`) never claim the same
 * names, and the stack `Mosaic` keeps the names `mosaic` it always had. Glue names are lowercase, so
 * two stack names that differ only in case would still meet: name one of them in the configuration.
 */
export function accountScopedNames(
  config: Pick<MosaicConfig, 'lake' | 'segments' | 'bus'>,
  stackName: string,
): AccountScopedNames {
  const derived = stackName.toLowerCase();
  const names = {
    databaseName: config.lake.databaseName ?? derived.replaceAll('-', '_'),
    workGroupName: config.segments.workGroupName ?? derived,
    busName: config.bus.name ?? derived,
  };
  if (names.busName === 'default') {
    throw new ConfigError(
      `The stack "${stackName}" would name its bus "default", the account's own bus: set ${CONFIG_CONTEXT_KEY}.bus.name.`,
    );
  }
  return names;
}

/** The CDK removal policy for a configured `removalPolicy`. */
export function removalPolicyOf(config: Pick<MosaicConfig, 'removalPolicy'>): RemovalPolicy {
  return config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
