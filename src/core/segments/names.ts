/**
 * The allow-list patterns every name in a segment definition must match. Names are the only text of
 * a definition that can shape the SQL: trait, property and consent-category names become JSON paths
 * (`'$.plan'`), so their pattern admits no character that could end a string literal, start a
 * comment or change a JSON path's meaning. Event names and segment ids are only ever compared as
 * bound parameters, but are checked too, so that nothing surprising is stored or printed in errors.
 */

/** One segment of a trait or property path: an identifier as in most languages, at most 64 characters. */
export const PATH_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** At most this many dot-separated segments in a trait or property path (`address.city`). */
export const MAX_PATH_SEGMENTS = 8;
/**
 * An event name: letters, digits, `_`, space, `.`, `:`, `/`, `-`; 1 to 128 characters; no space at
 * either end (`Order Completed`, `checkout:step-2`, `page/view`).
 */
export const EVENT_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_ .:/-]{0,126}[A-Za-z0-9_.:/-])?$/;
/** A consent category of `context.consent.categoryPreferences` (`Advertising`, `C0004`). */
export const CONSENT_CATEGORY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** A segment id (`pro-buyers`, `churn_risk_2`). */
export const SEGMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Keys that reach an object's prototype rather than data: refused as path segments. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Why a dot path is not a usable trait or property path, or `undefined` for a good one. */
export function checkPath(path: string): string | undefined {
  const segments = path.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) return `at most ${MAX_PATH_SEGMENTS} dot-separated segments`;
  for (const segment of segments) {
    if (!PATH_SEGMENT.test(segment)) {
      return `${JSON.stringify(segment)} is not a name: letters, digits and _, not starting with a digit, at most 64 characters`;
    }
    if (FORBIDDEN_SEGMENTS.has(segment)) return `${JSON.stringify(segment)} may not be used in a path`;
  }
  return undefined;
}
