import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { compareProfileAge } from '../../src/core/identity/winner';
import { applyEvent } from '../../src/core/profile/apply-event';
import { PROFILE_BOUNDS, type ProfileBounds } from '../../src/core/profile/bounds';
import { markSeen, mergeSeen, type SeenState } from '../../src/core/profile/dedupe';
import { attachIdentifiers } from '../../src/core/profile/identities';
import { mergeProfiles } from '../../src/core/profile/merge-profiles';
import { createProfile, type Profile, type SeenMark } from '../../src/core/profile/profile';

/**
 * Order independence of the profile reducers. Small bounds, so that trimming (traits, event names,
 * groups, recent events, consent categories, oversize values) happens in most runs and is covered by
 * the same properties. The dedupe window is larger than any generated set: see the last property for
 * what a smaller window does.
 */
const SMALL: ProfileBounds = {
  ...PROFILE_BOUNDS,
  maxTraits: 4,
  maxTraitValueBytes: 16,
  maxConsentCategories: 2,
  maxEventNames: 3,
  maxGroups: 2,
  maxRecentEvents: 5,
  dedupeWindow: 256,
};

const T0 = Date.parse('2026-05-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const traitValue = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.constantFrom('x', 'y'), fc.integer(), { maxKeys: 2 }),
);
const traits = fc.dictionary(
  fc.constantFrom('plan', 'name', 'age', 'k1', 'k2', 'k3', 'constructor'),
  traitValue,
  {
    maxKeys: 4,
  },
);

const eventShape = fc.record({
  type: fc.constantFrom<CallType>('track', 'track', 'identify', 'page', 'group', 'alias'),
  source: fc.constantFrom('web', 'ios'),
  // Few distinct times, so equal timestamps (ties) are common.
  minute: fc.integer({ min: 0, max: 4 }),
  receivedAfter: fc.integer({ min: 0, max: 10_000 }),
  traits: fc.option(traits, { nil: undefined }),
  contextTraits: fc.option(traits, { nil: undefined }),
  consent: fc.option(fc.dictionary(fc.constantFrom('Ads', 'Analytics', 'Functional'), fc.boolean()), {
    nil: undefined,
  }),
  name: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
  groupId: fc.constantFrom('g1', 'g2', 'g3'),
});
type EventShape = typeof eventShape extends fc.Arbitrary<infer T> ? T : never;

function toRecord(shape: EventShape, index: number): StreamRecord {
  const context: JsonObject = {};
  if (shape.contextTraits !== undefined) context.traits = shape.contextTraits;
  if (shape.consent !== undefined) context.consent = { categoryPreferences: shape.consent };
  const timestamp = T0 + shape.minute * 60_000;
  return {
    messageId: `m${index}`,
    source: shape.source,
    type: shape.type,
    timestamp: iso(timestamp),
    receivedAt: iso(timestamp + shape.receivedAfter),
    context,
    ...(shape.type === 'track' ? { event: shape.name } : {}),
    ...(shape.type === 'page' ? { name: shape.name } : {}),
    ...(shape.type === 'group' ? { groupId: shape.groupId } : {}),
    ...(shape.traits === undefined ? {} : { traits: shape.traits }),
  } as StreamRecord;
}

/** Distinct events (unique message ids). */
const events = fc.array(eventShape, { maxLength: 30 }).map((shapes) => shapes.map(toRecord));

/** Events, plus some delivered again, in a random order. */
const deliveriesOf = (eventSets: fc.Arbitrary<StreamRecord[]>) =>
  eventSets.chain((list) =>
    fc
      .array(fc.nat(), { maxLength: 10 })
      .map((dups) => [
        ...list,
        ...(list.length === 0 ? [] : dups.map((i) => list[i % list.length] as StreamRecord)),
      ])
      .chain((all) => fc.tuple(fc.constant(list), fc.shuffledSubarray(all, { minLength: all.length }))),
  );
const deliveries = deliveriesOf(events);

const fold = (profile: Profile, records: readonly StreamRecord[], bounds = SMALL) =>
  records.reduce((p, r) => applyEvent(p, r, bounds).profile, profile);

const text = (profile: Profile) => JSON.stringify(profile);

describe('profile properties', () => {
  it('applying a set of events in any order, with any duplicates, gives the identical profile', () => {
    fc.assert(
      fc.property(deliveries, ([distinct, delivered]) => {
        const start = createProfile('p_1', iso(T0));
        expect(text(fold(start, delivered))).toBe(text(fold(start, distinct)));
      }),
    );
  });

  it('a duplicate applied to the final profile changes nothing', () => {
    fc.assert(
      fc.property(events, (list) => {
        const profile = fold(createProfile('p_1', iso(T0)), list);
        for (const record of list) {
          const again = applyEvent(profile, record, SMALL);
          expect(again.applied).toBe(false);
          expect(again.profile).toBe(profile);
        }
      }),
    );
  });

  it('events split into batches on several profiles, merged in any order and grouping, give the profile of applying them all to one', () => {
    const scenario = deliveries.chain(([distinct, delivered]) =>
      fc.record({
        distinct: fc.constant(distinct),
        // Which partial profile each delivery lands on: duplicates of one message go to the same one
        // (the resolver sends a message to the one profile its identifiers resolve to).
        homes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 60, maxLength: 60 }),
        delivered: fc.constant(delivered),
        ages: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        // Which two profiles merge at each step (indexes into what is left).
        picks: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 3, maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ distinct, homes, delivered, ages, picks }) => {
        const home = (record: StreamRecord) => homes[Number(record.messageId.slice(1))] ?? 0;
        let partials = [0, 1, 2, 3].map((i) =>
          attachIdentifiers(
            fold(
              createProfile(`p_${i}`, iso(T0 + (ages[i] ?? 0) * 1000)),
              delivered.filter((r) => home(r) === i),
            ),
            [{ type: 'anonymous_id', value: `a${i}` }],
          ),
        );
        const oldest = [...partials].sort(compareProfileAge)[0] as Profile;

        for (const [x, y] of picks) {
          const i = x % partials.length;
          const j = (i + 1 + (y % (partials.length - 1))) % partials.length;
          const [winner, loser] = [partials[i], partials[j]].sort((a, b) =>
            compareProfileAge(a as Profile, b as Profile),
          ) as [Profile, Profile];
          const merged = mergeProfiles(winner, loser, SMALL).profile;
          partials = [...partials.filter((_, k) => k !== i && k !== j), merged];
        }
        const [final] = partials as [Profile];

        const reference = attachIdentifiers(
          fold(createProfile(oldest.profileId, oldest.createdAt), distinct),
          [0, 1, 2, 3].map((i) => ({ type: 'anonymous_id', value: `a${i}` })),
        );
        const expected: Profile = {
          ...reference,
          mergedFrom: ['p_0', 'p_1', 'p_2', 'p_3'].filter((id) => id !== oldest.profileId),
        };
        expect(text(final)).toBe(text(expected));
      }),
    );
  });

  it('merging is idempotent: absorbing a profile again, or a duplicate after a merge, changes nothing', () => {
    fc.assert(
      fc.property(events, events, (left, right) => {
        const winner = fold(createProfile('p_a', iso(T0)), left);
        const loser = fold(
          createProfile('p_b', iso(T0 + 1)),
          right.map((r) => ({ ...r, messageId: `r-${r.messageId}` })),
        );
        const once = mergeProfiles(winner, loser, SMALL);
        expect(mergeProfiles(once.profile, loser, SMALL)).toEqual({
          profile: once.profile,
          changed: false,
          warnings: [],
        });
        for (const record of left) expect(applyEvent(once.profile, record, SMALL).applied).toBe(false);
      }),
    );
  });

  it('every part of a profile stays within its bound', () => {
    fc.assert(
      fc.property(deliveries, ([, delivered]) => {
        const profile = fold(createProfile('p_1', iso(T0)), delivered);
        expect(Object.keys(profile.traits).length).toBeLessThanOrEqual(SMALL.maxTraits);
        for (const entry of Object.values(profile.traits)) {
          expect(new TextEncoder().encode(JSON.stringify(entry.v)).byteLength).toBeLessThanOrEqual(
            SMALL.maxTraitValueBytes,
          );
        }
        expect(Object.keys(profile.eventCounts).length).toBeLessThanOrEqual(SMALL.maxEventNames);
        expect(Object.keys(profile.groups).length).toBeLessThanOrEqual(SMALL.maxGroups);
        expect(profile.recentEvents.length).toBeLessThanOrEqual(SMALL.maxRecentEvents);
        expect(Object.keys(profile.consent?.categoryPreferences ?? {}).length).toBeLessThanOrEqual(
          SMALL.maxConsentCategories,
        );
        const tracked =
          Object.values(profile.eventCounts).reduce((a, b) => a + b, 0) + profile.otherEventCount;
        expect(tracked).toBe(profile.typeCounts.track ?? 0);
      }),
    );
  });

  /**
   * What the bounded dedupe memory costs, stated precisely (see `dedupe.ts`): with a window smaller than
   * the number of events, a message that arrives after `window` messages received in later milliseconds
   * is skipped as beyond the horizon. Order independence then holds exactly when no message was skipped
   * that way — in production, when no profile got more than 256 newer events while one of its messages
   * was stuck in retries. (Messages sharing a millisecond are covered by the unit tests.)
   */
  it('with a small dedupe window: never counted twice, and order-independent whenever nothing fell beyond the horizon', () => {
    const tiny = { ...SMALL, dedupeWindow: 3 };
    // Every message received in its own millisecond, in an order unrelated to its id.
    const spread = events.map((list) =>
      list.map((r, i) => ({ ...r, receivedAt: iso(T0 + (Date.parse(r.receivedAt) - T0) * 100 + i) })),
    );
    fc.assert(
      fc.property(deliveriesOf(spread), ([distinct, delivered]) => {
        let beyond = 0;
        let profile = createProfile('p_1', iso(T0));
        for (const record of delivered) {
          const result = applyEvent(profile, record, tiny);
          if (result.skipped === 'beyond_dedupe_horizon') beyond++;
          profile = result.profile;
        }
        expect(profile.eventCount).toBeLessThanOrEqual(distinct.length);
        // In the order received, nothing is ever beyond the horizon.
        const inOrder = [...distinct].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
        const reference = fold(createProfile('p_1', iso(T0)), inOrder, tiny);
        expect(reference.eventCount).toBe(distinct.length);
        if (beyond === 0) expect(text(profile)).toBe(text(reference));
      }),
    );
  });

  it('the dedupe memory is a function of the set of messages applied, even when many share a millisecond', () => {
    const marks = fc.uniqueArray(
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.stringMatching(/^[0-9a-f]{4}$/)),
      { selector: ([, h]) => h, maxLength: 30 },
    );
    const split = marks.chain((list) =>
      fc.tuple(
        fc.constant(list),
        fc.shuffledSubarray(list, { minLength: list.length }),
        fc.array(fc.boolean(), { minLength: list.length, maxLength: list.length }),
      ),
    );
    fc.assert(
      fc.property(split, fc.integer({ min: 1, max: 5 }), ([list, shuffled, sides], window) => {
        const insert = (state: SeenState, all: readonly (readonly [number, string])[]) =>
          all.reduce((s, m) => markSeen(s, m as SeenMark, window), state);
        const empty: SeenState = { seen: [] };
        const reference = insert(empty, list);
        expect(insert(empty, shuffled)).toEqual(reference);
        const left = insert(
          empty,
          shuffled.filter((_, i) => sides[i]),
        );
        const right = insert(
          empty,
          shuffled.filter((_, i) => !sides[i]),
        );
        expect(mergeSeen(left, right, window)).toEqual(reference);
      }),
    );
  });
});
