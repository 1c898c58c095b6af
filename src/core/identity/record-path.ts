/**
 * Dot paths into a stream record (`userId`, `traits.email`, `context.device.id`): how identifier
 * types say where their values are. Segments are plain keys; array indexes and wildcards are not
 * supported (lists of ids come through `context.externalIds`).
 */

/** A path segment: letters, digits, `_`, `$` and `-`, at most 64 characters. */
const SEGMENT = /^[A-Za-z0-9_$-]{1,64}$/;
/** Keys that lead to an object's prototype rather than to data. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** Why a path is not usable, or `undefined` for a good one. */
export function checkRecordPath(path: string): string | undefined {
  const segments = path.split('.');
  if (segments.length > 8) return 'at most 8 segments';
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) return `"${segment}" is not a valid segment (letters, digits, _ $ -)`;
    if (FORBIDDEN.has(segment)) return `"${segment}" may not be used in a path`;
  }
  return undefined;
}

/** The value at a checked path, following own properties of plain objects only. */
export function readPath(root: unknown, segments: readonly string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
