import { z } from 'zod';
import { ConfigError } from '../errors';
import { isKnownPhoneCountry, NORMALIZERS } from './normalize';
import { checkRecordPath } from './record-path';

/**
 * Values that are never identifiers, whatever their type (compared trimmed and case-insensitively):
 * the placeholders that SDKs and forms send when they have nothing (`String(undefined)`,
 * `String({})`, `-1`, ...). Empty and whitespace-only values are never identifiers either, without
 * being listed here.
 */
export const DEFAULT_BLOCKED_VALUES: readonly string[] = [
  'null',
  'undefined',
  'anonymous',
  '[object Object]',
  'NaN',
  'none',
  '0',
  '-1',
];

/** Patterns of values that are never identifiers: only zeros and dashes (`000-000`, `--`). */
export const DEFAULT_BLOCKED_PATTERNS: readonly string[] = ['^[0-]*$'];

/**
 * Most identifiers one profile may hold, all types together (the sum of the per-type limits). It
 * bounds the profile's `identities` and `mergedFrom` lists (see `src/core/profile/size.ts`).
 */
export const MAX_IDENTIFIERS_PER_PROFILE = 200;

/**
 * Most bytes a profile's `identities` list may take as JSON when every type is at its limit with
 * values at their longest; part of the profile's size budget.
 */
export const IDENTITY_BUDGET_BYTES = 24 * 1024;

/** JSON around one identity in a profile's list: `{"type":"","value":""},`. */
const IDENTITY_ENTRY_OVERHEAD = 23;

/** The names that the Profile API uses itself: no identifier type may take them. */
const RESERVED_TYPE_NAMES = new Set(['profile_id']);

const RegexSource = z
  .string()
  .min(1)
  .max(500)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, 'iu');
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `not a valid regular expression: ${(error as Error).message}`,
      });
    }
  });

/**
 * Values that are never identifiers. `values` are compared with the trimmed value case-insensitively;
 * `patterns` are regular expressions (JavaScript syntax, tested case-insensitively) that block a value
 * if they match the trimmed value or its normalised form.
 */
export const BlockedValues = z.object({
  values: z.array(z.string().max(512)).max(1000).default([]),
  patterns: z.array(RegexSource).max(100).default([]),
});
export type BlockedValues = z.infer<typeof BlockedValues>;

/** The blocklist for every type: the defaults (unless `includeDefaults` is false) plus these. */
export const GlobalBlockedValues = BlockedValues.extend({
  includeDefaults: z.boolean().default(true),
});
export type GlobalBlockedValues = z.infer<typeof GlobalBlockedValues>;

const RecordPath = z.string().superRefine((path, ctx) => {
  const problem = checkRecordPath(path);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid path "${path}": ${problem}` });
});

/**
 * One kind of identifier: where its values are read from a stream record, how they are normalised,
 * how much it is trusted (`priority`), and how many of it one profile may hold (`limit`).
 */
export const IdentifierTypeConfig = z
  .object({
    /** `user_id`, `email`, ...: the `{type}` of `GET /v1/profiles/{type}:{value}`. */
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]{0,31}$/,
        'lowercase letters, digits and "_", starting with a letter, at most 32',
      )
      .refine((name) => !RESERVED_TYPE_NAMES.has(name), { message: 'is reserved by the Profile API' }),
    /**
     * Dot paths into the stream record: `userId`, `anonymousId`, `previousId`, `traits.email`,
     * `context.traits.email`, `context.device.id`, or any custom path. A string or number there is a
     * value; anything else is reported as invalid. Paths under `traits.` are read from every call
     * except `group`, whose `traits` describe the group, not the person.
     */
    paths: z.array(RecordPath).max(16).default([]),
    /**
     * Entries of the Segment `context.externalIds` list (`[{ id, type, collection, encoding }]`)
     * whose `type` is one of these (exact match) give values of this identifier type.
     */
    externalIdTypes: z.array(z.string().min(1).max(64)).max(16).default([]),
    normalize: z.enum(NORMALIZERS).default('trim'),
    /**
     * Trust when identifiers conflict: higher is kept. Merge protection drops the lower-priority
     * identifiers of an event first; equal priorities are ordered by type name.
     */
    priority: z.number().int().min(0).max(1_000_000).default(50),
    /** Most identifiers of this type one profile may hold; a merge or link beyond it does not happen. */
    limit: z.number().int().min(1).max(MAX_IDENTIFIERS_PER_PROFILE).default(5),
    /**
     * Longest value, in bytes of its JSON string form without the quotes (UTF-8, escapes counted): a
     * longer value is reported as too long and is not an identifier. It bounds keys in the store and
     * the profile.
     */
    maxLength: z.number().int().min(1).max(1024).default(512),
    /** Values blocked for this type only, on top of the global blocklist. */
    blocked: BlockedValues.prefault({}),
  })
  .refine((type) => type.paths.length + type.externalIdTypes.length > 0, {
    message: 'needs at least one path or externalIdTypes entry to read values from',
    path: ['paths'],
  });
export type IdentifierTypeConfig = z.infer<typeof IdentifierTypeConfig>;
/** An identifier type as written in configuration, before defaults are filled in. */
export type IdentifierTypeConfigInput = z.input<typeof IdentifierTypeConfig>;

/**
 * The default identifier types. `previousId` (from `alias`) is read as an anonymous id: the common
 * use of alias is to tie the anonymous id a visitor had to the user id they got. Aliasing one user id
 * to another meets merge protection (`user_id` limit 1) and does not merge.
 */
export const DEFAULT_IDENTIFIER_TYPES: readonly IdentifierTypeConfigInput[] = [
  { name: 'user_id', paths: ['userId'], priority: 100, limit: 1, maxLength: 512 },
  {
    name: 'email',
    paths: ['traits.email', 'context.traits.email'],
    externalIdTypes: ['email'],
    normalize: 'email',
    priority: 80,
    limit: 5,
    // RFC 5321 caps an address at 254 octets; the JSON escapes of a few characters allow a little more.
    maxLength: 320,
  },
  {
    name: 'phone',
    paths: ['traits.phone', 'context.traits.phone'],
    externalIdTypes: ['phone'],
    normalize: 'phone',
    priority: 70,
    limit: 5,
    // E.164: `+` and at most 15 digits.
    maxLength: 16,
  },
  { name: 'device_id', paths: ['context.device.id'], priority: 40, limit: 5, maxLength: 128 },
  {
    name: 'anonymous_id',
    paths: ['anonymousId', 'previousId'],
    priority: 10,
    limit: 100,
    // SDKs send UUIDs (36 characters); 128 bytes keeps 100 of them per profile well inside the budget.
    maxLength: 128,
  },
];

/**
 * Identity resolution configuration (DESIGN.md "Identity resolution rules"). Parse it with
 * {@link parseIdentityConfig} to get errors that name the offending path.
 */
export const IdentityConfig = z
  .object({
    types: z.array(IdentifierTypeConfig).min(1).max(32).prefault(DEFAULT_IDENTIFIER_TYPES.slice()),
    blocked: GlobalBlockedValues.prefault({}),
    /** ISO 3166-1 alpha-2 country (`US`, `GB`) for phone numbers written without a country code. */
    defaultPhoneCountry: z
      .string()
      .refine(isKnownPhoneCountry, { message: 'not a country code the phone library knows (e.g. "US")' })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const names = new Map<string, number>();
    const paths = new Map<string, string>();
    const externalIdTypes = new Map<string, string>();
    let totalLimit = 0;
    let identityBytes = 0;
    config.types.forEach((type, i) => {
      if (names.has(type.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['types', i, 'name'],
          message: `duplicate type "${type.name}"`,
        });
      }
      names.set(type.name, i);
      type.paths.forEach((path, p) => {
        const owner = paths.get(path);
        if (owner !== undefined && owner !== type.name) {
          ctx.addIssue({
            code: 'custom',
            path: ['types', i, 'paths', p],
            message: `path "${path}" is already read by type "${owner}"`,
          });
        }
        paths.set(path, type.name);
      });
      type.externalIdTypes.forEach((external, e) => {
        const owner = externalIdTypes.get(external);
        if (owner !== undefined && owner !== type.name) {
          ctx.addIssue({
            code: 'custom',
            path: ['types', i, 'externalIdTypes', e],
            message: `external id type "${external}" is already read by type "${owner}"`,
          });
        }
        externalIdTypes.set(external, type.name);
      });
      totalLimit += type.limit;
      identityBytes += type.limit * identityEntryBytes(type);
    });
    if (totalLimit > MAX_IDENTIFIERS_PER_PROFILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['types'],
        message: `the per-profile limits add up to ${totalLimit}; at most ${MAX_IDENTIFIERS_PER_PROFILE} keep a profile within its size budget`,
      });
    }
    if (identityBytes > IDENTITY_BUDGET_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['types'],
        message: `a profile at every limit with the longest values would hold ${identityBytes} bytes of identifiers; at most ${IDENTITY_BUDGET_BYTES} (lower a limit or a maxLength)`,
      });
    }
  });
export type IdentityConfig = z.infer<typeof IdentityConfig>;
/** Identity configuration as written, before defaults are filled in. */
export type IdentityConfigInput = z.input<typeof IdentityConfig>;

/** Most bytes one identity of this type takes in a profile's `identities` list. */
export function identityEntryBytes(type: Pick<IdentifierTypeConfig, 'name' | 'maxLength'>): number {
  return IDENTITY_ENTRY_OVERHEAD + type.name.length + type.maxLength;
}

/**
 * Validates identity configuration (given, never read here) and fills in defaults; fails fast with
 * every problem named by its path (`types.2.blocked.patterns.0: not a valid regular expression ...`).
 */
export function parseIdentityConfig(input: unknown): IdentityConfig {
  const parsed = IdentityConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(identity config)'}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid identity configuration: ${problems.join('; ')}`);
}

/** The defaults of the issue: user_id, email, phone, device_id and anonymous_id with their limits. */
export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = parseIdentityConfig({});
