import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { applyEvent } from '../../src/core/profile/apply-event';
import { createProfile, type Profile } from '../../src/core/profile/profile';
import { bindParams, compileSegment, printMembersQuery } from '../../src/core/segments';
import { type LakeEvent, writeTestLake } from '../support/segments-lake';

/**
 * Traits, consent, event counts and first / last seen in the SQL agree with the profiles the resolver
 * builds (`applyEvent`), whatever order the resolver saw the events in: the latest write per trait
 * wins, identify `traits` beat `context.traits`, a track call's `traits` are ignored, null writes
 * count, the latest consent statement replaces earlier ones, and writes in the same millisecond are
 * decided by message key.
 */
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const PLANS = ['a', 'b', 'c'] as const;

const write = fc.record({
  user: fc.integer({ min: 0, max: 2 }),
  type: fc.constantFrom('identify' as const, 'track' as const),
  own: fc.option(fc.constantFrom<string | null>(...PLANS, null), { nil: undefined }),
  context: fc.option(fc.constantFrom<string | null>(...PLANS, null), { nil: undefined }),
  consent: fc.option(fc.boolean(), { nil: undefined }),
});

describe('segment SQL agrees with the resolver', () => {
  it('on traits, consent, counts and first / last seen, for events in any order', {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(write, { minLength: 1, maxLength: 14 }),
        // Few distinct times, so that many writes share a millisecond.
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 14, maxLength: 14 }),
        fc.array(fc.nat(), { minLength: 14, maxLength: 14 }),
        async (writes, minutes, shuffle) => {
          const events: LakeEvent[] = writes.map((w, i) => ({
            messageId: `m-${i}`,
            type: w.type,
            ...(w.type === 'track' ? { event: 'Clicked' } : {}),
            userId: `u-${w.user}`,
            timestamp: new Date(T0 + (minutes[i] ?? 0) * 60_000).toISOString(),
            ...(w.own === undefined ? {} : { traits: { plan: w.own } }),
            context: {
              ...(w.context === undefined ? {} : { traits: { plan: w.context } }),
              ...(w.consent === undefined
                ? {}
                : { consent: { categoryPreferences: { Advertising: w.consent } } }),
            },
          }));
          const profiles = resolve(events, shuffle);
          const lake = await writeTestLake(
            events,
            [0, 1, 2].map((user) => ({
              id_type: 'user_id',
              id_value: `u-${user}`,
              profile_id: `p-${user}`,
              linked_at: new Date(T0).toISOString(),
            })),
          );
          try {
            const members = async (definition: unknown) => {
              const query = printMembersQuery(await compileSegment(definition), 'duckdb');
              const rows = await lake.rows(query.sql, bindParams(query.params, { now: T0 }));
              return rows.map((row) => String(row.profile_id));
            };
            const expected = (keep: (profile: Profile) => boolean) =>
              [...profiles.values()]
                .filter(keep)
                .map((profile) => profile.profileId)
                .sort();
            for (const plan of PLANS) {
              expect(await members({ trait: { name: 'plan', op: 'eq', value: plan } })).toEqual(
                expected((p) => Object.hasOwn(p.traits, 'plan') && p.traits.plan?.v === plan),
              );
            }
            expect(await members({ trait: { name: 'plan', op: 'not_exists' } })).toEqual(
              expected((p) => !Object.hasOwn(p.traits, 'plan') || p.traits.plan?.v === null),
            );
            expect(await members({ consent: { category: 'Advertising' } })).toEqual(
              expected((p) => p.consent?.categoryPreferences.Advertising === true),
            );
            for (const count of [0, 1, 2, 3]) {
              expect(
                await members({ event: { name: 'Clicked', count: { op: 'eq', value: count } } }),
              ).toEqual(expected((p) => (p.eventCounts.Clicked ?? 0) === count));
            }
            const middle = T0 + 2 * 60_000;
            const iso = new Date(middle).toISOString();
            expect(await members({ first_seen: { op: 'before', value: iso } })).toEqual(
              expected((p) => p.firstSeen !== undefined && Date.parse(p.firstSeen) < middle),
            );
            expect(await members({ last_seen: { op: 'after', value: iso } })).toEqual(
              expected((p) => p.lastSeen !== undefined && Date.parse(p.lastSeen) >= middle),
            );
          } finally {
            await lake.close();
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});

/** The profiles the resolver builds from the events, applied in a shuffled order. */
function resolve(events: readonly LakeEvent[], keys: readonly number[]): Map<string, Profile> {
  const order = events.map((event, i) => ({ event, key: i }));
  order.sort((a, b) => (keys[a.key] ?? 0) - (keys[b.key] ?? 0) || a.key - b.key);
  const profiles = new Map<string, Profile>(
    [0, 1, 2].map((user) => [`u-${user}`, createProfile(`p-${user}`, new Date(T0).toISOString())]),
  );
  for (const { event } of order) {
    const record = { source: 'test', receivedAt: event.timestamp, context: {}, ...event } as StreamRecord;
    const id = event.userId ?? '';
    const profile = profiles.get(id);
    if (profile !== undefined) profiles.set(id, applyEvent(profile, record).profile);
  }
  return profiles;
}
