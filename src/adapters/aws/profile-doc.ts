import { gunzipSync, gzipSync } from 'node:zlib';
import type { Profile } from '../../core/profile/profile';

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
 */
export function encodeProfileDoc(profile: Profile): string | Uint8Array {
  const json = JSON.stringify(profile);
  return json.length < GZIP_FROM_CHARS ? json : gzipSync(json, { level: 1 });
}

/** Reads either form of {@link encodeProfileDoc} (items written before compression are strings). */
export function decodeProfileDoc(doc: string | Uint8Array): Profile {
  return JSON.parse(typeof doc === 'string' ? doc : gunzipSync(doc).toString('utf8')) as Profile;
}

/** Bytes the `doc` attribute adds to its item (DynamoDB sizes a string by its UTF-8 bytes). */
export function profileDocBytes(doc: string | Uint8Array): number {
  return typeof doc === 'string' ? Buffer.byteLength(doc, 'utf8') : doc.byteLength;
}
