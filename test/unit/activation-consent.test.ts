import { describe, expect, it } from 'vitest';
import {
  type ConsentPreferences,
  categoryState,
  consentOfProfile,
  decideConsent,
} from '../../src/core/activation/consent';
import { parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { createProfile } from '../../src/core/profile/profile';

/** A member's consent for the destination's category `Advertising`, in every state a profile can hold it. */
const members = {
  'no consent recorded': undefined,
  'empty preferences': {},
  granted: { Advertising: true, Email: false },
  denied: { Advertising: false, Email: true },
  'other categories only': { Email: true, Analytics: true },
  'granted, other spelling': { advertising: true },
  'denied, other spelling': { ADVERTISING: false },
  'both spellings, one denies': { Advertising: true, advertising: false },
  'both spellings, the first denies': { advertising: false, Advertising: true },
} satisfies Record<string, ConsentPreferences | undefined>;

/** Every kind of destination the configuration allows (and the one it refuses, defended anyway). */
const destinations = {
  'opt-in (required)': { consent: { category: 'Advertising', required: true }, adType: false },
  'opt-out (not required)': { consent: { category: 'Advertising', required: false }, adType: false },
  'ad-type, required': { consent: { category: 'Advertising', required: true }, adType: true },
  'ad-type, not required': { consent: { category: 'Advertising', required: false }, adType: true },
  'no category': { consent: { category: null, required: true }, adType: false },
  'ad-type, no category (refused by config)': { consent: { category: null, required: true }, adType: true },
} as const;

type Member = keyof typeof members;
type Kind = keyof typeof destinations;
const A = 'allowed';
const D = 'suppressed: denied';
const U = 'suppressed: unknown';

/** The expected decision for each member state (rows) × destination kind (columns), written out. */
const expected: Record<Member, Record<Kind, string>> = {
  'no consent recorded': {
    'opt-in (required)': U,
    'opt-out (not required)': A,
    'ad-type, required': U,
    'ad-type, not required': U,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'empty preferences': {
    'opt-in (required)': U,
    'opt-out (not required)': A,
    'ad-type, required': U,
    'ad-type, not required': U,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  granted: {
    'opt-in (required)': A,
    'opt-out (not required)': A,
    'ad-type, required': A,
    'ad-type, not required': A,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  denied: {
    'opt-in (required)': D,
    'opt-out (not required)': D,
    'ad-type, required': D,
    'ad-type, not required': D,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'other categories only': {
    'opt-in (required)': U,
    'opt-out (not required)': A,
    'ad-type, required': U,
    'ad-type, not required': U,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'granted, other spelling': {
    'opt-in (required)': A,
    'opt-out (not required)': A,
    'ad-type, required': A,
    'ad-type, not required': A,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'denied, other spelling': {
    'opt-in (required)': D,
    'opt-out (not required)': D,
    'ad-type, required': D,
    'ad-type, not required': D,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'both spellings, one denies': {
    'opt-in (required)': D,
    'opt-out (not required)': D,
    'ad-type, required': D,
    'ad-type, not required': D,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
  'both spellings, the first denies': {
    'opt-in (required)': D,
    'opt-out (not required)': D,
    'ad-type, required': D,
    'ad-type, not required': D,
    'no category': A,
    'ad-type, no category (refused by config)': U,
  },
};

const cases = (Object.keys(members) as Member[]).flatMap((member) =>
  (Object.keys(destinations) as Kind[]).map((kind) => [member, kind, expected[member][kind]] as const),
);

describe('consent matrix: every member state × destination kind', () => {
  it('covers every combination', () => {
    expect(cases).toHaveLength(Object.keys(members).length * Object.keys(destinations).length);
  });

  it.each(cases)('%s × %s → %s', (member, kind, outcome) => {
    const decision = decideConsent(members[member], destinations[kind]);
    const text = decision.outcome === 'allowed' ? A : `suppressed: ${decision.reason}`;
    expect(text).toBe(outcome);
  });
});

describe('consent matrix over every category of a profile × every configured destination', () => {
  const categories = ['Advertising', 'Email', 'Sms', 'Analytics'];
  const profile: ConsentPreferences = { Advertising: false, Email: true, Sms: false };
  const config = parseDestinationsConfig({
    destinations: categories.flatMap((category) =>
      [
        { required: true, adType: false },
        { required: false, adType: false },
        { required: true, adType: true },
        { required: false, adType: true },
      ].map(({ required, adType }, i) => ({
        kind: 'sqs',
        name: `${category}-${i}`,
        queue: 'arn:aws:sqs:eu-west-1:111122223333:q',
        segments: ['s'],
        consent: { category, required },
        adType,
      })),
    ),
  });

  it.each(config.destinations.map((d) => [d.name, d] as const))('%s', (_, destination) => {
    const category = destination.consent.category as string;
    const decision = decideConsent(profile, destination);
    if (profile[category] === true) expect(decision).toEqual({ outcome: 'allowed', reason: 'granted' });
    else if (profile[category] === false)
      expect(decision).toEqual({ outcome: 'suppressed', reason: 'denied' });
    else if (destination.consent.required || destination.adType) {
      expect(decision).toEqual({ outcome: 'suppressed', reason: 'unknown' });
    } else expect(decision).toEqual({ outcome: 'allowed', reason: 'not_denied' });
  });
});

describe('consent as the profile stores it', () => {
  it('reads profile.consent.categoryPreferences; a profile that never stated consent has none', () => {
    const profile = createProfile('p-1', '2026-11-22T10:00:00.000Z');
    expect(consentOfProfile(profile)).toBeUndefined();
    const withConsent = { ...profile, consent: { categoryPreferences: { Email: true }, t: 1, h: 'k' } };
    expect(consentOfProfile(withConsent)).toEqual({ Email: true });
    expect(decideConsent(consentOfProfile(profile), destinations['opt-in (required)']).outcome).toBe(
      'suppressed',
    );
  });

  it('a category named like an Object prototype key is just unknown', () => {
    expect(categoryState({}, 'constructor')).toBe('unknown');
    expect(categoryState({}, '__proto__')).toBe('unknown');
  });
});
