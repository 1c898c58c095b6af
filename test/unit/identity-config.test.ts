import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import {
  DEFAULT_IDENTITY_CONFIG,
  IDENTITY_BUDGET_BYTES,
  IdentityConfig,
  identityEntryBytes,
  parseIdentityConfig,
} from '../../src/core/identity/identity-config';

/** The message of the ConfigError that parsing throws. */
function problem(input: unknown): string {
  try {
    parseIdentityConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the configuration to be refused');
}

const type = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  paths: [`traits.${name}`],
  ...extra,
});

describe('identity configuration defaults', () => {
  it('has the issue defaults: user_id 1, anonymous_id 100, the others 5', () => {
    const limits = Object.fromEntries(DEFAULT_IDENTITY_CONFIG.types.map((t) => [t.name, t.limit]));
    expect(limits).toEqual({ user_id: 1, email: 5, phone: 5, device_id: 5, anonymous_id: 100 });
  });

  it('reads the default types from the documented places', () => {
    const where = Object.fromEntries(
      DEFAULT_IDENTITY_CONFIG.types.map((t) => [
        t.name,
        [...t.paths, ...t.externalIdTypes.map((e) => `ext:${e}`)],
      ]),
    );
    expect(where).toEqual({
      user_id: ['userId'],
      email: ['traits.email', 'context.traits.email', 'ext:email'],
      phone: ['traits.phone', 'context.traits.phone', 'ext:phone'],
      device_id: ['context.device.id'],
      anonymous_id: ['anonymousId', 'previousId'],
    });
  });

  it('normalises email as email and phone as phone, everything else by trimming', () => {
    const normalize = Object.fromEntries(DEFAULT_IDENTITY_CONFIG.types.map((t) => [t.name, t.normalize]));
    expect(normalize).toEqual({
      user_id: 'trim',
      email: 'email',
      phone: 'phone',
      device_id: 'trim',
      anonymous_id: 'trim',
    });
  });

  it('ranks user_id above email above phone above device_id above anonymous_id', () => {
    const byPriority = [...DEFAULT_IDENTITY_CONFIG.types]
      .sort((a, b) => b.priority - a.priority)
      .map((t) => t.name);
    expect(byPriority).toEqual(['user_id', 'email', 'phone', 'device_id', 'anonymous_id']);
  });

  it('blocks the default placeholders unless told not to', () => {
    expect(DEFAULT_IDENTITY_CONFIG.blocked.includeDefaults).toBe(true);
    expect(parseIdentityConfig({ blocked: { includeDefaults: false } }).blocked.includeDefaults).toBe(false);
  });

  it('fills a custom type with limit 5 and the trim normaliser', () => {
    const config = parseIdentityConfig({ types: [type('crm_id')] });
    expect(config.types[0]).toMatchObject({ name: 'crm_id', limit: 5, normalize: 'trim', maxLength: 512 });
  });

  it('keeps the default identifiers of a profile inside the identity budget', () => {
    const bytes = DEFAULT_IDENTITY_CONFIG.types.reduce((sum, t) => sum + t.limit * identityEntryBytes(t), 0);
    expect(bytes).toBeLessThanOrEqual(IDENTITY_BUDGET_BYTES);
  });

  it('shares one name between the schema and the type', () => {
    const config: IdentityConfig = IdentityConfig.parse({});
    expect(config.types).toHaveLength(5);
  });
});

describe('invalid identity configuration fails with the path named', () => {
  it('names an invalid regular expression by its index', () => {
    expect(problem({ blocked: { patterns: ['ok', '(unclosed'] } })).toMatch(
      /blocked\.patterns\.1: not a valid regular expression/,
    );
  });

  it('names an invalid per-type pattern', () => {
    expect(problem({ types: [type('crm_id', { blocked: { patterns: ['[z-a]'] } })] })).toMatch(
      /types\.0\.blocked\.patterns\.0: not a valid regular expression/,
    );
  });

  it('names a duplicate type', () => {
    expect(problem({ types: [type('crm_id'), { name: 'crm_id', paths: ['userId'] }] })).toMatch(
      /types\.1\.name: duplicate type "crm_id"/,
    );
  });

  it('refuses the reserved name profile_id and names with a colon', () => {
    expect(problem({ types: [type('profile_id')] })).toMatch(/types\.0\.name: is reserved/);
    expect(problem({ types: [{ name: 'a:b', paths: ['userId'] }] })).toMatch(/types\.0\.name/);
  });

  it('refuses a path into the prototype and a malformed path', () => {
    expect(problem({ types: [{ name: 'x', paths: ['traits.__proto__'] }] })).toMatch(
      /types\.0\.paths\.0: invalid path "traits.__proto__"/,
    );
    expect(problem({ types: [{ name: 'x', paths: ['traits..email'] }] })).toMatch(
      /types\.0\.paths\.0: invalid path/,
    );
  });

  it('refuses a type with nowhere to read from', () => {
    expect(problem({ types: [{ name: 'x' }] })).toMatch(/types\.0\.paths: needs at least one path/);
  });

  it('refuses one path read by two types', () => {
    expect(
      problem({
        types: [
          { name: 'a', paths: ['userId'] },
          { name: 'b', paths: ['userId'] },
        ],
      }),
    ).toMatch(/types\.1\.paths\.0: path "userId" is already read by type "a"/);
  });

  it('refuses one external id type read by two types', () => {
    expect(
      problem({
        types: [
          { name: 'a', externalIdTypes: ['crm'] },
          { name: 'b', externalIdTypes: ['crm'] },
        ],
      }),
    ).toMatch(/types\.1\.externalIdTypes\.0: external id type "crm" is already read by type "a"/);
  });

  it('refuses limits that would not fit a profile', () => {
    expect(problem({ types: [type('a', { limit: 150 }), type('b', { limit: 60 })] })).toMatch(
      /types: the per-profile limits add up to 210/,
    );
    expect(problem({ types: [type('a', { limit: 100, maxLength: 1024 })] })).toMatch(
      /types: a profile at every limit with the longest values would hold \d+ bytes of identifiers/,
    );
  });

  it('refuses a limit below 1 and a non-integer priority', () => {
    expect(problem({ types: [type('a', { limit: 0 })] })).toMatch(/types\.0\.limit/);
    expect(problem({ types: [type('a', { priority: 1.5 })] })).toMatch(/types\.0\.priority/);
  });

  it('refuses an unknown normaliser and an unknown phone country', () => {
    expect(problem({ types: [type('a', { normalize: 'soundex' })] })).toMatch(/types\.0\.normalize/);
    expect(problem({ defaultPhoneCountry: 'XX' })).toMatch(/defaultPhoneCountry: not a country code/);
  });
});
