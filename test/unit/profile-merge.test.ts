import { describe, expect, it } from 'vitest';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { IdentityInvariantError } from '../../src/core/identity/errors';
import { applyEvent } from '../../src/core/profile/apply-event';
import { attachIdentifiers, profileRef } from '../../src/core/profile/identities';
import { mergeProfiles } from '../../src/core/profile/merge-profiles';
import { createProfile, type Profile } from '../../src/core/profile/profile';

const T0 = Date.parse('2026-05-01T10:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function event(
  id: string,
  at: number,
  fields: Record<string, unknown> & { type?: CallType; context?: JsonObject } = {},
) {
  return {
    messageId: id,
    source: 'web',
    type: 'track',
    event: 'Viewed',
    timestamp: iso(at),
    receivedAt: iso(at),
    context: {},
    ...fields,
  } as StreamRecord;
}

const apply = (profile: Profile, ...records: StreamRecord[]) =>
  records.reduce((p, r) => applyEvent(p, r).profile, profile);

/** A profile created at `createdMinute` with events applied. */
const profile = (id: string, createdMinute: number, ...records: StreamRecord[]) =>
  apply(createProfile(id, iso(createdMinute)), ...records);

const merge = (winner: Profile, loser: Profile) => mergeProfiles(winner, loser).profile;

describe('mergeProfiles: anonymous history follows the person', () => {
  const known = attachIdentifiers(
    profile(
      'p_known',
      0,
      event('k1', 50, { type: 'identify', traits: { plan: 'pro', name: 'Jane' } }),
      event('k2', 60, { event: 'Order Completed' }),
    ),
    [{ type: 'user_id', value: 'jane' }],
  );
  const anonymous = attachIdentifiers(
    profile(
      'p_anon',
      5,
      event('a1', 10, {
        event: 'Order Completed',
        context: { consent: { categoryPreferences: { Ads: true } } },
      }),
      event('a2', 70, { type: 'identify', traits: { plan: 'team', referrer: 'ad' } }),
      event('a3', 20, { type: 'group', groupId: 'acme' }),
    ),
    [{ type: 'anonymous_id', value: 'a-1' }],
  );

  it('adds the counters up and widens firstSeen and lastSeen', () => {
    const merged = merge(known, anonymous);
    expect(merged.eventCount).toBe(5);
    expect(merged.typeCounts).toEqual({ group: 1, identify: 2, track: 2 });
    expect(merged.eventCounts).toEqual({ 'Order Completed': 2 });
    expect(merged.firstSeen).toBe(iso(10));
    expect(merged.lastSeen).toBe(iso(70));
  });

  it('keeps the newest write per trait, from either side', () => {
    const merged = merge(known, anonymous);
    expect(Object.fromEntries(Object.entries(merged.traits).map(([k, e]) => [k, e.v]))).toEqual({
      name: 'Jane',
      plan: 'team',
      referrer: 'ad',
    });
  });

  it('carries consent, groups, recent events and identities, keeping the winner id and createdAt', () => {
    const merged = merge(known, anonymous);
    expect(merged.profileId).toBe('p_known');
    expect(merged.createdAt).toBe(iso(0));
    expect(merged.consent?.categoryPreferences).toEqual({ Ads: true });
    expect(merged.groups).toEqual({ acme: T0 + 20 * 60_000 });
    expect(merged.recentEvents.map((e) => e.messageId)).toEqual(['a2', 'k2', 'k1', 'a3', 'a1']);
    expect(merged.identities).toEqual([
      { type: 'anonymous_id', value: 'a-1' },
      { type: 'user_id', value: 'jane' },
    ]);
    expect(merged.mergedFrom).toEqual(['p_anon']);
    expect(profileRef(merged)).toEqual({
      profileId: 'p_known',
      createdAt: iso(0),
      identifierCounts: { anonymous_id: 1, user_id: 1 },
      mergedFrom: ['p_anon'],
    });
  });

  it('recognises a message of the loser delivered again after the merge', () => {
    const merged = merge(known, anonymous);
    expect(applyEvent(merged, event('a1', 10)).skipped).toBe('duplicate');
  });
});

describe('mergeProfiles: idempotent and in one direction only', () => {
  const a = profile('p_a', 0, event('e1', 1));
  const b = profile('p_b', 1, event('e2', 2));
  const c = profile('p_c', 2, event('e3', 3));

  it('merging a loser again (a retry after a crash) changes nothing', () => {
    const once = mergeProfiles(a, b);
    const again = mergeProfiles(once.profile, b);
    expect(again.changed).toBe(false);
    expect(again.profile).toBe(once.profile);
  });

  it('knows the profiles a loser had absorbed', () => {
    const bc = merge(b, c);
    const abc = merge(a, bc);
    expect(abc.mergedFrom).toEqual(['p_b', 'p_c']);
    expect(mergeProfiles(abc, c).changed).toBe(false);
  });

  it('merge chain A→B→C: any order and grouping ends in the same profile', () => {
    const viaB = merge(a, merge(b, c));
    const stepwise = merge(merge(a, b), c);
    const otherOrder = merge(merge(a, c), b);
    expect(stepwise).toEqual(viaB);
    expect(otherOrder).toEqual(viaB);
    expect(JSON.stringify(otherOrder)).toBe(JSON.stringify(viaB));
    expect(viaB.eventCount).toBe(3);
  });

  it('refuses to merge an older profile into a younger one', () => {
    expect(() => mergeProfiles(b, a)).toThrow(IdentityInvariantError);
  });

  it('merging a profile with itself changes nothing', () => {
    expect(mergeProfiles(a, a)).toEqual({ profile: a, changed: false, warnings: [] });
  });
});
