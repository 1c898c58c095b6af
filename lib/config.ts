import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { CollectorLimits } from '../src/core/config/limits';
import { SourcesConfig } from '../src/core/config/sources';
import { ConfigError } from '../src/core/errors';

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
  /** S3 server access logs of the lake bucket. */
  accessLogDays: days(3650).default(90),
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
  /** Glue database name; change it to deploy more than one Mosaic into one account and region. */
  databaseName: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,254}$/, 'lowercase letters, digits and "_", starting with a letter')
    .default('mosaic'),
  /** First day of the `dt` partition projection (`YYYY-MM-DD`); queries see days from it to now. */
  partitionStartDate: z.iso.date('must be a date written YYYY-MM-DD').default('2025-01-01'),
});
export type LakeConfig = z.infer<typeof LakeConfig>;

/**
 * The deployment's configuration: the CDK context key `mosaic`. Only `sources` is required; every
 * other field has a default. Unknown fields are errors, so a typo cannot silently fall back to a default.
 */
export const MosaicConfig = z.strictObject({
  /** Who may send events: sources and the SHA-256 hashes of their write keys. */
  sources: SourcesConfig,
  /** Overrides of the collector limits; Segment's limits otherwise. */
  limits: CollectorLimits.strict().prefault({}),
  throttle: ThrottleConfig.prefault({}),
  retention: RetentionConfig.prefault({}),
  firehose: FirehoseConfig.prefault({}),
  lake: LakeConfig.prefault({}),
  /**
   * What happens to stateful resources (stream, lake, keys, logs) when the stack is deleted. `retain`
   * keeps the data; `destroy` deletes it, objects included — for test deployments only.
   */
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
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
      `Missing CDK context "${CONFIG_CONTEXT_KEY}": add it to cdk.json (see the example there) with at least "sources".`,
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

/** The CDK removal policy for a configured `removalPolicy`. */
export function removalPolicyOf(config: Pick<MosaicConfig, 'removalPolicy'>): RemovalPolicy {
  return config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
