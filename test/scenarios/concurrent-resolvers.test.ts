import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingResolverMetrics } from '../../src/adapters/local/counting-resolver-metrics';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { identifierKey } from '../../src/core/identity/identifier';
import { messageKey } from '../../src/core/identity/message-key';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import {
  FaultyStore,
  profileContent,
  resolvedOwners,
  resolverOn,
  type TableSnapshot,
} from '../support/resolver-harness';
import { msg } from './fixtures';

/**
 * Resolvers running at the same time over one table (DESIGN.md: merges are "correct under
 * concurrency"): two or three `createResolver` instances resolve their batches with `Promise.all`.
 * Each one's store calls are delayed by a seeded random amount, so every seed is another
 * interleaving of their reads and conditional writes. The result must be what resolving the batches
 * one after the other gives: the same profiles (contents), every event counted exactly once, no
 * merge left half done, every identifier on exactly one live profile.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

const SEEDS = 6;

/** mulberry32: a small seeded PRNG, so a failing interleaving can be replayed by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits a random while before each store call: nothing, a few turns of the event loop, or 1–2 ms. */
function jitter(random: () => number) {
  return async () => {
    const roll = random();
    if (roll < 0.3) return;
    if (roll < 0.8) {
      for (let i = Math.floor(random() * 4); i >= 0; i--) await new Promise((r) => setImmediate(r));
      return;
    }
    await new Promise((r) => setTimeout(r, 1 + Math.floor(random() * 2)));
  };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Profile contents, order-free: what two runs must agree on whatever message created each profile. */
const contents = (snapshot: TableSnapshot) =>
  [...snapshot.live.values()].map((p) => JSON.stringify(profileContent(p))).sort();

/** Invariants of a settled table that holds exactly the events of `distinct` messages. */
function expectSettled(snapshot: TableSnapshot, distinct: readonly StreamRecord[], seed: number) {
  const label = `seed ${seed}`;
  expect(snapshot.merging, label).toEqual(new Map());
  expect(snapshot.pending, label).toEqual(new Map());
  const resolved = resolvedOwners(snapshot);
  const listed = new Map<string, string>();
  for (const profile of snapshot.live.values()) {
    for (const id of profile.identities) {
      expect(listed.has(identifierKey(id)), `${label}: ${identifierKey(id)} listed twice`).toBe(false);
      listed.set(identifierKey(id), profile.profileId);
    }
  }
  expect(new Map([...resolved].sort()), label).toEqual(new Map([...listed].sort()));
  // Every message counted exactly once, on exactly one profile.
  const counted = [...snapshot.live.values()].flatMap((p) => p.recentEvents.map((e) => e.key)).sort();
  expect(counted, label).toEqual(distinct.map((m) => messageKey(m)).sort());
  const total = [...snapshot.live.values()].reduce((sum, p) => sum + p.eventCount, 0);
  expect(total, label).toBe(distinct.length);
}

interface Variant {
  readonly base: StreamRecord[];
  /** One batch per resolver, all run at once. */
  readonly batches: StreamRecord[][];
  readonly liveProfiles: number;
  /**
   * Merge protection makes the outcome depend on which batch comes first (DESIGN.md: the
   * lower-priority identifier of *that* event is dropped). The concurrent result must then equal the
   * result of one of the orders, one batch after the other (each batch is one message).
   */
  readonly orderMatters?: boolean;
}

const email = 'pat@x.io';
const variants: Record<string, () => Variant> = {
  'the same pair merged by both resolvers at once': () => ({
    base: [
      msg({ type: 'identify', anonymousId: 'a', traits: { email }, at: 1 }),
      msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
    ],
    batches: [
      [msg({ type: 'identify', anonymousId: 'b', traits: { email: 'Pat@x.io' }, at: 3 })],
      [msg({ anonymousId: 'b', event: 'Clicked', context: { traits: { email } }, at: 4 })],
    ],
    liveProfiles: 1,
  }),
  'the same pair merged by both, interleaved with more events on both profiles': () => ({
    base: [
      msg({ type: 'identify', anonymousId: 'a', traits: { email, plan: 'free' }, at: 1 }),
      msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
    ],
    batches: [
      [
        msg({ anonymousId: 'a', event: 'Viewed', at: 3 }),
        msg({ anonymousId: 'b', event: 'Viewed', at: 4 }),
        msg({ type: 'identify', anonymousId: 'b', traits: { email, plan: 'pro' }, at: 5 }),
        msg({ anonymousId: 'b', event: 'Clicked', at: 6 }),
        msg({ type: 'page', anonymousId: 'a', name: 'Home', at: 7 }),
      ],
      [
        msg({ anonymousId: 'b', event: 'Added', at: 3 }),
        msg({ anonymousId: 'a', event: 'Added', at: 4 }),
        msg({ anonymousId: 'b', event: 'Bought', context: { traits: { email } }, at: 8 }),
        msg({ anonymousId: 'a', event: 'Viewed', at: 9 }),
        msg({ type: 'identify', anonymousId: 'b', traits: { plan: 'team' }, at: 10 }),
      ],
    ],
    liveProfiles: 1,
  }),
  'the same batch delivered to two resolvers at once': () => {
    const batch = [
      msg({ anonymousId: 'b', event: 'Viewed', at: 3 }),
      msg({ type: 'identify', anonymousId: 'b', traits: { email }, at: 4 }),
      msg({ anonymousId: 'a', event: 'Viewed', at: 5 }),
      msg({ type: 'identify', anonymousId: 'n', userId: 'new-user', at: 6 }),
    ];
    return {
      base: [
        msg({ type: 'identify', anonymousId: 'a', traits: { email }, at: 1 }),
        msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
      ],
      batches: [batch, batch],
      liveProfiles: 2,
    };
  },
  'a chain merged by three resolvers at once': () => ({
    base: [
      msg({ type: 'identify', anonymousId: 'a', traits: { email }, at: 1 }),
      msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
      msg({ anonymousId: 'c', event: 'Viewed', at: 3 }),
    ],
    batches: [
      [msg({ type: 'identify', anonymousId: 'b', traits: { email }, at: 4 })],
      [msg({ type: 'alias', previousId: 'b', anonymousId: 'c', at: 5 })],
      [msg({ anonymousId: 'c', event: 'Clicked', context: { traits: { email } }, at: 6 })],
    ],
    liveProfiles: 1,
  }),
  'two profiles claiming the same new email at once': () => ({
    base: [
      msg({ anonymousId: 'b', event: 'Viewed', at: 1 }),
      msg({ anonymousId: 'c', event: 'Viewed', at: 2 }),
    ],
    batches: [
      [msg({ type: 'identify', anonymousId: 'b', traits: { email }, at: 3 })],
      [msg({ type: 'identify', anonymousId: 'c', traits: { email }, at: 4 })],
    ],
    liveProfiles: 1,
  }),
  'a new user id arriving on two shards at once (partition keys userId and anonymousId)': () => ({
    base: [msg({ anonymousId: 'someone-else', event: 'Viewed', at: 1 })],
    batches: [
      [msg({ type: 'identify', userId: 'u-new', traits: { plan: 'pro' }, at: 2 })],
      [msg({ userId: 'u-new', anonymousId: 'a-new', event: 'Viewed', at: 3 })],
      [msg({ type: 'page', userId: 'u-new', name: 'Home', at: 4 })],
    ],
    liveProfiles: 2,
  }),
  'a new email claimed at once by two users (merge protection decides who keeps it)': () => ({
    base: [
      msg({ type: 'identify', userId: 'u1', anonymousId: 'a', at: 1 }),
      msg({ type: 'identify', userId: 'u2', anonymousId: 'b', at: 2 }),
    ],
    batches: [
      // e outranks a: if u2 claims e first, this event belongs on u2's profile (a is dropped).
      [msg({ type: 'identify', anonymousId: 'a', traits: { email }, at: 3 })],
      [msg({ type: 'identify', userId: 'u2', traits: { email }, at: 4 })],
    ],
    liveProfiles: 2,
    orderMatters: true,
  }),
  'two new profiles racing for the same new anonymous id': () => ({
    base: [msg({ anonymousId: 'someone-else', event: 'Viewed', at: 1 })],
    batches: [
      [msg({ anonymousId: 'fresh', event: 'Viewed', at: 2 })],
      [msg({ type: 'identify', anonymousId: 'fresh', userId: 'u-fresh', at: 3 })],
      [msg({ type: 'identify', anonymousId: 'fresh', traits: { email: 'fresh@x.io' }, at: 4 })],
    ],
    liveProfiles: 2,
  }),
};

describe('resolvers running at the same time over one table', () => {
  for (const [name, variant] of Object.entries(variants)) {
    it(`${name}: the same profiles as one after the other, every event once, no loose ends`, async () => {
      const { base, batches, liveProfiles, orderMatters = false } = variant();
      const distinct = [...new Map([...base, ...batches.flat()].map((m) => [m.messageId, m])).values()];
      const start = await resolverOn(engine);
      expect((await start.resolve(base)).failed).toEqual([]);

      // One batch after the other, in the given order (and in every order where order matters).
      const orders = orderMatters ? permutations(batches) : [batches];
      const allowed = new Set<string>();
      for (const order of orders) {
        const sequential = await resolverOn(engine, { copyOf: start.tableName });
        for (const batch of order) expect((await sequential.resolve(batch)).failed).toEqual([]);
        const expected = await sequential.snapshot();
        expect(expected.live.size).toBe(liveProfiles);
        expectSettled(expected, distinct, 0);
        allowed.add(JSON.stringify(contents(expected)));
      }
      if (orderMatters) expect(allowed.size).toBeGreaterThan(1);

      const baseIds = new Set(base.map((m) => m.messageId));
      const newEvents = new Set(
        batches.flat().flatMap((m) => (baseIds.has(m.messageId) ? [] : [m.messageId])),
      );
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await resolverOn(engine, { copyOf: start.tableName });
        const random = prng(seed);
        const counted = new CountingResolverMetrics();
        const outcomes = await Promise.all(
          batches.map((batch) =>
            r.newResolver(new FaultyStore(r.store, { before: jitter(random) }), counted)(batch),
          ),
        );
        if (outcomes.every((outcome) => outcome.failed.length === 0)) {
          // Each new event counted as applied once, over all resolvers: also one whose first attempt
          // wrote it into a profile that a lost race then merged (the next attempt finds it there).
          expect(counted.get('event.applied'), `seed ${seed}`).toBe(newEvents.size);
        }
        // A message that kept losing races is redelivered, as the event source would.
        for (const [i, outcome] of outcomes.entries()) {
          const first = outcome.failed[0];
          if (first !== undefined) {
            expect((await r.resolve((batches[i] as StreamRecord[]).slice(first))).failed).toEqual([]);
          }
        }
        const snapshot = await r.snapshot();
        expect(snapshot.live.size, `seed ${seed}`).toBe(liveProfiles);
        expectSettled(snapshot, distinct, seed);
        expect([...allowed], `seed ${seed}`).toContain(JSON.stringify(contents(snapshot)));
      }
    });
  }
});

describe('a merge is marked only on the version it was planned with', () => {
  // The merge mark is conditional on the version the plan read: an identifier linked to the loser in
  // between makes the mark lose, the message is re-planned, and merge protection drops the anonymous id.
  it('a second user id linked to the loser between plan and mark: merge protection still holds', async () => {
    const r = await resolverOn(engine);
    expect(
      (
        await r.resolve([
          msg({ type: 'identify', userId: 'u1', anonymousId: 'a', at: 1 }),
          msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
        ])
      ).failed,
    ).toEqual([]);
    const otherShard = r.newResolver();
    let interleaved = false;
    const store = new FaultyStore(r.store, {
      before: async (call) => {
        if (call.method !== 'markMerging' || interleaved) return;
        interleaved = true;
        // Another shard links a second user id to b's profile after this resolver planned to merge
        // b's profile (then without a user id) into u1's, and before it marks it.
        expect(
          (await otherShard([msg({ type: 'identify', userId: 'u2', anonymousId: 'b', at: 3 })])).failed,
        ).toEqual([]);
      },
    });
    const metrics = new CountingResolverMetrics();
    const outcome = await r.newResolver(
      store,
      metrics,
    )([msg({ type: 'track', anonymousId: 'b', previousId: 'a', event: 'Linked', at: 4 })]);
    expect(outcome.failed).toEqual([]);
    expect(interleaved).toBe(true);
    for (const profile of (await r.snapshot()).live.values()) {
      expect(profile.identities.filter((id) => id.type === 'user_id').length).toBeLessThanOrEqual(1);
    }
  });
});
