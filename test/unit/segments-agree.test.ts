import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { applyEvent } from '../../src/core/profile/apply-event';
import { createProfile, type Profile } from '../../src/core/profile/profile';
import { bindParams, compileSegment, printMembersQuery } from '../../src/core/segments';
import { type LakeEvent, type TestLake, writeTestLake } from '../support/segments-lake';

/**
 * Traits, consent, event counts and first / last seen in the SQL agree with the profiles the resolver
 * builds (`applyEvent`), whatever order the resolver saw the events in: the latest write per trait
 * wins, identify `traits` beat `context.traits`, a track call's `traits` are ignored, null writes
 * count, the latest consent statement replaces earlier ones, writes in the same millisecond are
 * decided by message key, a redelivered message counts once and a messageId reused by another
 * person's message counts on each person's profile.
 */
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const PLANS = ['a', 'b', 'c'] as const;

const write = fc.record({
  user: fc.integer({ min: 0, max: 2 }),
  type: fc.constantFrom('identify' as const, 'track' as const),
  own: fc.option(fc.constantFrom<string | null>(...PLANS, null), { nil: undefined }),
  context: fc.option(fc.constantFrom<string | null>(...PLANS, null), { nil: undefined }),
  consent: fc.option(fc.boolean(), { nil: undefined }),
  // The messageId of an earlier write: the same person's message received again (a redelivery, the
  // same message), or another person's message under a reused id (a buggy client).
  reuse: fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.nat(13), weight: 1 }),
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
          const events: LakeEvent[] = [];
          writes.forEach((w, i) => {
            const event: LakeEvent = {
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
            };
            const reused = w.reuse === undefined || i === 0 ? undefined : events[w.reuse % i]?.messageId;
            // This person's own message under that id, if any: then this one is it, received again
            // (two messages of one person under one id are where the two differ: docs/segments.md).
            const own = events.find((e) => e.messageId === reused && e.userId === event.userId);
            if (reused === undefined) events.push(event);
            else if (own !== undefined) events.push(redelivery(own));
            else events.push({ ...event, messageId: reused });
          });
          const profiles = resolve(events, shuffle);
          const lake = await writeLake(events);
          try {
            const members = membersIn(lake);
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

  it("a messageId reused by another person's message counts on each profile; a redelivery once", async () => {
    const click = (userId: string, minute: number): LakeEvent => ({
      messageId: 'collide-1',
      type: 'track',
      event: 'Clicked',
      userId,
      timestamp: new Date(T0 + minute * 60_000).toISOString(),
    });
    const alice = click('u-0', 0);
    const events = [alice, click('u-1', 1), redelivery(alice)];
    // The resolver sees the redelivery first, then the reused id, then the first delivery.
    const profiles = resolve(events, [2, 1, 0]);
    expect([...profiles.values()].map((p) => p.eventCounts.Clicked ?? 0)).toEqual([1, 1, 0]);
    const lake = await writeLake(events);
    try {
      const members = membersIn(lake);
      const clicked = (count: number) => ({ event: { name: 'Clicked', count: { op: 'eq', value: count } } });
      expect(await members(clicked(1))).toEqual(['p-0', 'p-1']);
      expect(await members(clicked(2))).toEqual([]);
    } finally {
      await lake.close();
    }
  });
});

/** A lake of the events, where user `u-n` is profile `p-n` (n = 0, 1, 2). */
function writeLake(events: readonly LakeEvent[]): Promise<TestLake> {
  return writeTestLake(
    events,
    [0, 1, 2].map((user) => ({
      id_type: 'user_id',
      id_value: `u-${user}`,
      profile_id: `p-${user}`,
      linked_at: new Date(T0).toISOString(),
    })),
  );
}

/** The members of a definition in the lake, by the DuckDB SQL. */
function membersIn(lake: TestLake): (definition: unknown) => Promise<string[]> {
  return async (definition) => {
    const query = printMembersQuery(await compileSegment(definition), 'duckdb');
    const rows = await lake.rows(query.sql, bindParams(query.params, { now: T0 }));
    return rows.map((row) => String(row.profile_id));
  };
}

/** The same message received again, a minute after its last copy. */
function redelivery(event: LakeEvent): LakeEvent {
  const received = Date.parse(event.receivedAt ?? event.timestamp);
  return { ...event, receivedAt: new Date(received + 60_000).toISOString() };
}

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
