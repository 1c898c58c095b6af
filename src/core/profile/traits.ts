import { isJsonObject } from '../collector/message-schemas';
import type { StreamRecord } from '../events/stream-record';
import { cutToJsonBytes, jsonBytes } from '../identity/json-bytes';
import { type RankedMapOps, writeRanked } from './bounded-map';
import type { ProfileBounds } from './bounds';
import type { JsonValue, TraitEntry, Version } from './profile';
import { compareVersions, compareWrites } from './version';
import type { ProfileWarning } from './warnings';

/**
 * Two writes of a trait: the later version wins (then the value, for a message delivered twice with
 * different contents). Traits kept when there are too many: the ones with the latest versions, ties
 * (traits of one event) by name.
 */
export const traitOps = (bounds: ProfileBounds): RankedMapOps<TraitEntry> => ({
  compare: (a, b) => compareWrites(a, a.v, b, b.v),
  rank: compareVersions,
  max: bounds.maxTraits,
});

/**
 * The traits an event writes about the person: `context.traits` from any call, and `traits` from an
 * identify call (a group call's `traits` describe the group). When both name a trait, `traits` wins.
 * Each write is bounded on its own (a function of the write alone, so order cannot matter): names
 * longer than `maxTraitKeyBytes` and `__proto__` are refused, strings longer than
 * `maxTraitValueBytes` are cut, other values that long are refused — each with a warning.
 */
export function traitWrites(
  record: StreamRecord,
  version: Version,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): [string, TraitEntry][] {
  const context = isJsonObject(record.context.traits) ? record.context.traits : undefined;
  const own = record.type === 'identify' && isJsonObject(record.traits) ? record.traits : undefined;
  if (context === undefined && own === undefined) return [];
  const combined = new Map<string, unknown>();
  for (const source of [context, own]) {
    if (source === undefined) continue;
    for (const key of Object.keys(source)) combined.set(key, source[key]);
  }
  const writes: [string, TraitEntry][] = [];
  for (const [key, raw] of combined) {
    if (raw === undefined) continue;
    if (key === '__proto__') {
      warnings.push({ code: 'trait_key_refused', detail: key });
      continue;
    }
    if (jsonBytes(key) - 2 > bounds.maxTraitKeyBytes) {
      warnings.push({ code: 'trait_key_too_long', detail: `longer than ${bounds.maxTraitKeyBytes} bytes` });
      continue;
    }
    const value = boundValue(raw as JsonValue, key, bounds, warnings);
    if (value === undefined) continue;
    writes.push([key, { v: value, t: version.t, h: version.h }]);
  }
  return writes;
}

function boundValue(
  value: JsonValue,
  key: string,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): JsonValue | undefined {
  if (jsonBytes(value) <= bounds.maxTraitValueBytes) return value;
  if (typeof value === 'string') {
    warnings.push({ code: 'trait_value_cut', detail: key });
    return cutToJsonBytes(value, bounds.maxTraitValueBytes);
  }
  warnings.push({ code: 'trait_value_too_large', detail: key });
  return undefined;
}

/** Writes trait entries, the newest per trait winning, bounded to `maxTraits` (newest kept). */
export function writeTraits(
  traits: Readonly<Record<string, TraitEntry>>,
  writes: readonly [string, TraitEntry][],
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): Readonly<Record<string, TraitEntry>> {
  if (writes.length === 0) return traits;
  const { map, dropped } = writeRanked(traits, writes, traitOps(bounds));
  if (dropped > 0) warnings.push({ code: 'traits_trimmed', detail: `${dropped} over ${bounds.maxTraits}` });
  return map;
}
