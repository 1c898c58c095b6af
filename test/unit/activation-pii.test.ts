import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyPiiPolicy,
  type FieldPolicy,
  hashEmail,
  hashPhone,
  hashValue,
  normalizeForHash,
  resolveFieldPolicy,
} from '../../src/core/activation/pii';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('hashing vectors (issue #5)', () => {
  it('John_Smith@gmail.com → sha256 of john_smith@gmail.com', () => {
    expect(hashEmail('John_Smith@gmail.com')).toBe(sha256('john_smith@gmail.com'));
    expect(hashEmail('  John_Smith@gmail.com \n')).toBe(sha256('john_smith@gmail.com'));
  });

  it('(650)555-1212 → sha256 of 16505551212 (default country US)', () => {
    expect(hashPhone('(650)555-1212')).toBe(sha256('16505551212'));
    expect(hashPhone('+1 650 555 1212')).toBe(sha256('16505551212'));
    expect(hashPhone('650.555.1212', { defaultPhoneCountry: 'US' })).toBe(sha256('16505551212'));
  });

  it('hex is lowercase, 64 characters', () => {
    expect(hashEmail('a@b.co')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a phone number without country code takes the default country', () => {
    expect(normalizeForHash('phone', '07911 123456', { defaultPhoneCountry: 'GB' })).toBe('447911123456');
    expect(normalizeForHash('phone', '+44 7911 123456')).toBe('447911123456');
  });

  it('values that do not normalise are not hashed', () => {
    expect(hashEmail('not an email')).toBeUndefined();
    expect(hashEmail('   ')).toBeUndefined();
    expect(hashPhone('12')).toBeUndefined();
    expect(hashValue('phone', 6505551212)).toBe(sha256('16505551212'));
    expect(hashValue('phone', true)).toBeUndefined();
    expect(hashValue('trim', 42)).toBe(sha256('42'));
    expect(hashValue('trim', '  Gold ')).toBe(sha256('Gold'));
  });
});

const localPart = fc.stringMatching(/^[a-z0-9._+-]{1,20}$/);
const domain = fc.stringMatching(/^[a-z0-9-]{1,12}\.[a-z]{2,6}$/);
const email = fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`);
const spaces = fc.constantFrom('', ' ', '  ', '\t', '\n');
/** Randomly upper-cases letters of `text`, decided by the bits of `mask`. */
const recase = (text: string, mask: number) =>
  [...text].map((c, i) => ((mask >> (i % 31)) & 1 ? c.toUpperCase() : c)).join('');

describe('hashing normalisation (properties)', () => {
  it('email: any case and surrounding whitespace give the same hash; normalising is idempotent', () => {
    fc.assert(
      fc.property(
        email,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        spaces,
        spaces,
        (address, mask, before, after) => {
          const variant = `${before}${recase(address, mask)}${after}`;
          expect(hashEmail(variant)).toBe(sha256(address));
          const normalized = normalizeForHash('email', variant) as string;
          expect(normalizeForHash('email', normalized)).toBe(normalized);
        },
      ),
    );
  });

  it('phone: any common US formatting gives the hash of the E.164 digits; normalising is idempotent', () => {
    const area = fc.integer({ min: 201, max: 989 }).filter((n) => n % 100 !== 11);
    const exchange = fc.integer({ min: 200, max: 999 }).filter((n) => n % 100 !== 11);
    const line = fc.integer({ min: 0, max: 9999 });
    const format = fc.constantFrom(
      (a: string, e: string, l: string) => `(${a})${e}-${l}`,
      (a: string, e: string, l: string) => `${a}-${e}-${l}`,
      (a: string, e: string, l: string) => `+1 ${a} ${e} ${l}`,
      (a: string, e: string, l: string) => `1${a}${e}${l}`,
      (a: string, e: string, l: string) => `${a}.${e}.${l}`,
    );
    let valid = 0;
    fc.assert(
      fc.property(area, exchange, line, format, spaces, (a, e, l, write, pad) => {
        const digits = `1${a}${e}${String(l).padStart(4, '0')}`;
        const written = `${pad}${write(String(a), String(e), String(l).padStart(4, '0'))}${pad}`;
        const normalized = normalizeForHash('phone', written);
        // Not every such number is valid in the plan; a valid one always normalises to its digits.
        if (normalized === undefined) return;
        valid++;
        expect(normalized).toBe(digits);
        expect(hashPhone(written)).toBe(sha256(digits));
        expect(normalizeForHash('phone', normalized)).toBe(normalized);
        expect(normalizeForHash('phone', `+${normalized}`)).toBe(normalized);
      }),
    );
    expect(valid).toBeGreaterThan(50);
  });
});

describe('field policy', () => {
  it('identifiers take their type’s normaliser from identity configuration; traits called email/phone theirs', () => {
    const policy = resolveFieldPolicy(
      {
        identifiers: [
          { type: 'email', pii: 'sha256' },
          { type: 'work_phone', pii: 'sha256' },
          { type: 'user_id', pii: 'sha256' },
          { type: 'crm_email', pii: 'sha256', normalize: 'email' },
        ],
        traits: [
          { name: 'email', pii: 'sha256' },
          { name: 'phone', pii: 'raw' },
          { name: 'plan', pii: 'sha256' },
        ],
      },
      [
        { name: 'email', normalize: 'email' },
        { name: 'work_phone', normalize: 'phone' },
        { name: 'user_id', normalize: 'trim' },
      ],
    );
    expect(policy.identifiers.map((f) => f.normalize)).toEqual(['email', 'phone', 'trim', 'email']);
    expect(policy.traits.map((f) => f.normalize)).toEqual(['email', 'phone', 'trim']);
  });
});

describe('applying a PII policy to a member', () => {
  const policy: FieldPolicy = {
    identifiers: [
      { name: 'email', pii: 'sha256', normalize: 'email' },
      { name: 'phone', pii: 'sha256', normalize: 'phone' },
      { name: 'user_id', pii: 'raw', normalize: 'trim' },
      { name: 'device_id', pii: 'omit', normalize: 'trim' },
    ],
    traits: [
      { name: 'first_name', pii: 'raw', normalize: 'trim' },
      { name: 'email', pii: 'sha256', normalize: 'email' },
      { name: 'ssn', pii: 'omit', normalize: 'trim' },
      { name: 'address', pii: 'raw', normalize: 'trim' },
    ],
  };
  const member = {
    profileId: 'p-1',
    identifiers: {
      email: ['jane@example.com', 'j.doe@work.example'],
      phone: '+16505551212',
      user_id: 'u-42',
      device_id: 'd-1',
      anonymous_id: 'anon-1',
    },
    traits: {
      first_name: 'Jane',
      email: ' Jane@Example.com ',
      ssn: '078-05-1120',
      address: { city: 'Springfield', zip: '12345' },
      plan: 'gold',
    },
  };

  it('hashes sha256 fields, copies raw ones, leaves out omitted and unlisted ones', () => {
    const { member: out, unhashable } = applyPiiPolicy(member, policy);
    expect(out).toEqual({
      profileId: 'p-1',
      identifiers: {
        email: [sha256('jane@example.com'), sha256('j.doe@work.example')],
        phone: sha256('16505551212'),
        user_id: 'u-42',
      },
      traits: {
        first_name: 'Jane',
        email: sha256('jane@example.com'),
        address: { city: 'Springfield', zip: '12345' },
      },
    });
    expect(unhashable).toEqual([]);
  });

  it('never sends a raw value where the policy hashes or omits it', () => {
    const text = JSON.stringify(applyPiiPolicy(member, policy).member);
    for (const secret of [
      'jane@example.com',
      'Jane@Example.com',
      'j.doe@work.example',
      '6505551212',
      '078-05-1120',
      'd-1',
      'anon-1',
      'gold',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('a value that does not normalise is left out and reported by field name, never sent raw', () => {
    const { member: out, unhashable } = applyPiiPolicy(
      {
        profileId: 'p-2',
        identifiers: { email: ['jane@example.com', 'oops'], phone: '12' },
        traits: { email: 7, first_name: null },
      },
      policy,
    );
    expect(out.identifiers).toEqual({ email: [sha256('jane@example.com')] });
    expect(out.traits).toEqual({ first_name: null });
    expect(unhashable).toEqual([
      { field: 'identifiers.email' },
      { field: 'identifiers.phone' },
      { field: 'traits.email' },
    ]);
    expect(JSON.stringify(out)).not.toContain('oops');
  });

  it('property: no raw email or phone of a member survives in its output when hashed', () => {
    fc.assert(
      fc.property(email, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (address, mask) => {
        const written = recase(address, mask);
        const out = applyPiiPolicy(
          {
            profileId: 'p',
            identifiers: { email: written, phone: '+16505551212' },
            traits: { email: written },
          },
          policy,
        ).member;
        const text = JSON.stringify(out).toLowerCase();
        expect(text).not.toContain(address);
        expect(text).not.toContain('6505551212');
        expect(out.identifiers.email).toBe(sha256(address));
      }),
    );
  });
});
