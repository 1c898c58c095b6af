import { gunzipSync, gzipSync } from 'node:zlib';
import { assembleProfile, type Profile, type SeenMark } from '../../core/profile/profile';

/**
 * A profile's JSON of at least this many UTF-16 units is stored gzipped. DynamoDB bills a write per
 * started kilobyte of the item (a read per 4 KB), and the profiles that are written most — the most
 * active people's, with their last events and dedupe window — are the largest: 5–17 KB of JSON that
 * gzip takes to a third. Below it a profile stays readable JSON in the console and costs one unit
 * either way.
 */
export const GZIP_FROM_CHARS = 1024;

/**
 * The `doc` attribute of a profile item: the profile as a JSON string (S), or that JSON gzipped (B)
 * from {@link GZIP_FROM_CHARS} on. Level 1: on these documents it keeps ~95 % of level 6's saving at
 * half its CPU, and the resolver writes a profile for nearly every event.
 *
 * The dedupe marks (`Profile.seen`: up to 256 `[receivedAt, key]` pairs, half of an active person's
 * JSON) are stored packed into one string, `seenPacked` (see {@link packSeen}): on such a profile the
 * JSON is a fifth shorter, gzipped a sixth (a write unit less in AWS), and encoding and decoding take a
 * third and a quarter less CPU.
 */
export function encodeProfileDoc(profile: Profile): string | Uint8Array {
  const seenPacked = packSeen(profile.seen);
  // `seen: undefined` leaves the array out of the JSON.
  const json = JSON.stringify(
    seenPacked === undefined ? profile : { ...profile, seen: undefined, seenPacked },
  );
  return json.length < GZIP_FROM_CHARS ? json : gzipSync(json, { level: 1 });
}

/** Reads either form of {@link encodeProfileDoc}, marks packed or not (items written before either are plain JSON). */
export function decodeProfileDoc(doc: string | Uint8Array): Profile {
  const stored = JSON.parse(typeof doc === 'string' ? doc : gunzipSync(doc).toString('utf8')) as Profile & {
    readonly seenPacked?: unknown;
  };
  if (stored.seenPacked === undefined) return stored;
  if (typeof stored.seenPacked !== 'string') throw new ProfileDocError('seenPacked is not a string');
  return assembleProfile({ ...stored, seen: unpackSeen(stored.seenPacked) });
}

/** Bytes the `doc` attribute adds to its item (DynamoDB sizes a string by its UTF-8 bytes). */
export function profileDocBytes(doc: string | Uint8Array): number {
  return typeof doc === 'string' ? Buffer.byteLength(doc, 'utf8') : doc.byteLength;
}

/** A stored profile document that cannot be read back. */
export class ProfileDocError extends Error {
  override readonly name = 'ProfileDocError';
  constructor(detail: string) {
    super(`Unreadable profile document: ${detail}`);
  }
}

/** A message key as `messageKey` makes it. */
const KEY = /^[0-9a-f]{16}$/;
/** Mark times packed: whole ms from the epoch up to 2^48 (year 10889), so every difference is exact. */
const MAX_PACKED_TIME = 2 ** 48;
const PACKED_MARK = /^([0-9a-f]{16})(-?[0-9a-z]+)$/;

/**
 * The marks as one string: the first mark's time in base 36, `;`, then each mark as its 16-hex key and
 * how many milliseconds older it is than the mark before it (base 36, `0` for the first; marks are
 * newest first, so never negative in practice), comma-separated. Undefined — keep the array — when
 * there are none or a mark is not in that form.
 */
export function packSeen(seen: readonly SeenMark[]): string | undefined {
  const first = seen[0];
  if (first === undefined) return undefined;
  let previous = first[0];
  const parts: string[] = [];
  for (const [time, key] of seen) {
    if (!Number.isInteger(time) || time < 0 || time > MAX_PACKED_TIME || !KEY.test(key)) return undefined;
    parts.push(`${key}${(previous - time).toString(36)}`);
    previous = time;
  }
  return `${first[0].toString(36)};${parts.join(',')}`;
}

/** The marks {@link packSeen} packed; throws {@link ProfileDocError} on anything else. */
export function unpackSeen(packed: string): SeenMark[] {
  const separator = packed.indexOf(';');
  if (separator < 0) throw new ProfileDocError('dedupe marks without their first time');
  let time = parseBase36(packed.slice(0, separator), 'first mark time');
  const seen: SeenMark[] = [];
  for (const part of packed.slice(separator + 1).split(',')) {
    const match = PACKED_MARK.exec(part);
    if (match === null) throw new ProfileDocError(`dedupe mark ${seen.length + 1} is malformed`);
    time -= parseBase36(match[2] as string, `dedupe mark ${seen.length + 1}`);
    seen.push([time, match[1] as string]);
  }
  return seen;
}

function parseBase36(text: string, what: string): number {
  const value = Number.parseInt(text, 36);
  if (!/^-?[0-9a-z]+$/.test(text) || !Number.isSafeInteger(value))
    throw new ProfileDocError(`${what} is malformed`);
  return value;
}
