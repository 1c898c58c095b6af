import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeProfileDoc,
  encodeProfileDoc,
  GZIP_FROM_CHARS,
  ProfileDocError,
  packSeen,
  profileDocBytes,
  unpackSeen,
} from '../../src/adapters/aws/profile-doc';
import { createProfile, type Profile, type SeenMark } from '../../src/core/profile/profile';
import { buildProfile, streamRecord } from '../support/profile-fixtures';

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

describe('profile doc: the dedupe marks packed into one string', () => {
  /** An active person's profile: 300 events, so 256 marks and a horizon. */
  const active = buildProfile(
    'p_active',
    [{ type: 'user_id', value: 'u-1' }],
    Array.from({ length: 300 }, (_, i) =>
      streamRecord({
        id: `m-${i}`,
        minute: i,
        event: i % 3 === 0 ? 'Viewed' : 'Clicked',
        receivedAt: new Date(Date.UTC(2026, 4, 1, 10, 0, 0, i * 997)).toISOString(),
      }),
    ),
  );
  const storedJson = (doc: string | Uint8Array) =>
    typeof doc === 'string' ? doc : gunzipSync(doc).toString('utf8');

  it('stores them as seenPacked, not as an array, and reads back the same profile, to the text', () => {
    expect(active.seen).toHaveLength(256);
    const doc = encodeProfileDoc(active);
    const stored = JSON.parse(storedJson(doc)) as Record<string, unknown>;
    expect(stored.seen).toBeUndefined();
    expect(typeof stored.seenPacked).toBe('string');
    const read = decodeProfileDoc(doc);
    expect(read).toEqual(active);
    // Fields in the canonical order: equal profiles still serialise to equal text.
    expect(JSON.stringify(read)).toBe(JSON.stringify(active));
  });

  it('stores fewer bytes than the marks as an array would', () => {
    const packed = encodeProfileDoc(active) as Uint8Array;
    const plain = gzipSync(JSON.stringify(active), { level: 1 });
    expect(packed.byteLength).toBeLessThan(plain.byteLength * 0.9);
    expect(storedJson(packed).length).toBeLessThan(JSON.stringify(active).length * 0.85);
  });

  it('round-trips any marks of message keys and times, in any order', () => {
    const mark = fc.tuple(
      fc.integer({ min: 0, max: 2 ** 48 }),
      fc.stringMatching(/^[0-9a-f]{16}$/),
    ) as fc.Arbitrary<SeenMark>;
    fc.assert(
      fc.property(fc.array(mark, { minLength: 1, maxLength: 300 }), (seen) => {
        const packed = packSeen(seen);
        expect(packed).toBeDefined();
        expect(unpackSeen(packed as string)).toEqual(seen);
        const profile = { ...createProfile('p_any', '2026-11-01T00:00:00.000Z'), seen };
        expect(decodeProfileDoc(encodeProfileDoc(profile))).toEqual(profile);
      }),
    );
  });

  it.each<[string, SeenMark[]]>([
    ['no marks', []],
    ['a key not made by messageKey', [[1_000, 'h1']]],
    ['an upper-case key', [[1_000, '0123456789ABCDEF']]],
    ['a negative time', [[-1, '0123456789abcdef']]],
    ['a fractional time', [[1.5, '0123456789abcdef']]],
    ['a time past 2^48 ms', [[2 ** 48 + 1, '0123456789abcdef']]],
  ])('keeps the marks as an array when it cannot pack them: %s', (_what, seen) => {
    expect(packSeen(seen)).toBeUndefined();
    const profile = { ...profileOfLength(1500), seen };
    const doc = encodeProfileDoc(profile);
    expect(JSON.parse(storedJson(doc))).toMatchObject({ seen });
    expect(decodeProfileDoc(doc)).toEqual(profile);
  });

  it.each([
    ['no first time', '0123456789abcdef0'],
    ['a bad first time', 'x!;0123456789abcdef0'],
    ['a short key', '1;0123456789abcde0'],
    ['a key without its delta', '1;0123456789abcdef'],
    ['an empty mark', '1;0123456789abcdef0,'],
  ])('refuses packed marks with %s, with a clear error', (_what, packed) => {
    expect(() => unpackSeen(packed)).toThrow(ProfileDocError);
    const doc = JSON.stringify({ ...createProfile('p_bad', '2026-11-01T00:00:00.000Z'), seenPacked: packed });
    expect(() => decodeProfileDoc(doc)).toThrow(/Unreadable profile document: /);
  });

  it('refuses a seenPacked that is not a string', () => {
    const doc = JSON.stringify({ ...createProfile('p_bad', '2026-11-01T00:00:00.000Z'), seenPacked: 5 });
    expect(() => decodeProfileDoc(doc)).toThrow(ProfileDocError);
  });
});
