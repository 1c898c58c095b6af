import { describe, expect, it } from 'vitest';
import { readCollectorEnv } from '../../functions/collector/env';
import { hashWriteKey, WriteKeyRegistry } from '../../src/core/collector/write-keys';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import { SourcesConfig } from '../../src/core/config/sources';
import { ConfigError } from '../../src/core/errors';
import {
  BACKEND_WRITE_KEY,
  REVOKED_WRITE_KEY,
  ROTATED_WRITE_KEY,
  SOURCE,
  TEST_SOURCES,
  WRITE_KEY,
} from '../support/collector-fixtures';

describe('hashWriteKey', () => {
  it('is the lowercase hex SHA-256 of the key (UTF-8)', () => {
    expect(hashWriteKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashWriteKey('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // 'clé' as the bytes 63 6c c3 a9 (UTF-8), not as Latin-1 or UTF-16.
    expect(hashWriteKey('clé')).toBe('51cbcf30514d0802eb5c60a018f384ea3fb9b69307c554ee63ecb43177594de4');
    expect(hashWriteKey('clé')).not.toBe(hashWriteKey('cle'));
  });
});

describe('WriteKeyRegistry', () => {
  const registry = new WriteKeyRegistry(TEST_SOURCES);

  it('resolves every active key of a source to it, so a key can be rotated without dropping events', () => {
    expect(registry.authenticate(WRITE_KEY)).toBe(SOURCE);
    expect(registry.authenticate(ROTATED_WRITE_KEY)).toBe(SOURCE);
    expect(registry.authenticate(BACKEND_WRITE_KEY)).toBe('backend');
  });

  it('refuses a revoked key', () => {
    expect(registry.authenticate(REVOKED_WRITE_KEY)).toBeUndefined();
  });

  it('hashes a presented key as its configured hash was made: a key past ASCII matches itself only', () => {
    const unicode = new WriteKeyRegistry([
      { name: 'app', keys: [{ sha256: hashWriteKey('clé-ünï'), revoked: false }] },
    ]);
    expect(unicode.authenticate('clé-ünï')).toBe('app');
    expect(unicode.authenticate('cle-uni')).toBeUndefined();
    expect(unicode.authenticate('clé-ünï'.normalize('NFD'))).toBeUndefined();
  });

  it.each([
    ['an unknown key', 'wk_unknown'],
    ['an empty key', ''],
    ['no key', undefined],
    ['a key differing only in case', WRITE_KEY.toUpperCase()],
    ['a configured key with a suffix', `${WRITE_KEY}x`],
    ['a configured key with a trailing space', `${WRITE_KEY} `],
    ['the hash of a configured key', hashWriteKey(WRITE_KEY)],
    ['a very long key', 'k'.repeat(100_000)],
  ])('refuses %s', (_what, key) => {
    expect(registry.authenticate(key)).toBeUndefined();
  });

  it('revoking a key leaves the other keys of the source working', () => {
    const rotated = new WriteKeyRegistry(
      SourcesConfig.parse([
        {
          name: 'app',
          keys: [{ sha256: hashWriteKey('old'), revoked: true }, { sha256: hashWriteKey('new') }],
        },
      ]),
    );
    expect(rotated.authenticate('old')).toBeUndefined();
    expect(rotated.authenticate('new')).toBe('app');
  });
});

describe('SourcesConfig', () => {
  const issues = (value: unknown): string[] => {
    const parsed = SourcesConfig.safeParse(value);
    expect(parsed.success).toBe(false);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts several sources with several keys each, and defaults revoked to false', () => {
    const parsed = SourcesConfig.parse([
      { name: 'web', keys: [{ sha256: hashWriteKey('a'), label: 'site' }, { sha256: hashWriteKey('b') }] },
      { name: 'ios_app-2', keys: [{ sha256: hashWriteKey('c'), revoked: true }] },
    ]);
    expect(parsed.map((s) => s.keys.map((k) => k.revoked))).toEqual([[false, false], [true]]);
  });

  it('rejects two sources with the same name, naming it', () => {
    const found = issues([
      { name: 'web', keys: [{ sha256: hashWriteKey('a') }] },
      { name: 'web', keys: [{ sha256: hashWriteKey('b') }] },
    ]);
    expect(found).toEqual([expect.stringMatching(/^1\.name: .*duplicate source "web"/)]);
  });

  it('rejects the same key hash configured twice, within a source or across sources', () => {
    const across = issues([
      { name: 'web', keys: [{ sha256: hashWriteKey('a') }] },
      { name: 'app', keys: [{ sha256: hashWriteKey('a') }] },
    ]);
    expect(across).toEqual([expect.stringMatching(/^1\.keys\.0\.sha256: .*configured twice/)]);
    const within = issues([
      { name: 'web', keys: [{ sha256: hashWriteKey('a') }, { sha256: hashWriteKey('a') }] },
    ]);
    expect(within).toEqual([expect.stringMatching(/^0\.keys\.1\.sha256: .*configured twice/)]);
  });

  it.each([
    ['a raw key instead of a hash', 'wk_web_2026_active'],
    ['uppercase hex', hashWriteKey('a').toUpperCase()],
    ['63 hex characters', hashWriteKey('a').slice(1)],
    ['65 hex characters', `${hashWriteKey('a')}0`],
    ['non-hex characters', `${hashWriteKey('a').slice(0, 63)}g`],
  ])('rejects a key hash that is %s with a message saying what is expected', (_what, sha256) => {
    const found = issues([{ name: 'web', keys: [{ sha256 }] }]);
    expect(found).toEqual([expect.stringMatching(/^0\.keys\.0\.sha256: .*lowercase hex SHA-256/)]);
  });

  it.each([
    ['no sources', []],
    ['a source without keys', [{ name: 'web', keys: [] }]],
    ['a name with uppercase letters', [{ name: 'Web', keys: [{ sha256: hashWriteKey('a') }] }]],
    ['a name with a space', [{ name: 'my web', keys: [{ sha256: hashWriteKey('a') }] }]],
    ['a name of 64 characters', [{ name: 'w'.repeat(64), keys: [{ sha256: hashWriteKey('a') }] }]],
  ])('rejects %s', (_what, value) => {
    expect(issues(value).length).toBeGreaterThan(0);
  });
});

describe('readCollectorEnv', () => {
  const sources = JSON.stringify([{ name: 'web', keys: [{ sha256: hashWriteKey(WRITE_KEY) }] }]);
  const validEnv = {
    EVENT_STREAM_NAME: 'mosaic-events',
    QUARANTINE_DELIVERY_STREAM_NAME: 'mosaic-quarantine',
    MOSAIC_SOURCES: sources,
  };

  const failure = (env: Record<string, string | undefined>): ConfigError => {
    try {
      readCollectorEnv(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('readCollectorEnv accepted an invalid environment');
  };

  it('reads a complete environment, with Segment limits by default', () => {
    const env = readCollectorEnv(validEnv);
    expect(env.EVENT_STREAM_NAME).toBe('mosaic-events');
    expect(env.QUARANTINE_DELIVERY_STREAM_NAME).toBe('mosaic-quarantine');
    expect(env.MOSAIC_SOURCES).toEqual([
      { name: 'web', keys: [{ sha256: hashWriteKey(WRITE_KEY), revoked: false }] },
    ]);
    expect(env.MOSAIC_LIMITS).toEqual(DEFAULT_LIMITS);
    expect(env.MOSAIC_LIMITS).toMatchObject({
      maxMessageBytes: 32 * 1024,
      maxRequestBytes: 500 * 1024,
      maxBatchMessages: 2500,
    });
  });

  it('applies MOSAIC_LIMITS overrides over the defaults', () => {
    const env = readCollectorEnv({ ...validEnv, MOSAIC_LIMITS: '{"maxBatchMessages":100}' });
    expect(env.MOSAIC_LIMITS).toEqual({ ...DEFAULT_LIMITS, maxBatchMessages: 100 });
  });

  it.each(['EVENT_STREAM_NAME', 'QUARANTINE_DELIVERY_STREAM_NAME', 'MOSAIC_SOURCES'])(
    'fails naming %s when it is missing',
    (name) => {
      const env: Record<string, string | undefined> = { ...validEnv };
      delete env[name];
      expect(failure(env).message).toContain(name);
    },
  );

  it.each(['EVENT_STREAM_NAME', 'QUARANTINE_DELIVERY_STREAM_NAME'])(
    'fails naming %s when it is empty',
    (name) => {
      expect(failure({ ...validEnv, [name]: '' }).message).toContain(name);
    },
  );

  it('names every missing variable at once', () => {
    const message = failure({}).message;
    for (const name of ['EVENT_STREAM_NAME', 'QUARANTINE_DELIVERY_STREAM_NAME', 'MOSAIC_SOURCES'])
      expect(message).toContain(name);
  });

  it('fails naming MOSAIC_SOURCES when it is not JSON', () => {
    expect(failure({ ...validEnv, MOSAIC_SOURCES: '[{name: web}]' }).message).toMatch(
      /MOSAIC_SOURCES.*not valid JSON/,
    );
  });

  it('fails naming MOSAIC_SOURCES and the offending field when a source is invalid', () => {
    const bad = JSON.stringify([{ name: 'web', keys: [{ sha256: 'not-a-hash' }] }]);
    expect(failure({ ...validEnv, MOSAIC_SOURCES: bad }).message).toMatch(
      /MOSAIC_SOURCES.*0\.keys\.0\.sha256/,
    );
  });

  it('fails naming MOSAIC_SOURCES when two sources share a name', () => {
    const dup = JSON.stringify([
      { name: 'web', keys: [{ sha256: hashWriteKey('a') }] },
      { name: 'web', keys: [{ sha256: hashWriteKey('b') }] },
    ]);
    expect(failure({ ...validEnv, MOSAIC_SOURCES: dup }).message).toMatch(
      /MOSAIC_SOURCES.*duplicate source "web"/,
    );
  });

  it('fails naming MOSAIC_LIMITS and the field when a limit is invalid', () => {
    expect(failure({ ...validEnv, MOSAIC_LIMITS: '{"maxMessageBytes":"32k"}' }).message).toMatch(
      /MOSAIC_LIMITS.*maxMessageBytes/,
    );
    expect(failure({ ...validEnv, MOSAIC_LIMITS: 'nope' }).message).toMatch(/MOSAIC_LIMITS.*not valid JSON/);
  });
});
