import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import type { IdentityLink } from '../../src/core/identity/identity-link';
import type { CompletedMerge } from '../../src/use-cases/resolve-identities';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import {
  crashingStore,
  FaultyStore,
  resolvedOwners,
  resolverOn,
  type TableSnapshot,
} from '../support/resolver-harness';
import { msg } from './fixtures';

/**
 * Crash-safety (DESIGN.md: "a retry after a crash at any step converges"): the resolver's process
 * dies just after its N-th write — the write is durable, nothing after it happens — for every N the
 * batch needs; the event source then delivers the batch again from the first record reported failed
 * (or, in a second variant, the whole batch) to a fresh resolver. The table must end exactly as after
 * a run without a crash: the same live profiles (whole documents), the same identifier items, no
 * merge left half done.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

/** jo (user, anonymous x, email), y (anonymous, two events), zed (user, anonymous z). */
const prefix = (): StreamRecord[] => [
  msg({ id: 'p1', type: 'identify', userId: 'jo', anonymousId: 'x', traits: { email: 'jo@x.io' }, at: 1 }),
  msg({ id: 'p2', anonymousId: 'y', event: 'Viewed', at: 2, context: { traits: { plan: 'free' } } }),
  msg({ id: 'p3', anonymousId: 'y', event: 'Clicked', at: 3 }),
  msg({ id: 'p4', type: 'identify', userId: 'zed', anonymousId: 'z', at: 4 }),
  msg({ id: 'p5', anonymousId: 'q1', event: 'Viewed', at: 4 }),
  msg({ id: 'p6', type: 'page', anonymousId: 'q2', name: 'Home', at: 4 }),
  msg({
    id: 'p7',
    type: 'identify',
    anonymousId: 'w',
    traits: { email: 'w@x.io' },
    context: { device: { id: 'dev-w' } },
    at: 5,
  }),
];

const batches: Record<string, StreamRecord[]> = {
  'a merge': [
    // Coalesced on the profile about to be merged away, before the merge.
    msg({ id: 'm1', anonymousId: 'y', event: 'Viewed', at: 5 }),
    // y's profile merges into jo's (older).
    msg({ id: 'm2', type: 'identify', userId: 'jo', anonymousId: 'y', traits: { plan: 'pro' }, at: 6 }),
    // Both after the merge, one through the absorbed anonymous id.
    msg({ id: 'm3', anonymousId: 'y', event: 'Clicked', at: 7 }),
    msg({ id: 'm4', anonymousId: 'x', event: 'Viewed', at: 8 }),
    // zed's anonymous id on jo's profile: merge protection drops it.
    msg({ id: 'm5', type: 'alias', previousId: 'z', userId: 'jo', at: 9 }),
  ],
  'one event merging three profiles, with a new link': [
    msg({ id: 't1', anonymousId: 'q2', event: 'Viewed', at: 5 }),
    // jo's (oldest) absorbs q1's and q2's; the device id is new.
    msg({
      id: 't2',
      type: 'identify',
      anonymousId: 'q1',
      previousId: 'q2',
      traits: { email: 'JO@x.io' },
      context: { device: { id: 'dev-q' } },
      at: 6,
    }),
    msg({ id: 't3', anonymousId: 'q1', event: 'Clicked', at: 7 }),
  ],
  'a merge moving identifiers the message does not name': [
    // w's profile merges into zed's (older) through its email: three identifiers move, and the
    // message names only one of them (the anonymous id, moved first, it does not name).
    msg({ id: 'w1', type: 'identify', userId: 'zed', traits: { email: 'w@x.io' }, at: 6 }),
    msg({ id: 'w2', anonymousId: 'w', event: 'Clicked', at: 7 }),
  ],
  'links and a new profile': [
    // A new profile with three identifiers, then an event on it in the same batch.
    msg({
      id: 'l1',
      type: 'identify',
      userId: 'kai',
      anonymousId: 'k',
      traits: { email: 'kai@x.io' },
      at: 5,
    }),
    msg({ id: 'l2', anonymousId: 'k', event: 'Viewed', at: 6 }),
    // New identifiers on an existing profile.
    msg({
      id: 'l3',
      type: 'identify',
      anonymousId: 'z',
      traits: { email: 'zed@x.io' },
      context: { device: { id: 'dev-z' } },
      at: 7,
    }),
    // Coalesced on an existing profile.
    msg({ id: 'l4', anonymousId: 'x', event: 'Viewed', at: 8 }),
    // A new anonymous id on the profile this batch created.
    msg({ id: 'l5', type: 'identify', userId: 'kai', anonymousId: 'k2', at: 9 }),
  ],
  'a messageId reused by another person': [
    // Two people's messages under one id (a client that reuses ids): each makes a profile of its own.
    msg({
      id: 'r1',
      type: 'identify',
      userId: 'ann',
      anonymousId: 'a',
      traits: { email: 'ann@x.io' },
      at: 5,
    }),
    msg({ id: 'r1', type: 'identify', userId: 'bo', anonymousId: 'b', traits: { email: 'bo@x.io' }, at: 6 }),
    // The same id again, on a profile that exists: new links there.
    msg({ id: 'r1', type: 'identify', anonymousId: 'z', traits: { email: 'z2@x.io' }, at: 7 }),
  ],
};

/** What must be identical after a crash and a retry: live profiles, identifier items, no loose ends. */
const finalState = (snapshot: TableSnapshot) => ({
  live: snapshot.live,
  owners: snapshot.owners,
  resolved: resolvedOwners(snapshot),
  pending: snapshot.pending,
  merging: snapshot.merging,
  retired: snapshot.retired,
});

/** The (re)pointings published, as `identifier → profile (reason)`; a repeated row counts once. */
const linkSet = (links: readonly IdentityLink[]) =>
  new Set(
    links.map(
      (link) => `${link.identifier.type}:${link.identifier.value} → ${link.profileId} (${link.reason})`,
    ),
  );

/** The merges handed on, as `merged → survivor (ledger entry id)`; a repeated one counts once. */
const mergeSet = (merges: readonly CompletedMerge[]) =>
  new Set(merges.map((merge) => `${merge.merged} → ${merge.survivor} (${merge.entry?.id ?? 'no entry'})`));

describe('a crash after any write, then the batch again', () => {
  for (const [name, batch] of Object.entries(batches)) {
    it(`${name}: after a crash after each write, redelivery from the first failed record (or the whole batch) ends as without a crash`, async () => {
      const base = await resolverOn(engine);
      expect((await base.resolve(prefix())).failed).toEqual([]);

      // The run without a crash, counting the writes it needs.
      const clean = await resolverOn(engine, { copyOf: base.tableName });
      const counting = new FaultyStore(clean.store);
      expect((await clean.newResolver(counting)(batch)).failed).toEqual([]);
      const expected = finalState(await clean.snapshot());
      const expectedLinks = linkSet(clean.links);
      const expectedMerges = mergeSet(clean.merges);
      const writes = counting.writes;
      expect(writes).toBeGreaterThan(8);
      expect(expected.merging.size + expected.pending.size).toBe(0);

      for (let n = 1; n <= writes; n++) {
        for (const redeliver of ['from the first failed record', 'the whole batch'] as const) {
          // The whole batch only every third crash point: the same paths, at a third of the cost.
          if (redeliver === 'the whole batch' && n % 3 !== 0) continue;
          const r = await resolverOn(engine, { copyOf: base.tableName });
          const crashing = crashingStore(r.store, n, 'after');
          const outcome = await r.newResolver(crashing)(batch);
          expect(outcome.failed.length, `crash after write ${n}`).toBeGreaterThan(0);
          const from = redeliver === 'the whole batch' ? 0 : (outcome.failed[0] as number);
          // A process that dies publishes nothing: the links and merges of the crashed run are lost with it.
          if (redeliver === 'the whole batch') {
            r.links.length = 0;
            r.merges.length = 0;
          }
          const retry = await r.newResolver()(batch.slice(from));
          expect(retry.failed, `crash after write ${n}, ${redeliver}`).toEqual([]);
          expect(finalState(await r.snapshot()), `crash after write ${n}, ${redeliver}`).toEqual(expected);
          // Every identifier the batch (re)pointed still reaches identity_links.
          expect(linkSet(r.links), `crash after write ${n}, ${redeliver}`).toEqual(expectedLinks);
          // ... and every merge is still announced (`Profile Merged`), with the ledger entry that explains it.
          expect(mergeSet(r.merges), `crash after write ${n}, ${redeliver}`).toEqual(expectedMerges);
        }
      }
    });
  }
});

describe('the merge ledger entry is written with the merge mark', () => {
  // The entry travels in the same item write as the mark (an outbox on the loser's item) and is
  // appended by whoever finishes the merge. Written after the mark instead, a crash between the two
  // would leave a merge the ledger never explains: the retry meets the marked loser, finishes the
  // merge, and its own plan no longer has a merge in it.
  it('a crash right after the merge mark: the merge still has its ledger entry', async () => {
    const r = await resolverOn(engine);
    expect((await r.resolve(prefix())).failed).toEqual([]);
    const merge = msg({ id: 'g1', type: 'identify', userId: 'jo', anonymousId: 'y', at: 6 });
    let crashed = false;
    const crashAfterMark = new FaultyStore(r.store, {
      after: (call) => {
        if (call.method === 'markMerging') {
          crashed = true;
          throw new Error('crash just after the mark');
        }
      },
      before: () => {
        if (crashed) throw new Error('the process is gone');
      },
    });
    expect((await r.newResolver(crashAfterMark)([merge])).failed).toEqual([0]);
    expect((await r.newResolver()([merge])).failed).toEqual([]);
    const snapshot = await r.snapshot();
    // The prefix made six profiles (jo, y, zed, q1, q2, w); jo and y are now one.
    expect(snapshot.live.size).toBe(5);
    const merged = snapshot.ledger.filter((entry) => entry.reason === 'merged');
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ messageId: 'g1', identifier: { type: 'anonymous_id', value: 'y' } });
  });
});
