import { createHash } from 'node:crypto';
import type { IdentifierTypeConfig } from '../identity/identity-config';
import { normalizeValue } from '../identity/normalize';
import type { JsonValue } from '../profile/profile';
import type { DestinationFields, HashNormalizer, PiiPolicy } from './destination-config';

/**
 * PII on the way out (DESIGN.md "Privacy by design"): each field a destination receives is sent raw,
 * as the SHA-256 (lowercase hex) of its normalised value, or not at all. Normalisation is the identity
 * resolver's own (`src/core/identity/normalize.ts`), so a hash matches what ad platforms compute:
 * - email: trimmed and lowercased (`John_Smith@gmail.com` → `john_smith@gmail.com`);
 * - phone: E.164 without the `+`, i.e. digits only (`(650)555-1212` with default country US →
 *   `16505551212`);
 * - trim: surrounding whitespace removed.
 * A value that does not normalise (not an address, not a valid number, not text) is not hashed: the
 * field is left out of that member, and counted, never sent raw by mistake.
 */

/** SHA-256 of UTF-8 text, lowercase hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Options of normalisation before hashing. */
export interface HashOptions {
  /** ISO 3166-1 alpha-2 country for phone numbers written without a country code. Default `US`. */
  readonly defaultPhoneCountry?: string;
}

export const DEFAULT_PHONE_COUNTRY = 'US';

/**
 * The text that is hashed for a value: normalised by `normalizer` (email: trim + lowercase; phone:
 * E.164 digits without `+`; trim). `undefined` when the value does not normalise.
 */
export function normalizeForHash(
  normalizer: HashNormalizer,
  value: string | number | boolean,
  options: HashOptions = {},
): string | undefined {
  const trimmed = String(value).trim();
  if (trimmed === '') return undefined;
  const normalized = normalizeValue(normalizer, trimmed, {
    defaultPhoneCountry: options.defaultPhoneCountry ?? DEFAULT_PHONE_COUNTRY,
  });
  if (!normalized.ok) return undefined;
  return normalizer === 'phone' ? normalized.value.replace(/^\+/, '') : normalized.value;
}

/** SHA-256 hex of a normalised value; `undefined` when it does not normalise. */
export function hashValue(
  normalizer: HashNormalizer,
  value: string | number | boolean,
  options: HashOptions = {},
): string | undefined {
  const normalized = normalizeForHash(normalizer, value, options);
  return normalized === undefined ? undefined : sha256Hex(normalized);
}

/** `hashValue('email', ...)`: SHA-256 of the trimmed, lowercased address. */
export function hashEmail(value: string): string | undefined {
  return hashValue('email', value);
}

/** `hashValue('phone', ...)`: SHA-256 of the E.164 digits (no `+`). */
export function hashPhone(value: string, options: HashOptions = {}): string | undefined {
  return hashValue('phone', value, options);
}

/**
 * One member as a delivery reads it: the profile id, identifier values by type (one, or several when
 * the profile holds several), trait values by name. Values are as stored (identifiers already
 * normalised by the resolver).
 */
export interface MemberRecord {
  readonly profileId: string;
  readonly identifiers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly traits: Readonly<Record<string, JsonValue | undefined>>;
}

/** A member with the PII policy applied: only the destination's fields, each raw or hashed. */
export interface OutboundMember {
  readonly profileId: string;
  readonly identifiers: Readonly<Record<string, string | readonly string[]>>;
  readonly traits: Readonly<Record<string, JsonValue>>;
}

/** A field left out of a member because its value could not be hashed (names only, no values). */
export interface UnhashableField {
  readonly field: string;
}

/** A field with its policy and the normaliser its hash uses. */
export interface ResolvedField {
  readonly name: string;
  readonly pii: PiiPolicy;
  readonly normalize: HashNormalizer;
}

/** A destination's fields, resolved: which normaliser each hashed field uses. */
export interface FieldPolicy {
  readonly identifiers: readonly ResolvedField[];
  readonly traits: readonly ResolvedField[];
}

/**
 * Resolves the normaliser of each field: the field's own `normalize`; else, for an identifier, its
 * type's normaliser in the identity configuration (`email`, `phone`, `trim`); else, for a trait called
 * `email` or `phone`, that normaliser; else `trim`.
 */
export function resolveFieldPolicy(
  fields: DestinationFields,
  identifierTypes: readonly Pick<IdentifierTypeConfig, 'name' | 'normalize'>[] = [],
): FieldPolicy {
  const byType = new Map(identifierTypes.map((t) => [t.name, t.normalize] as const));
  const byName = (name: string): HashNormalizer => (name === 'email' || name === 'phone' ? name : 'trim');
  return {
    identifiers: fields.identifiers.map((f) => ({
      name: f.type,
      pii: f.pii,
      normalize: f.normalize ?? byType.get(f.type) ?? byName(f.type),
    })),
    traits: fields.traits.map((f) => ({
      name: f.name,
      pii: f.pii,
      normalize: f.normalize ?? byName(f.name),
    })),
  };
}

/** The result of applying a PII policy to one member. */
export interface PolicyResult {
  readonly member: OutboundMember;
  /** Fields with a `sha256` policy left out because their value did not normalise. */
  readonly unhashable: readonly UnhashableField[];
}

/**
 * Applies a destination's field policy to a member: fields the destination does not list, and fields
 * with policy `omit`, are left out; `raw` values are copied; `sha256` values are hashed after
 * normalisation (arrays element by element). Missing values are left out.
 */
export function applyPiiPolicy(
  member: MemberRecord,
  policy: FieldPolicy,
  options: HashOptions = {},
): PolicyResult {
  const unhashable: UnhashableField[] = [];
  const identifiers: Record<string, string | readonly string[]> = {};
  for (const field of policy.identifiers) {
    if (field.pii === 'omit' || !Object.hasOwn(member.identifiers, field.name)) continue;
    const value = member.identifiers[field.name];
    if (value === undefined) continue;
    if (field.pii === 'raw') {
      identifiers[field.name] = typeof value === 'string' ? value : [...value];
      continue;
    }
    const values = typeof value === 'string' ? [value] : value;
    const hashes = values.map((v) => hashValue(field.normalize, v, options));
    if (hashes.some((h) => h === undefined)) unhashable.push({ field: `identifiers.${field.name}` });
    const kept = hashes.filter((h): h is string => h !== undefined);
    if (typeof value === 'string') {
      if (kept[0] !== undefined) identifiers[field.name] = kept[0];
    } else if (kept.length > 0) identifiers[field.name] = kept;
  }
  const traits: Record<string, JsonValue> = {};
  for (const field of policy.traits) {
    if (field.pii === 'omit' || !Object.hasOwn(member.traits, field.name)) continue;
    const value = member.traits[field.name];
    if (value === undefined) continue;
    if (field.pii === 'raw') {
      traits[field.name] = value;
      continue;
    }
    const hash =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? hashValue(field.normalize, value, options)
        : undefined;
    if (hash === undefined) {
      if (value !== null) unhashable.push({ field: `traits.${field.name}` });
      continue;
    }
    traits[field.name] = hash;
  }
  return { member: { profileId: member.profileId, identifiers, traits }, unhashable };
}
