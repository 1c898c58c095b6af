import { z } from 'zod';
import { ConfigError } from '../errors';
import { isKnownPhoneCountry } from '../identity/normalize';
import type { RetryPolicy } from '../retry-policy';
import { CONSENT_CATEGORY, SEGMENT_ID } from '../segments/names';
import { destinationRulePattern, MAX_RULE_PATTERN_CHARS } from './routing';
import { checkTemplate, type PlaceholderKind } from './template';

/**
 * Destinations (issue #5): where audiences go, what of each member they receive and under which
 * consent. Parse configuration with {@link parseDestinationsConfig}: every problem is named by its
 * path (`destinations.2.fields.identifiers.0.pii: ...`).
 *
 * Secrets are never in configuration: `secretRef` is the *name* of a secret (AWS Secrets Manager
 * locally mirrored by a file or environment variable), resolved by the delivery adapter. Objects are
 * strict, so a `password` or `apiKey` value written into configuration is refused, not ignored.
 */

/** A destination's name, as `POST /v1/segments/{id}/exports` `{ destination }` takes it. */
export const DESTINATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A secret's name (AWS Secrets Manager's characters, no spaces) or its ARN (with `:`). */
export const SECRET_REF = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
/** Identifier types, as the identity configuration names them. */
export const IDENTIFIER_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
/** Top-level trait names a destination may receive (the audience file's column names). */
export const TRAIT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Members per batch when a destination does not say. */
export const DEFAULT_BATCH_SIZE = 1000;
/** Most members per batch. */
export const MAX_BATCH_SIZE = 10_000;
/** Most destinations in one configuration (each has its own rule, queue and function). */
export const MAX_DESTINATIONS = 100;

/**
 * How long a `Retry-After` may hold a delivery back: 15 minutes, the longest SQS can delay a message
 * (the delivery function re-queues with a delay rather than sleeping).
 */
export const MAX_RETRY_AFTER_MS = 15 * 60 * 1000;

/** Retry policy of a destination's deliveries (a failed batch goes to the DLQ after `maxAttempts`). */
export interface DeliveryRetryPolicy extends RetryPolicy {
  /** The longest `Retry-After` honoured; a longer one is cut to this. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60 * 1000,
  maxRetryAfterMs: MAX_RETRY_AFTER_MS,
};

/** PII policy of one field: sent as it is, as the SHA-256 of its normalised value, or not at all. */
export const PII_POLICIES = ['raw', 'sha256', 'omit'] as const;
export const PiiPolicy = z.enum(PII_POLICIES);
export type PiiPolicy = z.infer<typeof PiiPolicy>;

/** How a value is normalised before it is hashed (`email`: trim + lowercase; `phone`: E.164 digits). */
export const HASH_NORMALIZERS = ['email', 'phone', 'trim'] as const;
export const HashNormalizer = z.enum(HASH_NORMALIZERS);
export type HashNormalizer = z.infer<typeof HashNormalizer>;

const SecretRef = z
  .string()
  .regex(SECRET_REF, 'a secret name or ARN (letters, digits and /_+=.@:-), never its value');

export const IdentifierField = z.strictObject({
  /** A configured identifier type (`email`, `phone`, `user_id`, ...). */
  type: z.string().regex(IDENTIFIER_TYPE, 'an identifier type: lowercase letters, digits and _'),
  pii: PiiPolicy,
  /** Normaliser before hashing; default: the identifier type's own (`email`, `phone`), else `trim`. */
  normalize: HashNormalizer.optional(),
});
export type IdentifierField = z.infer<typeof IdentifierField>;

export const TraitField = z.strictObject({
  name: z.string().regex(TRAIT_NAME, 'a top-level trait name: letters, digits and _, at most 64'),
  pii: PiiPolicy,
  /**
   * Normaliser before hashing; default `email` for a trait called `email`, `phone` for `phone`,
   * else `trim`.
   */
  normalize: HashNormalizer.optional(),
});
export type TraitField = z.infer<typeof TraitField>;

/** The identifiers and traits a destination receives, each with its PII policy. */
export const DestinationFields = z.strictObject({
  identifiers: z.array(IdentifierField).max(50).default([]),
  traits: z.array(TraitField).max(50).default([]),
});
export type DestinationFields = z.infer<typeof DestinationFields>;

/**
 * The consent a member needs. `category` is a consent category as profiles hold it
 * (`context.consent.categoryPreferences`), or `null` to say explicitly that none applies.
 * `required: true` (opt-in, the default): only a member who granted the category is sent.
 * `required: false` (opt-out): everyone but those who denied it — except on ad-type destinations,
 * which always fail closed when consent is unknown.
 */
export const DestinationConsent = z.strictObject({
  category: z.union([
    z.string().regex(CONSENT_CATEGORY, 'a consent category: letters, digits and _, at most 64'),
    z.null(),
  ]),
  required: z.boolean().default(true),
});
export type DestinationConsent = z.infer<typeof DestinationConsent>;

export const RetryOverrides = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(100).optional(),
    baseDelayMs: z.number().int().min(1).max(MAX_RETRY_AFTER_MS).optional(),
    maxDelayMs: z.number().int().min(1).max(MAX_RETRY_AFTER_MS).optional(),
    maxRetryAfterMs: z.number().int().min(0).max(MAX_RETRY_AFTER_MS).optional(),
  })
  .refine((r) => r.baseDelayMs === undefined || r.maxDelayMs === undefined || r.baseDelayMs <= r.maxDelayMs, {
    message: 'baseDelayMs must not exceed maxDelayMs',
    path: ['baseDelayMs'],
  });
export type RetryOverrides = z.infer<typeof RetryOverrides>;

const common = {
  name: z.string().regex(DESTINATION_NAME, 'a destination name: letters, digits, _ and -, at most 64'),
  description: z.string().max(500).optional(),
  enabled: z.boolean().default(true),
  /** Segment ids whose exports and membership changes this destination receives. */
  segments: z
    .array(z.string().regex(SEGMENT_ID, 'a segment id: letters, digits, _ and -, at most 64'))
    .min(1)
    .max(100),
  fields: DestinationFields.prefault({}),
  consent: DestinationConsent,
  /** An advertising destination (custom audiences, match lists): consent unknown means not sent. */
  adType: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE).default(DEFAULT_BATCH_SIZE),
  retry: RetryOverrides.optional(),
  /** Reserved concurrency of the destination's delivery function (its isolation from the others). */
  reservedConcurrency: z.number().int().min(1).max(100).default(2),
};

/** Loopback hosts that may be reached over plain http (local receivers, tests). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const WebhookUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL' });
    return;
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must be https (http only for localhost or 127.0.0.1)' });
  } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: 'must be https' });
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not hold credentials: use auth with a secretRef' });
  }
  if (url.hash !== '') ctx.addIssue({ code: 'custom', message: 'must not have a #fragment' });
});

/** HTTP header names (RFC 9110 token characters). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** Headers the delivery sets itself, which auth may not replace. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'mosaic-signature',
]);

export const WebhookAuth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('api_key'),
    header: z
      .string()
      .regex(HEADER_NAME, 'an HTTP header name')
      .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), { message: 'is set by the delivery itself' }),
    secretRef: SecretRef,
  }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1).max(256), secretRef: SecretRef }),
  z.strictObject({
    type: z.literal('oauth_client_credentials'),
    tokenUrl: WebhookUrl,
    clientId: z.string().min(1).max(256),
    secretRef: SecretRef,
    scope: z.string().min(1).max(1000).optional(),
  }),
]);
export type WebhookAuth = z.infer<typeof WebhookAuth>;

/** A payload template (see `template.ts`): the batch's JSON, and optionally each member's. */
export const PayloadTemplate = z.strictObject({
  /** The request body; must use `{{members}}` once. */
  body: z.json(),
  /** Each member's JSON inside `{{members}}`; default the member as PII policy leaves it. */
  member: z.json().optional(),
});
export type PayloadTemplate = z.infer<typeof PayloadTemplate>;

export const WebhookDestination = z.strictObject({
  kind: z.literal('webhook'),
  ...common,
  url: WebhookUrl,
  method: z.enum(['POST', 'PUT']).default('POST'),
  auth: WebhookAuth,
  /** Requests per second at most (the delivery function's own pacing). */
  rateLimitPerSecond: z.number().positive().max(10_000).default(10),
  /** Secret used to sign each request (`Mosaic-Signature`); unsigned without it. */
  signingSecretRef: SecretRef.optional(),
  /** Request timeout. */
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  payload: PayloadTemplate.optional(),
});
export type WebhookDestination = z.infer<typeof WebhookDestination>;

const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const QUEUE_URL = /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const FUNCTION_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/;
/** S3 bucket names (general purpose): 3–63 lowercase letters, digits, dots and hyphens. */
const BUCKET = /^(?!xn--)(?!.*\.\.)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A key prefix: safe characters, `/`-separated, no empty, `.` or `..` parts, ends with `/` or nothing. */
const KEY_PREFIX = /^(?:(?!\.{1,2}\/)[A-Za-z0-9!_.*'()=-]+\/){0,10}$/;

export const SqsDestination = z.strictObject({
  kind: z.literal('sqs'),
  ...common,
  /** The queue's ARN or URL. */
  queue: z.string().refine((q) => QUEUE_ARN.test(q) || QUEUE_URL.test(q), {
    message: 'an SQS queue ARN (arn:aws:sqs:region:account:name) or URL',
  }),
  payload: PayloadTemplate.optional(),
});
export type SqsDestination = z.infer<typeof SqsDestination>;

export const LambdaDestination = z.strictObject({
  kind: z.literal('lambda'),
  ...common,
  functionArn: z
    .string()
    .regex(FUNCTION_ARN, 'a Lambda function ARN (arn:aws:lambda:region:account:function:name)'),
  payload: PayloadTemplate.optional(),
});
export type LambdaDestination = z.infer<typeof LambdaDestination>;

/**
 * A column of a file drop: its header and the member value in it (`profileId`, `identifiers.x`,
 * `traits.y`).
 */
export const CsvColumn = z.strictObject({
  header: z.string().min(1).max(128),
  value: z.string().min(1).max(200),
});
export type CsvColumn = z.infer<typeof CsvColumn>;

export const S3Destination = z.strictObject({
  kind: z.literal('s3'),
  ...common,
  bucket: z.string().regex(BUCKET, 'an S3 bucket name'),
  /** Key prefix of the files (`direct-mail/`); empty for the bucket's root. */
  prefix: z
    .string()
    .max(512)
    .regex(KEY_PREFIX, 'a key prefix: safe characters, parts ending in /')
    .default(''),
  /** The CSV file's columns, in order (direct mail, print). */
  csv: z.strictObject({ columns: z.array(CsvColumn).min(1).max(100) }),
});
export type S3Destination = z.infer<typeof S3Destination>;

export const Destination = z
  .discriminatedUnion('kind', [WebhookDestination, SqsDestination, LambdaDestination, S3Destination])
  .superRefine(checkDestination);
export type Destination = z.infer<typeof Destination>;
export type DestinationInput = z.input<typeof Destination>;
export type DestinationKind = Destination['kind'];

export const DestinationsConfig = z
  .strictObject({
    destinations: z.array(Destination).max(MAX_DESTINATIONS).default([]),
    /** Country for phone numbers without a country code when hashing (ISO 3166-1 alpha-2). */
    defaultPhoneCountry: z
      .string()
      .refine(isKnownPhoneCountry, { message: 'not a country code the phone library knows (e.g. "US")' })
      .default('US'),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.destinations.forEach((destination, i) => {
      const key = destination.name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', i, 'name'],
          message: `"${destination.name}" is already the name of destinations.${first} (names are case-insensitive)`,
        });
      } else seen.set(key, i);
    });
  });
export type DestinationsConfig = z.infer<typeof DestinationsConfig>;
export type DestinationsConfigInput = z.input<typeof DestinationsConfig>;

/** What parsing needs to know beyond the configuration itself. */
export interface DestinationsConfigContext {
  /** The configured identifier types; a field naming another type is refused. */
  readonly identifierTypes?: readonly string[];
}

/**
 * Validates destinations configuration (given, never read here) and fills in defaults; throws a
 * {@link ConfigError} naming every problem by its path.
 */
export function parseDestinationsConfig(
  input: unknown,
  context: DestinationsConfigContext = {},
): DestinationsConfig {
  const parsed = DestinationsConfig.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(destinations config)'}: ${issue.message}`,
      );
  if (parsed.success && context.identifierTypes !== undefined) {
    const known = new Set(context.identifierTypes);
    parsed.data.destinations.forEach((destination, d) => {
      destination.fields.identifiers.forEach((field, f) => {
        if (!known.has(field.type)) {
          problems.push(
            `destinations.${d}.fields.identifiers.${f}.type: "${field.type}" is not a configured identifier type (${[...known].join(', ')})`,
          );
        }
      });
    });
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`Invalid destinations configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** A destination's retry policy: the defaults with its overrides. */
export function retryPolicyOf(destination: Pick<Destination, 'retry'>): DeliveryRetryPolicy {
  const merged = { ...DEFAULT_DELIVERY_RETRY };
  for (const [key, value] of Object.entries(destination.retry ?? {})) {
    if (value !== undefined) (merged as Record<string, number>)[key] = value;
  }
  return { ...merged, maxDelayMs: Math.max(merged.maxDelayMs, merged.baseDelayMs) };
}

/** The identifier types and traits an export for this destination must hold (omitted fields are not read). */
export function exportColumnsOf(destination: Pick<Destination, 'fields'>): {
  identifiers: string[];
  traits: string[];
} {
  return {
    identifiers: destination.fields.identifiers.filter((f) => f.pii !== 'omit').map((f) => f.type),
    traits: destination.fields.traits.filter((f) => f.pii !== 'omit').map((f) => f.name),
  };
}

/**
 * The columns each configured destination receives, by name (the Segments API's `destinationColumns`:
 * an export naming a destination carries them); `undefined` for a name that is not configured.
 */
export function destinationColumnsByName(
  destinations: readonly Pick<Destination, 'name' | 'fields'>[],
): (name: string) => { identifiers: string[]; traits: string[] } | undefined {
  return (name) => {
    const destination = destinations.find((d) => d.name === name);
    return destination === undefined ? undefined : exportColumnsOf(destination);
  };
}

/**
 * The placeholders of a member template, or of a CSV column's `value`: `profileId` and each field the
 * destination receives (not omitted), as `identifiers.<type>` and `traits.<name>`.
 */
export function memberPlaceholders(fields: DestinationFields): Map<string, PlaceholderKind> {
  const names = new Map<string, PlaceholderKind>([['profileId', 'scalar']]);
  for (const f of fields.identifiers) if (f.pii !== 'omit') names.set(`identifiers.${f.type}`, 'scalar');
  for (const f of fields.traits) if (f.pii !== 'omit') names.set(`traits.${f.name}`, 'scalar');
  return names;
}

/** The placeholders of a batch (body) template. */
export const BATCH_PLACEHOLDERS: ReadonlyMap<string, PlaceholderKind> = new Map<string, PlaceholderKind>([
  ['exportId', 'scalar'],
  ['segmentId', 'scalar'],
  ['destination', 'scalar'],
  ['idempotencyKey', 'scalar'],
  ['batch.index', 'scalar'],
  ['batch.total', 'scalar'],
  ['batch.size', 'scalar'],
  ['members', 'any'],
]);

type DestinationShape = z.infer<
  typeof WebhookDestination | typeof SqsDestination | typeof LambdaDestination | typeof S3Destination
>;

function checkDestination(destination: DestinationShape, ctx: z.RefinementCtx): void {
  if (destination.adType && destination.consent.category === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['consent', 'category'],
      message: 'an ad-type destination needs a consent category (it fails closed without one)',
    });
  }
  // An issue at `list[i]` (then `field`, for lists of objects) for each value listed twice.
  const listedTwice = (list: readonly string[], field?: string) => (i: number, value: string) =>
    ctx.addIssue({
      code: 'custom',
      path: field === undefined ? [...list, i] : [...list, i, field],
      message: `"${value}" is listed twice`,
    });
  duplicates(destination.segments, listedTwice(['segments']));
  // Its EventBridge rule names every segment id three times (see `destinationRulePattern`). Checked for
  // disabled destinations too, so that enabling one never breaks a deploy.
  const patternChars = JSON.stringify(destinationRulePattern(destination)).length;
  if (patternChars > MAX_RULE_PATTERN_CHARS) {
    ctx.addIssue({
      code: 'custom',
      path: ['segments'],
      message: `too many segment ids for one EventBridge rule: its pattern would have ${patternChars} characters, at most ${MAX_RULE_PATTERN_CHARS}; split them over two destinations`,
    });
  }
  duplicates(
    destination.fields.identifiers.map((f) => f.type),
    listedTwice(['fields', 'identifiers'], 'type'),
  );
  duplicates(
    destination.fields.traits.map((f) => f.name),
    listedTwice(['fields', 'traits'], 'name'),
  );
  if (
    destination.kind === 'webhook' &&
    destination.url.startsWith('http:') &&
    destination.auth.type !== 'none'
  ) {
    ctx.addIssue({ code: 'custom', path: ['auth'], message: 'credentials are only sent over https' });
  }
  const member = memberPlaceholders(destination.fields);
  if (destination.kind === 's3') {
    destination.csv.columns.forEach((column, i) => {
      if (!member.has(column.value)) {
        ctx.addIssue({
          code: 'custom',
          path: ['csv', 'columns', i, 'value'],
          message: `"${column.value}" is not a field this destination receives (${[...member.keys()].join(', ')})`,
        });
      }
    });
    duplicates(
      destination.csv.columns.map((c) => c.header),
      (i, value) =>
        ctx.addIssue({
          code: 'custom',
          path: ['csv', 'columns', i, 'header'],
          message: `"${value}" is listed twice`,
        }),
    );
    return;
  }
  if (destination.payload === undefined) return;
  for (const problem of checkTemplate(destination.payload.body, BATCH_PLACEHOLDERS, ['members'])) {
    ctx.addIssue({ code: 'custom', path: ['payload', 'body', ...problem.path], message: problem.message });
  }
  if (destination.payload.member !== undefined) {
    for (const problem of checkTemplate(destination.payload.member, member)) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', 'member', ...problem.path],
        message: problem.message,
      });
    }
  }
}

function duplicates(values: readonly string[], report: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (seen.has(value)) report(i, value);
    seen.add(value);
  });
}
