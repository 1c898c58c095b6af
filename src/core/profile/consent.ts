import { isJsonObject } from '../collector/message-schemas';
import type { StreamRecord } from '../events/stream-record';
import { compareStrings } from '../identity/identifier';
import { jsonBytes } from '../identity/json-bytes';
import { canonical } from './bounded-map';
import type { ProfileBounds } from './bounds';
import type { ConsentState, Version } from './profile';
import { compareWrites } from './version';
import type { ProfileWarning } from './warnings';

/**
 * The consent an event states, `context.consent.categoryPreferences` (`{ Advertising: false, ... }`),
 * or `undefined` if it states none. The object is taken whole: the latest event's preferences replace
 * earlier ones entirely, so a category it leaves out is no longer consented (activation fails closed).
 * Only boolean values count; at most `maxConsentCategories` categories (the first by name) are kept.
 */
export function consentOf(
  record: StreamRecord,
  version: Version,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): ConsentState | undefined {
  const consent = record.context.consent;
  if (!isJsonObject(consent) || !isJsonObject(consent.categoryPreferences)) return undefined;
  const preferences = consent.categoryPreferences;
  const entries: [string, boolean][] = [];
  for (const key of Object.keys(preferences)) {
    const value = preferences[key];
    if (typeof value !== 'boolean' || key === '__proto__') continue;
    if (jsonBytes(key) - 2 > bounds.maxConsentKeyBytes) continue;
    entries.push([key, value]);
  }
  entries.sort(([a], [b]) => compareStrings(a, b));
  if (entries.length > bounds.maxConsentCategories) {
    warnings.push({ code: 'consent_trimmed', detail: `${entries.length} categories` });
    entries.length = bounds.maxConsentCategories;
  }
  return { categoryPreferences: canonical(entries), t: version.t, h: version.h };
}

/** The later of two consent states (by version; equal versions by content, deterministically). */
export function latestConsent(
  a: ConsentState | undefined,
  b: ConsentState | undefined,
): ConsentState | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareWrites(a, a.categoryPreferences, b, b.categoryPreferences) >= 0 ? a : b;
}
