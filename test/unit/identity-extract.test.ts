import { describe, expect, it } from 'vitest';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { extractIdentifiers } from '../../src/core/identity/extract-identifiers';
import {
  DEFAULT_BLOCKED_VALUES,
  DEFAULT_IDENTITY_CONFIG,
  parseIdentityConfig,
} from '../../src/core/identity/identity-config';

function record(fields: { type?: CallType; context?: JsonObject } & Record<string, unknown>): StreamRecord {
  return {
    messageId: 'm-1',
    source: 'web',
    timestamp: '2026-01-01T00:00:00.000Z',
    receivedAt: '2026-01-01T00:00:01.000Z',
    ...fields,
    type: fields.type ?? 'identify',
    context: fields.context ?? {},
  } as StreamRecord;
}

const extract = (fields: Parameters<typeof record>[0], config = DEFAULT_IDENTITY_CONFIG) =>
  extractIdentifiers(record(fields), config);

describe('extractIdentifiers: where values are read', () => {
  it('reads userId, anonymousId, traits.email, context.traits.phone and context.device.id', () => {
    const { identifiers, rejected } = extract({
      userId: 'u-1',
      anonymousId: 'a-1',
      traits: { email: 'jane@example.com' },
      context: { traits: { phone: '+14155552671' }, device: { id: 'dev-1' } },
    });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'email', value: 'jane@example.com' },
      { type: 'phone', value: '+14155552671' },
      { type: 'device_id', value: 'dev-1' },
      { type: 'anonymous_id', value: 'a-1' },
    ]);
    expect(rejected).toEqual([]);
  });

  it('reads previousId of an alias as an anonymous id', () => {
    const { identifiers } = extract({ type: 'alias', previousId: 'a-old', userId: 'u-1' });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'anonymous_id', value: 'a-old' },
    ]);
  });

  it('reads Segment externalIds by their type', () => {
    const { identifiers } = extract({
      userId: 'u-1',
      context: {
        externalIds: [
          { id: 'Jane@Example.com', type: 'email', collection: 'users', encoding: 'none' },
          { id: 'ignored', type: 'unknown_kind' },
          'not an object',
          { id: 'no type' },
        ],
      },
    });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'email', value: 'jane@example.com' },
    ]);
  });

  it('reads custom paths and custom external id types', () => {
    const config = parseIdentityConfig({
      types: [
        { name: 'crm_id', paths: ['properties.crm.id'], externalIdTypes: ['salesforce'], priority: 90 },
        { name: 'user_id', paths: ['userId'], priority: 100, limit: 1 },
      ],
    });
    const { identifiers } = extract(
      {
        type: 'track',
        userId: 'u-1',
        properties: { crm: { id: 'C-9' } },
        context: { externalIds: [{ id: 'SF-1', type: 'salesforce' }] },
      },
      config,
    );
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'crm_id', value: 'C-9' },
      { type: 'crm_id', value: 'SF-1' },
    ]);
  });

  it('does not read traits of a group call: they describe the group', () => {
    const { identifiers } = extract({
      type: 'group',
      userId: 'u-1',
      groupId: 'g-1',
      traits: { email: 'billing@acme.example' },
      context: { traits: { email: 'jane@example.com' } },
    });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'email', value: 'jane@example.com' },
    ]);
  });

  it('de-duplicates the same identifier found in several places', () => {
    const { identifiers } = extract({
      traits: { email: 'Jane@Example.com ' },
      context: {
        traits: { email: 'jane@example.com' },
        externalIds: [{ id: 'JANE@example.com', type: 'email' }],
      },
    });
    expect(identifiers).toEqual([{ type: 'email', value: 'jane@example.com' }]);
  });

  it('turns numbers into strings and refuses objects and booleans', () => {
    const { identifiers, rejected } = extract({
      traits: { email: { address: 'x@y.z' } },
      context: { device: { id: 1234 }, traits: { phone: true } },
    });
    expect(identifiers).toEqual([{ type: 'device_id', value: '1234' }]);
    expect(rejected).toEqual([
      { type: 'email', from: 'traits.email', reason: 'invalid_type' },
      { type: 'phone', from: 'context.traits.phone', reason: 'invalid_type' },
    ]);
    const us = parseIdentityConfig({ defaultPhoneCountry: 'US' });
    expect(extract({ traits: { phone: 4155552671 } }, us).identifiers).toEqual([
      { type: 'phone', value: '+14155552671' },
    ]);
  });

  it('ignores absent and null values without reporting them', () => {
    expect(extract({ userId: 'u-1', traits: { email: null } })).toEqual({
      identifiers: [{ type: 'user_id', value: 'u-1' }],
      rejected: [],
    });
  });

  it('never follows a path into the prototype of an object', () => {
    const config = parseIdentityConfig({ types: [{ name: 'x', paths: ['context.toString'] }] });
    expect(extract({ context: {} }, config)).toEqual({ identifiers: [], rejected: [] });
  });
});

describe('extractIdentifiers: normalisation', () => {
  it('email: trims and lowercases only, keeping dots and +tags', () => {
    const { identifiers } = extract({ traits: { email: '  Jane.Doe+News@Example.COM\t' } });
    expect(identifiers).toEqual([{ type: 'email', value: 'jane.doe+news@example.com' }]);
  });

  it('email: a value that is not an address is invalid', () => {
    for (const email of ['n/a', 'jane@', '@example.com', 'a@b@c', 'jane doe@example.com']) {
      expect(extract({ traits: { email } }).rejected).toEqual([
        { type: 'email', from: 'traits.email', reason: 'invalid' },
      ]);
    }
  });

  it('phone: formats as E.164, with the default country for national numbers', () => {
    expect(extract({ traits: { phone: '+1 (415) 555-2671' } }).identifiers).toEqual([
      { type: 'phone', value: '+14155552671' },
    ]);
    const withCountry = parseIdentityConfig({ defaultPhoneCountry: 'GB' });
    expect(extract({ traits: { phone: '020 7946 0958' } }, withCountry).identifiers).toEqual([
      { type: 'phone', value: '+442079460958' },
    ]);
  });

  it('phone: a national number without a default country, or an impossible number, is invalid', () => {
    for (const phone of ['020 7946 0958', '+10000000000', 'call me', '+1 415 555 2671 and more text']) {
      expect(extract({ traits: { phone } }).rejected).toEqual([
        { type: 'phone', from: 'traits.phone', reason: 'invalid' },
      ]);
    }
  });

  it('others: trimmed, case kept', () => {
    expect(extract({ userId: '  User-ABC  ' }).identifiers).toEqual([{ type: 'user_id', value: 'User-ABC' }]);
  });

  it('refuses control characters inside a value', () => {
    expect(extract({ userId: 'u\u00001' }).rejected).toEqual([
      { type: 'user_id', from: 'userId', reason: 'invalid' },
    ]);
  });

  it('refuses a value longer than the type allows, counting UTF-8 bytes', () => {
    const config = parseIdentityConfig({
      types: [{ name: 'user_id', paths: ['userId'], limit: 1, maxLength: 8 }],
    });
    expect(extract({ userId: '12345678' }, config).identifiers).toHaveLength(1);
    expect(extract({ userId: '1234567é' }, config).rejected).toEqual([
      { type: 'user_id', from: 'userId', reason: 'too_long' },
    ]);
    expect(extract({ userId: 'x'.repeat(100_000) }, config).rejected).toEqual([
      { type: 'user_id', from: 'userId', reason: 'too_long' },
    ]);
  });
});

describe('extractIdentifiers: blocked values never become identifiers', () => {
  it.each(DEFAULT_BLOCKED_VALUES)(
    'blocks the default placeholder %j in any case and with spaces',
    (value) => {
      for (const variant of [value, value.toUpperCase(), ` ${value} `]) {
        const { identifiers, rejected } = extract({ userId: variant, anonymousId: variant });
        expect(identifiers).toEqual([]);
        expect(rejected.map((r) => r.reason)).toEqual(['blocked', 'blocked']);
      }
    },
  );

  it('blocks empty and whitespace-only values', () => {
    const { identifiers, rejected } = extract({ userId: '   ', traits: { email: '' } });
    expect(identifiers).toEqual([]);
    expect(rejected).toEqual([
      { type: 'user_id', from: 'userId', reason: 'blocked', rule: 'empty' },
      { type: 'email', from: 'traits.email', reason: 'blocked', rule: 'empty' },
    ]);
  });

  it('blocks values of zeros and dashes by the default pattern', () => {
    for (const value of ['00000', '000-000', '--', '0-0']) {
      expect(extract({ userId: value }).rejected).toEqual([
        { type: 'user_id', from: 'userId', reason: 'blocked', rule: 'pattern:^[0-]*$' },
      ]);
    }
    expect(extract({ userId: '0001' }).identifiers).toEqual([{ type: 'user_id', value: '0001' }]);
  });

  it('blocks configured values and patterns, globally and per type, on the normalised value too', () => {
    const config = parseIdentityConfig({
      blocked: { values: ['test@test.com'], patterns: ['^guest-\\d+$'] },
      types: [
        { name: 'user_id', paths: ['userId'], limit: 1, priority: 100, blocked: { values: ['admin'] } },
        { name: 'email', paths: ['traits.email'], normalize: 'email' },
      ],
    });
    expect(extract({ userId: 'Guest-42', traits: { email: ' TEST@test.COM ' } }, config).rejected).toEqual([
      { type: 'user_id', from: 'userId', reason: 'blocked', rule: 'pattern:^guest-\\d+$' },
      { type: 'email', from: 'traits.email', reason: 'blocked', rule: 'value:test@test.com' },
    ]);
    expect(extract({ userId: 'ADMIN' }, config).rejected[0]).toMatchObject({ rule: 'value:admin' });
    // `admin` is blocked for user ids only.
    expect(extract({ traits: { email: 'admin@example.com' } }, config).identifiers).toHaveLength(1);
  });

  it('lets the defaults be switched off', () => {
    const config = parseIdentityConfig({ blocked: { includeDefaults: false } });
    expect(extract({ userId: 'null' }, config).identifiers).toEqual([{ type: 'user_id', value: 'null' }]);
    expect(extract({ userId: ' ' }, config).identifiers).toEqual([]);
  });

  it('reports where a blocked value was and which rule matched, never the value', () => {
    const { rejected } = extract({ traits: { email: 'undefined' } });
    expect(rejected).toEqual([
      { type: 'email', from: 'traits.email', reason: 'blocked', rule: 'value:undefined' },
    ]);
    expect(
      JSON.stringify(extract({ userId: 'jane-secret-id', anonymousId: '[object Object]' }).rejected),
    ).not.toContain('jane-secret-id');
  });
});
