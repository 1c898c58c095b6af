import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeProfileDoc,
  encodeProfileDoc,
  GZIP_FROM_CHARS,
  profileDocBytes,
} from '../../src/adapters/aws/profile-doc';
import { createProfile, type Profile } from '../../src/core/profile/profile';

/** A profile whose JSON has exactly `chars` UTF-16 units (padded through one trait). */
function profileOfLength(chars: number): Profile {
  const base = createProfile('p_doc', '2026-11-01T00:00:00.000Z');
  const empty = { ...base, traits: { pad: { v: '', t: 0, h: 'h' } } };
  const padding = chars - JSON.stringify(empty).length;
  if (padding < 0) throw new Error(`a profile has at least ${JSON.stringify(empty).length} characters`);
  return { ...base, traits: { pad: { v: 'é'.repeat(padding), t: 0, h: 'h' } } };
}

describe('profile doc', () => {
  it('stays JSON text below the threshold and is gzipped from it on', () => {
    const below = profileOfLength(GZIP_FROM_CHARS - 1);
    const at = profileOfLength(GZIP_FROM_CHARS);
    expect(encodeProfileDoc(below)).toBe(JSON.stringify(below));
    const gzipped = encodeProfileDoc(at);
    expect(gzipped).toBeInstanceOf(Uint8Array);
    expect(decodeProfileDoc(gzipped)).toEqual(at);
    expect(decodeProfileDoc(encodeProfileDoc(below))).toEqual(below);
  });

  it('reads any gzipped JSON and any JSON text, as items written by other versions are', () => {
    const profile = profileOfLength(3000);
    expect(decodeProfileDoc(gzipSync(JSON.stringify(profile), { level: 9 }))).toEqual(profile);
    expect(decodeProfileDoc(JSON.stringify(profile))).toEqual(profile);
  });

  it('refuses a binary doc that is not gzip rather than reading garbage', () => {
    expect(() => decodeProfileDoc(new Uint8Array([0x7b, 0x7d]))).toThrow();
  });

  it('sizes text by its UTF-8 bytes, as DynamoDB does, and binary by its length', () => {
    expect(profileDocBytes('é€')).toBe(5);
    expect(profileDocBytes(new Uint8Array(7))).toBe(7);
  });
});
