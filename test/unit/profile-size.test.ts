import { describe, expect, it } from 'vitest';
import type { JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import type { Identifier } from '../../src/core/identity/identifier';
import { DEFAULT_IDENTITY_CONFIG, IDENTITY_BUDGET_BYTES } from '../../src/core/identity/identity-config';
import { jsonBytes } from '../../src/core/identity/json-bytes';
import { applyEvent } from '../../src/core/profile/apply-event';
import { MAX_PROFILE_ID_LENGTH, PROFILE_BOUNDS } from '../../src/core/profile/bounds';
import { attachIdentifiers } from '../../src/core/profile/identities';
import { mergeProfiles } from '../../src/core/profile/merge-profiles';
import { createProfile, type Profile } from '../../src/core/profile/profile';
import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  PROFILE_BUDGET_BYTES,
  serializedProfileBytes,
  worstCaseProfileBytes,
} from '../../src/core/profile/size';

const T0 = Date.parse('2026-07-01T00:00:00.000Z');

/** `n` UTF-8 bytes of text that also costs escapes in JSON: a mix of 2-byte letters and quotes. */
const heavy = (n: number, tag: string) => `${tag}${'é"'.repeat(n)}`;

/** A string of exactly `bytes` JSON bytes (without quotes), unique by `i`. */
const exact = (bytes: number, i: number) => {
  const head = `${i}-`;
  return head + 'x'.repeat(bytes - head.length);
};

function record(i: number, fields: Record<string, unknown> & { context?: JsonObject }): StreamRecord {
  return {
    messageId: `${exact(120, i)}`,
    source: heavy(80, 's'),
    type: 'track',
    timestamp: new Date(T0 + i * 1000).toISOString(),
    receivedAt: new Date(T0 + i * 1000).toISOString(),
    context: {},
    ...fields,
  } as StreamRecord;
}

/** A profile pushed to every bound: the largest a resolver can ever write. */
function fullProfile(): Profile {
  let profile = createProfile('p'.repeat(MAX_PROFILE_ID_LENGTH), new Date(T0).toISOString());
  let i = 0;
  const apply = (r: StreamRecord) => {
    profile = applyEvent(profile, r).profile;
  };
  // 310 traits with names and values at their longest (values get cut or refused when too long).
  const traits: JsonObject = {};
  for (let k = 0; k < PROFILE_BOUNDS.maxTraits + 10; k++)
    traits[exact(PROFILE_BOUNDS.maxTraitKeyBytes, k)] = heavy(400, 'v');
  const categories: JsonObject = {};
  for (let k = 0; k < 40; k++) categories[exact(PROFILE_BOUNDS.maxConsentKeyBytes, k)] = k % 2 === 0;
  apply(record(i++, { type: 'identify', traits, context: { consent: { categoryPreferences: categories } } }));
  // More event names, groups and events than kept, every one at its longest.
  for (let k = 0; k < 120; k++)
    apply(record(i++, { event: exact(PROFILE_BOUNDS.maxEventNameBytes + 50, k) }));
  for (let k = 0; k < 60; k++)
    apply(record(i++, { type: 'group', groupId: exact(PROFILE_BOUNDS.maxGroupIdBytes, k) }));
  for (let k = 0; k < 300; k++) apply(record(i++, { type: 'identify', event: undefined }));
  // Identifiers: every default type at its limit, values at their longest.
  const identities: Identifier[] = [];
  for (const type of DEFAULT_IDENTITY_CONFIG.types) {
    for (let k = 0; k < type.limit; k++)
      identities.push({ type: type.name, value: exact(type.maxLength, k) });
  }
  profile = attachIdentifiers(profile, identities);
  // Merged from as many profiles as a profile can ever absorb (one fewer than its identifiers).
  for (let k = 0; k < PROFILE_BOUNDS.maxMergedFrom; k++) {
    const loser = createProfile(`q${exact(MAX_PROFILE_ID_LENGTH - 1, k)}`, new Date(T0 + 1).toISOString());
    profile = mergeProfiles(profile, loser).profile;
  }
  return profile;
}

describe('profile size budget', () => {
  it('the budget is half of DynamoDB item limit, and the worst case fits in it', () => {
    expect(PROFILE_BUDGET_BYTES).toBe(DYNAMODB_ITEM_LIMIT_BYTES / 2);
    expect(worstCaseProfileBytes()).toBeLessThanOrEqual(PROFILE_BUDGET_BYTES);
  });

  it('a profile filled to every bound stays under the computed worst case', () => {
    const profile = fullProfile();
    expect(Object.keys(profile.traits)).toHaveLength(PROFILE_BOUNDS.maxTraits);
    expect(Object.keys(profile.consent?.categoryPreferences ?? {})).toHaveLength(
      PROFILE_BOUNDS.maxConsentCategories,
    );
    expect(Object.keys(profile.eventCounts)).toHaveLength(PROFILE_BOUNDS.maxEventNames);
    expect(Object.keys(profile.groups)).toHaveLength(PROFILE_BOUNDS.maxGroups);
    expect(profile.recentEvents).toHaveLength(PROFILE_BOUNDS.maxRecentEvents);
    expect(profile.seen).toHaveLength(PROFILE_BOUNDS.dedupeWindow);
    expect(profile.mergedFrom).toHaveLength(PROFILE_BOUNDS.maxMergedFrom);
    expect(jsonBytes(profile.identities)).toBeLessThanOrEqual(IDENTITY_BUDGET_BYTES);

    const bytes = serializedProfileBytes(profile);
    expect(bytes).toBeLessThanOrEqual(worstCaseProfileBytes());
    // The fill is real: it comes close to the bound, so the bound is what it claims to be.
    expect(bytes).toBeGreaterThan(worstCaseProfileBytes() * 0.85);
  });

  it('a typical profile (200 events, 5 traits, 4 identifiers) takes about 16 KB, most of it the dedupe memory and the last 50 events', () => {
    let profile = createProfile('p_0123456789abcdef0123456789abcdef', new Date(T0).toISOString());
    profile = attachIdentifiers(profile, [
      { type: 'user_id', value: 'user-123456' },
      { type: 'email', value: 'jane.doe@example.com' },
      { type: 'anonymous_id', value: '6f1c2a9e-4b7d-4c1e-9f3a-2d8b7e6c5a41' },
      { type: 'anonymous_id', value: '0b9d8c7e-6f5a-4e3d-8c2b-1a0f9e8d7c6b' },
    ]);
    const traits = { name: 'Jane Doe', plan: 'pro', company: 'Initech', title: 'Engineer', country: 'NL' };
    for (let i = 0; i < 200; i++) {
      const r = {
        messageId: `0b9d8c7e-6f5a-4e3d-8c2b-${String(i).padStart(12, '0')}`,
        source: 'web',
        type: i % 20 === 0 ? 'identify' : 'track',
        event: ['Page Viewed', 'Product Viewed', 'Added To Cart', 'Order Completed'][i % 4],
        timestamp: new Date(T0 + i * 60_000).toISOString(),
        receivedAt: new Date(T0 + i * 60_000).toISOString(),
        context: { consent: { categoryPreferences: { Advertising: true, Analytics: true } } },
        traits,
      } as unknown as StreamRecord;
      profile = applyEvent(profile, r).profile;
    }
    expect(serializedProfileBytes(profile)).toBeLessThan(20 * 1024);
  });
});
