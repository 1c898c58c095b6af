import type { StreamRecord } from '../events/stream-record';
import { type Identifier, identifierKey } from './identifier';
import type { IdentityConfig } from './identity-config';
import { type CompiledType, identityRules, matchBlocklist } from './identity-rules';
import { jsonBytes } from './json-bytes';
import { normalizeValue } from './normalize';
import { readPath } from './record-path';

/**
 * Why a value found in a record is not an identifier:
 * - `blocked`: empty, whitespace only, or on a blocklist (a placeholder such as `null` or `0`);
 * - `invalid`: not valid for its type (an email without `@`, a phone number that is not one, control
 *   characters);
 * - `too_long`: longer than the type's `maxLength`;
 * - `invalid_type`: neither a string nor a finite number (an object, a boolean, ...).
 */
export type RejectionReason = 'blocked' | 'invalid' | 'too_long' | 'invalid_type';

/**
 * A value that did not become an identifier, for metrics and logs. It never holds the value itself
 * (logs never contain PII): only its type, where it was found and why it was refused.
 */
export interface RejectedValue {
  readonly type: string;
  /** The path it was read from, or `context.externalIds[type=...]`. */
  readonly from: string;
  readonly reason: RejectionReason;
  /** For `blocked`: the rule that matched (`empty`, `value:null`, `pattern:^[0-]*$`) — configuration, never the value. */
  readonly rule?: string;
}

export interface ExtractedIdentifiers {
  /** Normalised and de-duplicated; highest-priority type first, then in the order found. */
  readonly identifiers: readonly Identifier[];
  readonly rejected: readonly RejectedValue[];
}

/** True if the text holds a C0 control character or DEL: never part of a real identifier. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * The identifiers of one stream record under the configuration: every configured path and
 * `context.externalIds` entry is read, normalised, and checked against the blocklists and the length
 * limit. A blocked or invalid value never becomes an identifier; each one is reported in `rejected`.
 * Absent and `null` values are neither identifiers nor rejections.
 */
export function extractIdentifiers(record: StreamRecord, config: IdentityConfig): ExtractedIdentifiers {
  const rules = identityRules(config);
  const found = new Map<string, Identifier>();
  const rejected: RejectedValue[] = [];
  const externalIds = readExternalIds(record);

  for (const type of rules.types) {
    for (const path of type.paths) {
      // A group call's `traits` are the group's, not the person's.
      if (record.type === 'group' && path.segments[0] === 'traits') continue;
      consider(type, readPath(record, path.segments), path.source);
    }
    for (const external of externalIds) {
      if (rules.byExternalIdType.get(external.type) === type) {
        consider(type, external.id, `context.externalIds[type=${external.type}]`);
      }
    }
  }
  return { identifiers: [...found.values()], rejected };

  function consider(type: CompiledType, raw: unknown, from: string): void {
    if (raw === undefined || raw === null) return;
    const outcome = toIdentifierValue(type, raw, rules.config.defaultPhoneCountry);
    if (typeof outcome === 'string') {
      const identifier = { type: type.config.name, value: outcome };
      const key = identifierKey(identifier);
      if (!found.has(key)) found.set(key, identifier);
    } else {
      rejected.push({ type: type.config.name, from, ...outcome });
    }
  }
}

/**
 * The normalised value, or why the raw value is not an identifier of this type. Extraction and the
 * Profile API's lookups both go through it, so a value looked up is normalised and refused exactly
 * as it would be when it arrives in an event.
 */
export function toIdentifierValue(
  type: CompiledType,
  raw: unknown,
  defaultPhoneCountry: string | undefined,
): string | { reason: RejectionReason; rule?: string } {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw);
  else return { reason: 'invalid_type' };

  const trimmed = text.trim();
  if (trimmed === '') return { reason: 'blocked', rule: 'empty' };
  // Cheap guard before any regular expression or parser sees a huge value.
  if (trimmed.length > 2 * type.config.maxLength + 64) return { reason: 'too_long' };
  const blockedAsSent = matchBlocklist(type.blocklist, trimmed);
  if (blockedAsSent !== undefined) return { reason: 'blocked', rule: blockedAsSent };

  const normalized = normalizeValue(type.config.normalize, trimmed, {
    ...(defaultPhoneCountry === undefined ? {} : { defaultPhoneCountry }),
  });
  if (!normalized.ok || hasControlCharacter(normalized.value)) return { reason: 'invalid' };
  if (normalized.value !== trimmed) {
    const blocked = matchBlocklist(type.blocklist, normalized.value);
    if (blocked !== undefined) return { reason: 'blocked', rule: blocked };
  }
  if (jsonBytes(normalized.value) - 2 > type.config.maxLength) return { reason: 'too_long' };
  return normalized.value;
}

/** Segment's `context.externalIds`: `[{ id, type, collection?, encoding? }]`; malformed entries are skipped. */
function readExternalIds(record: StreamRecord): { type: string; id: unknown }[] {
  const list = readPath(record, ['context', 'externalIds']);
  if (!Array.isArray(list)) return [];
  const out: { type: string; id: unknown }[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const type = Object.hasOwn(entry, 'type') ? (entry as { type: unknown }).type : undefined;
    if (typeof type !== 'string') continue;
    out.push({ type, id: Object.hasOwn(entry, 'id') ? (entry as { id: unknown }).id : undefined });
  }
  return out;
}
