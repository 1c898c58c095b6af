import { describe, expect, it } from 'vitest';
import { AdminKeyRegistry, AdminKeysConfig } from '../../src/core/auth/admin-keys';
import { HashedKeySet, hashKey } from '../../src/core/auth/hashed-keys';
import { hashWriteKey } from '../../src/core/collector/write-keys';
import {
  ADMIN_KEY,
  ADMIN_KEYS,
  OPS_ADMIN_KEY,
  REVOKED_ADMIN_KEY,
  ROTATED_ADMIN_KEY,
} from '../support/admin-keys';

describe('hashKey', () => {
  it('is the lowercase hex SHA-256 of the key, the same function write keys are hashed with', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashWriteKey('clé')).toBe(hashKey('clé'));
  });
});

describe('HashedKeySet', () => {
  it('lets a revoked entry win over an active one with the same hash (a configuration mistake fails closed)', () => {
    const set = new HashedKeySet([
      { sha256: hashKey('k'), owner: 'a', revoked: false },
      { sha256: hashKey('k'), owner: 'b', revoked: true },
      { sha256: hashKey('k'), owner: 'c', revoked: false },
    ]);
    expect(set.match('k')).toEqual({ owner: 'b', revoked: true });
  });

  it('matches nothing for an empty key or one longer than any key', () => {
    const set = new HashedKeySet([{ sha256: hashKey(''), owner: 'empty', revoked: false }]);
    expect(set.match('')).toBeUndefined();
    const long = 'k'.repeat(1025);
    expect(
      new HashedKeySet([{ sha256: hashKey(long), owner: 'x', revoked: false }]).match(long),
    ).toBeUndefined();
  });
});

describe('AdminKeyRegistry', () => {
  const registry = new AdminKeyRegistry(ADMIN_KEYS);

  it('names the holder of every active key, so a key can be rotated without an outage', () => {
    expect(registry.check(`Bearer ${ADMIN_KEY}`)).toEqual({ ok: true, name: 'support' });
    expect(registry.check(`Bearer ${ROTATED_ADMIN_KEY}`)).toEqual({ ok: true, name: 'support' });
    expect(registry.check(`Bearer ${OPS_ADMIN_KEY}`)).toEqual({ ok: true, name: 'ops' });
  });

  it('reads the scheme case-insensitively and tolerates extra spaces around the token', () => {
    expect(registry.check(`bearer ${ADMIN_KEY}`)).toEqual({ ok: true, name: 'support' });
    expect(registry.check(`BEARER   ${ADMIN_KEY}  `)).toEqual({ ok: true, name: 'support' });
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a header of spaces', '   '],
  ])('refuses %s as missing', (_what, header) => {
    expect(registry.check(header)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['HTTP Basic', `Basic ${Buffer.from(`${ADMIN_KEY}:`).toString('base64')}`],
    ['the bare key without a scheme', ADMIN_KEY],
    ['the scheme without a token', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['two tokens', `Bearer ${ADMIN_KEY} ${ADMIN_KEY}`],
    ['a token with a character bearer tokens cannot have', `Bearer ${ADMIN_KEY}!`],
    ['padding inside the token', 'Bearer ab=cd'],
    ['a tab between scheme and token', `Bearer\t${ADMIN_KEY}`],
    ['a token longer than any key', `Bearer ${'k'.repeat(1025)}`],
    ['a very long header', `Bearer ${'k'.repeat(100_000)}`],
  ])('refuses %s as malformed', (_what, header) => {
    expect(registry.check(header)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([
    ['an unknown key', 'Bearer mk_unknown'],
    ['a key differing only in case', `Bearer ${ADMIN_KEY.toUpperCase()}`],
    ['a configured key with a suffix', `Bearer ${ADMIN_KEY}x`],
    ['the hash of a configured key', `Bearer ${hashKey(ADMIN_KEY)}`],
  ])('refuses %s as unknown', (_what, header) => {
    expect(registry.check(header)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a revoked key as revoked, and leaves the holder’s other keys working', () => {
    expect(registry.check(`Bearer ${REVOKED_ADMIN_KEY}`)).toEqual({ ok: false, reason: 'revoked' });
    expect(registry.check(`Bearer ${ADMIN_KEY}`)).toEqual({ ok: true, name: 'support' });
  });

  it('accepts padded base64 and base64url tokens', () => {
    const keys = AdminKeysConfig.parse([{ name: 'a', keyHashes: [hashKey('YWJj+/=='), hashKey('abc-._~')] }]);
    const padded = new AdminKeyRegistry(keys);
    expect(padded.check('Bearer YWJj+/==')).toEqual({ ok: true, name: 'a' });
    expect(padded.check('Bearer abc-._~')).toEqual({ ok: true, name: 'a' });
  });
});

describe('AdminKeysConfig', () => {
  const issues = (value: unknown): string[] => {
    const parsed = AdminKeysConfig.safeParse(value);
    expect(parsed.success).toBe(false);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults revokedHashes to none', () => {
    expect(AdminKeysConfig.parse([{ name: 'ops', keyHashes: [hashKey('a')] }])).toEqual([
      { name: 'ops', keyHashes: [hashKey('a')], revokedHashes: [] },
    ]);
  });

  it('rejects two holders with the same name, naming it', () => {
    const found = issues([
      { name: 'ops', keyHashes: [hashKey('a')] },
      { name: 'ops', keyHashes: [hashKey('b')] },
    ]);
    expect(found).toEqual([expect.stringMatching(/^1\.name: .*duplicate admin key "ops"/)]);
  });

  it('rejects a hash configured twice: across holders, or both active and revoked', () => {
    expect(
      issues([
        { name: 'ops', keyHashes: [hashKey('a')] },
        { name: 'support', keyHashes: [hashKey('a')] },
      ]),
    ).toEqual([expect.stringMatching(/^1\.keyHashes\.0: .*configured twice/)]);
    expect(issues([{ name: 'ops', keyHashes: [hashKey('a')], revokedHashes: [hashKey('a')] }])).toEqual([
      expect.stringMatching(/^0\.revokedHashes\.0: .*configured twice/),
    ]);
  });

  it.each([
    ['a raw key instead of a hash', 'mk_support_2026'],
    ['uppercase hex', hashKey('a').toUpperCase()],
    ['63 hex characters', hashKey('a').slice(1)],
  ])('rejects a key hash that is %s, saying what is expected', (_what, hash) => {
    expect(issues([{ name: 'ops', keyHashes: [hash] }])).toEqual([
      expect.stringMatching(/^0\.keyHashes\.0: .*lowercase hex SHA-256 of the admin key/),
    ]);
  });

  it.each([
    ['no holders', []],
    ['a holder without keys', [{ name: 'ops', keyHashes: [] }]],
    ['a name with uppercase letters', [{ name: 'Ops', keyHashes: [hashKey('a')] }]],
    ['a name of 64 characters', [{ name: 'o'.repeat(64), keyHashes: [hashKey('a')] }]],
  ])('rejects %s', (_what, value) => {
    expect(issues(value).length).toBeGreaterThan(0);
  });
});
