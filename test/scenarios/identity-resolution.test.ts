import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingResolverMetrics } from '../../src/adapters/local/counting-resolver-metrics';
import type { StreamRecord } from '../../src/core/events/stream-record';
import type { Profile } from '../../src/core/profile/profile';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { resolvedOwners, resolverOn, type TableSnapshot, traitValues } from '../support/resolver-harness';
import { BLOCKING_CONFIG, keysOf, minute, msg } from './fixtures';

/**
 * The identity resolution rules of DESIGN.md, end to end through the resolver and the DynamoDB
 * adapter on dynalite: each test names a rule and checks what the table holds afterwards.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

type Harness = Awaited<ReturnType<typeof resolverOn>>;

/** Resolves batches one after the other; every record must resolve. */
async function deliver(r: Harness, ...batches: StreamRecord[][]) {
  for (const batch of batches) expect((await r.resolve(batch)).failed).toEqual([]);
}

describe('identity resolution on the real store', () => {
  it('a long batch gives the event loop a turn every 50 records and resolves them all', async () => {
    let turns = 0;
    const r = await resolverOn(engine, {
      nextTurn: async () => {
        turns++;
      },
    });
    const events = Array.from({ length: 120 }, (_, i) =>
      msg({ userId: `turn-user-${i % 3}`, event: 'Turn Taken', at: i, properties: { i } }),
    );
    const outcome = await r.resolve(events);
    expect(outcome.failed).toEqual([]);
    // Before records 50 and 100.
    expect(turns).toBe(2);
    const counts = await Promise.all(
      [0, 1, 2].map((k) => r.profileOf({ type: 'user_id', value: `turn-user-${k}` })),
    );
    expect(counts.map((profile) => profile?.eventCount)).toEqual([40, 40, 40]);

    // Delivered again: all duplicates, the same turns, nothing changes.
    expect((await r.resolve(events)).failed).toEqual([]);
    expect(turns).toBe(4);
    const again = await Promise.all(
      [0, 1, 2].map((k) => r.profileOf({ type: 'user_id', value: `turn-user-${k}` })),
    );
    expect(again.map((profile) => profile?.eventCount)).toEqual([40, 40, 40]);
  });

  it('anonymous browsing then identify: counts, recent events and traits of the anonymous history are on the identified profile', async () => {
    const r = await resolverOn(engine);
    const browsing = [
      msg({
        type: 'page',
        anonymousId: 'anon-1',
        name: 'Home',
        at: 1,
        context: { traits: { locale: 'de' } },
      }),
      msg({ anonymousId: 'anon-1', event: 'Product Viewed', at: 2 }),
      msg({ anonymousId: 'anon-1', event: 'Product Viewed', at: 3 }),
    ];
    const identify = msg({
      type: 'identify',
      anonymousId: 'anon-1',
      userId: 'jane',
      traits: { email: 'Jane@Example.com', name: 'Jane' },
      at: 4,
    });
    await deliver(r, browsing, [identify]);

    const jane = await r.profileOf({ type: 'user_id', value: 'jane' });
    expect(jane?.eventCount).toBe(4);
    expect(jane?.typeCounts).toEqual({ identify: 1, page: 1, track: 2 });
    expect(jane?.eventCounts).toEqual({ 'Product Viewed': 2 });
    // Newest first, by event time.
    expect(jane?.recentEvents.map((e) => e.messageId)).toEqual(
      [identify, ...[...browsing].reverse()].map((m) => m.messageId),
    );
    expect(jane?.firstSeen).toBe(minute(1));
    expect(jane?.lastSeen).toBe(minute(4));
    expect(traitValues(jane)).toEqual({ email: 'Jane@Example.com', locale: 'de', name: 'Jane' });
    expect(keysOf(jane)).toEqual(['anonymous_id:anon-1', 'email:jane@example.com', 'user_id:jane']);
    expect(await r.profileOf({ type: 'anonymous_id', value: 'anon-1' })).toEqual(jane);
    expect((await r.snapshot()).live.size).toBe(1);
  });

  it('identify, a second anonymous visitor and its alias in one batch: one profile with all five events', async () => {
    const r = await resolverOn(engine);
    await deliver(
      r,
      [
        msg({ type: 'page', anonymousId: 'a1', name: 'Home', at: 1 }),
        msg({ anonymousId: 'a1', event: 'Viewed', at: 2 }),
      ],
      [
        msg({
          type: 'identify',
          anonymousId: 'a1',
          userId: 'u1',
          traits: { email: 'Jane@Example.com' },
          at: 3,
        }),
        msg({ anonymousId: 'a2', event: 'Viewed', at: 4 }),
        msg({ type: 'alias', previousId: 'a2', userId: 'u1', at: 5 }),
      ],
    );
    const profile = await r.profileOf({ type: 'email', value: 'jane@example.com' });
    expect(profile?.eventCount).toBe(5);
    expect(keysOf(profile)).toEqual([
      'anonymous_id:a1',
      'anonymous_id:a2',
      'email:jane@example.com',
      'user_id:u1',
    ]);
    expect((await r.snapshot()).live.size).toBe(1);
    expect(r.merges).toHaveLength(1);
  });

  it('anonymous browsing on a new device then identify: the history joins the profile the user already had', async () => {
    const r = await resolverOn(engine);
    await deliver(
      r,
      [msg({ type: 'identify', userId: 'jane', anonymousId: 'laptop', traits: { plan: 'pro' }, at: 1 })],
      [
        msg({ anonymousId: 'phone', event: 'App Opened', at: 2, context: { traits: { theme: 'dark' } } }),
        msg({ anonymousId: 'phone', event: 'Product Viewed', at: 3 }),
      ],
      [msg({ type: 'identify', userId: 'jane', anonymousId: 'phone', at: 4 })],
    );
    const snapshot = await r.snapshot();
    expect(snapshot.live.size).toBe(1);
    const jane = await r.profileOf({ type: 'user_id', value: 'jane' });
    expect(jane?.eventCount).toBe(4);
    expect(jane?.eventCounts).toEqual({ 'App Opened': 1, 'Product Viewed': 1 });
    expect(traitValues(jane)).toEqual({ plan: 'pro', theme: 'dark' });
    expect(keysOf(jane)).toEqual(['anonymous_id:laptop', 'anonymous_id:phone', 'user_id:jane']);
    expect(await r.profileOf({ type: 'anonymous_id', value: 'phone' })).toEqual(jane);
    expect(r.merges).toHaveLength(1);
  });

  it('two devices merged by email (another case, whitespace): one profile, both anonymous ids, counts add up, one merged effect, the ledger entry listed', async () => {
    const r = await resolverOn(engine);
    await deliver(
      r,
      [
        msg({ anonymousId: 'device-a', event: 'Viewed', at: 1 }),
        msg({ type: 'identify', anonymousId: 'device-a', traits: { email: 'sam@example.com' }, at: 2 }),
        msg({ anonymousId: 'device-b', event: 'Viewed', at: 3 }),
        msg({ anonymousId: 'device-b', event: 'Added', at: 4 }),
      ],
      [
        msg({
          type: 'identify',
          anonymousId: 'device-b',
          context: { traits: { email: '  SAM@Example.COM ' } },
          at: 5,
        }),
      ],
    );
    const snapshot = await r.snapshot();
    expect(snapshot.live.size).toBe(1);
    const [survivor] = [...snapshot.live.values()];
    const sam = await r.profileOf({ type: 'email', value: 'sam@example.com' });
    expect(sam).toEqual(survivor);
    expect(keysOf(sam)).toEqual(['anonymous_id:device-a', 'anonymous_id:device-b', 'email:sam@example.com']);
    expect(sam?.eventCount).toBe(5);
    expect(sam?.eventCounts).toEqual({ Added: 1, Viewed: 2 });
    expect(await r.profileOf({ type: 'anonymous_id', value: 'device-a' })).toEqual(sam);
    expect(await r.profileOf({ type: 'anonymous_id', value: 'device-b' })).toEqual(sam);

    // Device A's profile is older: it survives, device B's becomes a redirect.
    const loser = sam?.mergedFrom[0] as string;
    expect(sam?.mergedFrom).toEqual([loser]);
    expect([...snapshot.retired]).toEqual([[loser, sam?.profileId]]);
    expect(r.merges).toHaveLength(1);
    expect(r.merges[0]).toMatchObject({ survivor: sam?.profileId, merged: loser });
    expect(r.merges[0]?.entry).toMatchObject({ reason: 'merged', from: loser, to: sam?.profileId });

    const ledger = await r.store.listLedger([sam?.profileId as string, ...(sam?.mergedFrom ?? [])]);
    const merged = ledger.filter((entry) => entry.reason === 'merged');
    expect(merged).toHaveLength(1);
    // The entry names the event's identifier that brought the absorbed profile in: device B's id.
    expect(merged[0]).toMatchObject({
      from: loser,
      to: sam?.profileId,
      identifier: { type: 'anonymous_id', value: 'device-b' },
      source: 'web',
    });
    expect(merged[0]).toEqual(r.merges[0]?.entry);
  });

  it('alias (previousId → userId) ties the anonymous history to the user', async () => {
    const r = await resolverOn(engine);
    await deliver(
      r,
      [
        msg({ anonymousId: 'visitor-9', event: 'Signed Up', at: 1 }),
        msg({ type: 'page', anonymousId: 'visitor-9', name: 'Pricing', at: 2 }),
      ],
      [msg({ type: 'identify', userId: 'u-9', traits: { name: 'Kim' }, at: 3 })],
      [msg({ type: 'alias', previousId: 'visitor-9', userId: 'u-9', at: 4 })],
    );
    expect((await r.snapshot()).live.size).toBe(1);
    const user = await r.profileOf({ type: 'user_id', value: 'u-9' });
    expect(await r.profileOf({ type: 'anonymous_id', value: 'visitor-9' })).toEqual(user);
    expect(user?.eventCount).toBe(4);
    expect(user?.typeCounts).toEqual({ alias: 1, identify: 1, page: 1, track: 1 });
    expect(user?.eventCounts).toEqual({ 'Signed Up': 1 });
    expect(traitValues(user)).toEqual({ name: 'Kim' });
    expect(keysOf(user)).toEqual(['anonymous_id:visitor-9', 'user_id:u-9']);
  });

  it('placeholder emails (test@test.com configured, null, undefined, 0, ...) on 1,000 profiles: no merge, 1,000 profiles', async () => {
    const metrics = new CountingResolverMetrics();
    const r = await resolverOn(engine, { identity: BLOCKING_CONFIG, metrics });
    const placeholders = [
      'test@test.com',
      ' TEST@test.com ',
      'null',
      'undefined',
      '0',
      '-1',
      'none',
      'NaN',
      'anonymous',
      '[object Object]',
      '000-000',
      '',
    ];
    const records = Array.from({ length: 1000 }, (_, i) =>
      msg({
        type: 'identify',
        // Anonymous visitors: without the blocklist, one shared email would merge them all.
        anonymousId: `visitor-${i}`,
        traits: { email: placeholders[i % placeholders.length] as string },
        at: i % 60,
      }),
    );
    for (let i = 0; i < records.length; i += 250) {
      expect((await r.resolve(records.slice(i, i + 250))).failed).toEqual([]);
    }
    const snapshot = await r.snapshot();
    expect(snapshot.live.size).toBe(1000);
    expect(snapshot.retired.size + snapshot.merging.size).toBe(0);
    expect(r.merges).toHaveLength(0);
    expect(metrics.get('profile_merged')).toBe(0);
    expect(snapshot.ledger.filter((e) => e.reason !== 'linked')).toEqual([]);
    expect([...snapshot.owners.keys()].filter((key) => !key.startsWith('anonymous_id:'))).toEqual([]);
    expect([...snapshot.live.values()].every((p) => p.eventCount === 1 && p.identities.length === 1)).toBe(
      true,
    );
    // The empty value is refused before any rule: every other placeholder is reported as blocked.
    expect(metrics.get('identifier_rejected.email.blocked')).toBe(1000);
  });

  it('a second user_id on a profile: no merge; the lower-priority identifier is dropped, the event still counts, ledger and metric say so', async () => {
    const metrics = new CountingResolverMetrics();
    const r = await resolverOn(engine, { metrics });
    await deliver(r, [
      msg({ type: 'identify', userId: 'alice', anonymousId: 'shared-tablet', at: 1 }),
      msg({ anonymousId: 'shared-tablet', event: 'Viewed', at: 2 }),
    ]);
    const bobsEvent = msg({ type: 'identify', userId: 'bob', anonymousId: 'shared-tablet', at: 3 });
    await deliver(r, [bobsEvent]);

    const snapshot = await r.snapshot();
    expect(snapshot.live.size).toBe(2);
    expect(r.merges).toHaveLength(0);
    const alice = await r.profileOf({ type: 'user_id', value: 'alice' });
    const bob = await r.profileOf({ type: 'user_id', value: 'bob' });
    expect(await r.profileOf({ type: 'anonymous_id', value: 'shared-tablet' })).toEqual(alice);
    expect(keysOf(alice)).toEqual(['anonymous_id:shared-tablet', 'user_id:alice']);
    expect(keysOf(bob)).toEqual(['user_id:bob']);
    expect(alice?.eventCount).toBe(2);
    expect(bob?.eventCount).toBe(1);
    expect(bob?.recentEvents.map((e) => e.messageId)).toEqual([bobsEvent.messageId]);

    const ledger = await r.store.listLedger([bob?.profileId as string]);
    const drops = ledger.filter((entry) => entry.reason === 'dropped_by_limit');
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({
      messageId: bobsEvent.messageId,
      identifier: { type: 'anonymous_id', value: 'shared-tablet' },
      from: alice?.profileId,
      to: bob?.profileId,
      detail: 'user_id limit 1 (would hold 2)',
    });
    expect(metrics.get('identifier_dropped.anonymous_id.user_id')).toBe(1);
    expect(metrics.get('event.applied')).toBe(3);
  });

  it('late identify does not overwrite: a newer trait survives an older event arriving later, also across a merge', async () => {
    const r = await resolverOn(engine);
    // On one profile, in later batches and within one batch.
    await deliver(
      r,
      [msg({ type: 'identify', userId: 'lee', traits: { plan: 'enterprise' }, at: 10 })],
      [msg({ type: 'identify', userId: 'lee', traits: { plan: 'trial', company: 'Initech' }, at: 2 })],
      [
        msg({ type: 'identify', userId: 'lee', traits: { seats: 50 }, at: 20 }),
        msg({ type: 'identify', userId: 'lee', traits: { seats: 5, plan: 'free' }, at: 3 }),
      ],
    );
    expect(traitValues(await r.profileOf({ type: 'user_id', value: 'lee' }))).toEqual({
      plan: 'enterprise',
      company: 'Initech',
      seats: 50,
    });

    // Across a merge: the survivor (older profile) holds the older write of `plan` and the newer of
    // `color`; the absorbed profile the other way round. Per trait, the newer write wins.
    await deliver(
      r,
      [
        msg({ type: 'identify', userId: 'max', traits: { plan: 'free', color: 'red' }, at: 5 }),
        msg({ type: 'identify', userId: 'max', traits: { color: 'red' }, at: 25 }),
      ],
      [
        msg({ anonymousId: 'max-phone', event: 'Viewed', at: 6, context: { traits: { color: 'blue' } } }),
        msg({ anonymousId: 'max-phone', event: 'Viewed', at: 7, context: { traits: { plan: 'pro' } } }),
      ],
      [msg({ type: 'identify', userId: 'max', anonymousId: 'max-phone', at: 30 })],
      // A late event after the merge, older than both writes.
      [msg({ anonymousId: 'max-phone', event: 'Viewed', at: 1, context: { traits: { plan: 'ancient' } } })],
    );
    const max = await r.profileOf({ type: 'anonymous_id', value: 'max-phone' });
    expect(max?.profileId).toBe((await r.profileOf({ type: 'user_id', value: 'max' }))?.profileId);
    expect(traitValues(max)).toEqual({ plan: 'pro', color: 'red' });
    expect(max?.eventCount).toBe(6);
    expect(max?.firstSeen).toBe(minute(1));
  });

  it('a duplicate messageId changes nothing: in the same batch, in the next batch, after a merge', async () => {
    const records = [
      msg({ id: 'd1', anonymousId: 'a1', event: 'Viewed', at: 1 }),
      msg({ id: 'd2', type: 'identify', userId: 'u1', anonymousId: 'a1', traits: { plan: 'pro' }, at: 2 }),
      msg({ id: 'd3', anonymousId: 'a2', event: 'Clicked', at: 3 }),
    ];
    const [d1, d2, d3] = records as [StreamRecord, StreamRecord, StreamRecord];
    const merge = msg({ id: 'd4', type: 'alias', previousId: 'a2', userId: 'u1', at: 4 });

    const clean = await resolverOn(engine);
    await deliver(clean, records);
    const once = await clean.snapshot();

    const r = await resolverOn(engine);
    await deliver(r, [d1, d2, d1, d3, d2]);
    expect(await r.snapshot()).toEqual(once);
    await deliver(r, records, [d3, d1]);
    expect(await r.snapshot()).toEqual(once);

    await deliver(clean, [merge]);
    await deliver(r, [merge]);
    const merged = await clean.snapshot();
    expect(await r.snapshot()).toEqual(merged);
    expect(merged.live.size).toBe(1);
    // The events of the absorbed profile (d3) and the merge itself (d4) again, on the survivor.
    await deliver(r, [d3, merge, d1], [...records, merge]);
    expect(await r.snapshot()).toEqual(merged);
    expect([...merged.live.values()][0]?.eventCount).toBe(4);
  });

  it('merge chain A→B→C in separate batches: one survivor (the oldest), every identifier resolves to it, redirects followed', async () => {
    const creations = [
      msg({ anonymousId: 'a', event: 'Viewed', at: 1 }),
      msg({ anonymousId: 'b', event: 'Viewed', at: 2 }),
      msg({ anonymousId: 'c', event: 'Viewed', at: 3 }),
    ];
    const bLinksEmail = msg({ type: 'identify', anonymousId: 'b', traits: { email: 'c@x.io' }, at: 4 });
    const cJoinsB = msg({ type: 'identify', anonymousId: 'c', traits: { email: 'c@x.io' }, at: 5 });
    const aJoinsB = msg({ anonymousId: 'a', context: { traits: { email: 'c@x.io' } }, at: 6 });

    const r = await resolverOn(engine);
    await deliver(r, ...creations.map((m) => [m]));
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((value) => r.profileOf({ type: 'anonymous_id', value })),
    );
    await deliver(r, [bLinksEmail], [cJoinsB], [aJoinsB]);

    const snapshot = await r.snapshot();
    expect([...snapshot.live.keys()]).toEqual([a?.profileId]);
    const survivor = snapshot.live.get(a?.profileId as string);
    expect(survivor?.createdAt).toBe(creations[0]?.receivedAt);
    expect(survivor?.eventCount).toBe(6);
    expect(survivor?.mergedFrom).toEqual([b?.profileId, c?.profileId].sort());
    expect(keysOf(survivor)).toEqual(['anonymous_id:a', 'anonymous_id:b', 'anonymous_id:c', 'email:c@x.io']);
    // C went into B, then B into A: two redirects; every identifier now names A directly.
    expect(snapshot.retired).toEqual(
      new Map([
        [b?.profileId, a?.profileId],
        [c?.profileId, b?.profileId],
      ]),
    );
    expect(new Set(snapshot.owners.values())).toEqual(new Set([a?.profileId]));

    // An identifier whose item still names C (a claim that landed after C was merged away) is
    // resolved through both redirects.
    await r.store.claimIdentifier({ type: 'device_id', value: 'tv' }, c?.profileId as string, minute(7));
    await deliver(r, [msg({ anonymousId: 'tv-app', context: { device: { id: 'tv' } }, at: 8 })]);
    const after = await r.snapshot();
    expect([...after.live.keys()]).toEqual([a?.profileId]);
    expect(after.live.get(a?.profileId as string)?.eventCount).toBe(7);
    expect(resolvedOwners(after).get('anonymous_id:tv-app')).toBe(a?.profileId);
    expect(resolvedOwners(after).get('device_id:tv')).toBe(a?.profileId);

    // The other order of the joining events ends in the same profile.
    const other = await resolverOn(engine);
    await deliver(other, ...creations.map((m) => [m]), [aJoinsB], [cJoinsB], [bLinksEmail]);
    expect((await other.snapshot()).live).toEqual(snapshot.live);
  });
});

/** Every live profile holds at most one user_id (the default limit), whatever path built it. */
function expectOneUserIdEach(snapshot: TableSnapshot) {
  for (const profile of snapshot.live.values()) {
    expect(profile.identities.filter((id) => id.type === 'user_id').length).toBeLessThanOrEqual(1);
  }
}

describe('a messageId reused by a different message', () => {
  const alicesIdentify = () =>
    msg({
      id: 'collide-77',
      type: 'identify',
      userId: 'alice-77',
      traits: { email: 'alice77@example.com' },
      at: 1,
    });
  const bobsIdentify = () =>
    msg({
      id: 'collide-77',
      type: 'identify',
      userId: 'bob-77',
      traits: { email: 'bob77@example.com', plan: 'bobplan' },
      at: 2,
    });

  it("the tester's scenario: bob's identify never attaches to alice's profile; each person has their own, with their own traits and event", async () => {
    for (const batches of [
      [[alicesIdentify()], [bobsIdentify()]],
      [[alicesIdentify(), bobsIdentify()]],
      [[bobsIdentify()], [alicesIdentify()]],
    ]) {
      const metrics = new CountingResolverMetrics();
      const r = await resolverOn(engine, { metrics });
      await deliver(r, ...batches);

      const alice = await r.profileOf({ type: 'user_id', value: 'alice-77' });
      const bob = await r.profileOf({ type: 'user_id', value: 'bob-77' });
      expect(bob?.profileId).toBeDefined();
      expect(bob?.profileId).not.toBe(alice?.profileId);
      expect(keysOf(alice)).toEqual(['email:alice77@example.com', 'user_id:alice-77']);
      expect(keysOf(bob)).toEqual(['email:bob77@example.com', 'user_id:bob-77']);
      expect(traitValues(alice)).toEqual({ email: 'alice77@example.com' });
      expect(traitValues(bob)).toEqual({ email: 'bob77@example.com', plan: 'bobplan' });
      expect([alice?.eventCount, bob?.eventCount]).toEqual([1, 1]);
      expect(await r.profileOf({ type: 'email', value: 'bob77@example.com' })).toEqual(bob);

      const snapshot = await r.snapshot();
      expect(snapshot.live.size).toBe(2);
      expectOneUserIdEach(snapshot);
      expect(r.merges).toEqual([]);
      // identity_links: each identifier is pointed at its own person's profile, and only there.
      const pointed = new Map(
        r.links.map((link) => [`${link.identifier.type}:${link.identifier.value}`, link]),
      );
      expect(r.links).toHaveLength(4);
      expect(pointed.get('user_id:bob-77')?.profileId).toBe(bob?.profileId);
      expect(pointed.get('email:bob77@example.com')?.profileId).toBe(bob?.profileId);
      expect(pointed.get('user_id:alice-77')?.profileId).toBe(alice?.profileId);
      // Nothing merged or dropped: the ledger has nothing to explain.
      expect(await r.store.listLedger([alice?.profileId as string, bob?.profileId as string])).toEqual([]);
      expect(metrics.get('event.applied')).toBe(2);
      expect(metrics.get('event.duplicate')).toBe(0);
    }
  });

  it('a true redelivery still changes nothing: the stream delivering the record again, and an SDK retry stamped anew by the collector', async () => {
    const r = await resolverOn(engine);
    const alice = alicesIdentify();
    await deliver(r, [alice], [bobsIdentify()]);
    const once = await r.snapshot();
    const rows = new Set(r.links.map((link) => JSON.stringify(link)));

    // The SDK retried the request: the collector stamped another receivedAt and corrected timestamp.
    const retried = { ...alice, receivedAt: minute(9), timestamp: minute(8), sentAt: minute(9) };
    await deliver(r, [alice], [retried, alice], [bobsIdentify()]);
    expect(await r.snapshot()).toEqual(once);
    // identity_links may repeat a row (at least once), never say anything new.
    for (const link of r.links) expect(rows.has(JSON.stringify(link))).toBe(true);
  });

  it('the same messageId from two sources is two messages: two people get a profile each; one person counts both', async () => {
    const r = await resolverOn(engine);
    await deliver(r, [alicesIdentify()], [{ ...bobsIdentify(), source: 'ios' }]);
    const alice = await r.profileOf({ type: 'user_id', value: 'alice-77' });
    const bob = await r.profileOf({ type: 'user_id', value: 'bob-77' });
    expect(bob?.profileId).not.toBe(alice?.profileId);
    expect(keysOf(bob)).toEqual(['email:bob77@example.com', 'user_id:bob-77']);
    expect(keysOf(alice)).toEqual(['email:alice77@example.com', 'user_id:alice-77']);

    await deliver(r, [{ ...alicesIdentify(), source: 'ios', at: 3 }]);
    expect((await r.profileOf({ type: 'user_id', value: 'alice-77' }))?.eventCount).toBe(2);
    expectOneUserIdEach(await r.snapshot());
  });

  it('reused by a message about the same person (same user_id): resolved by its identifiers under the limits, and not counted twice on that person', async () => {
    const r = await resolverOn(engine);
    await deliver(r, [alicesIdentify()]);
    const work = msg({
      id: 'collide-77',
      type: 'identify',
      userId: 'alice-77',
      traits: { email: 'alice@work.example' },
      at: 3,
    });
    await deliver(r, [work]);
    const alice = await r.profileOf({ type: 'user_id', value: 'alice-77' });
    expect(keysOf(alice)).toEqual([
      'email:alice77@example.com',
      'email:alice@work.example',
      'user_id:alice-77',
    ]);
    // Deduplicated by (source, messageId) on the person, as documented.
    expect(alice?.eventCount).toBe(1);
    expect(traitValues(alice)).toEqual({ email: 'alice77@example.com' });
    expect((await r.snapshot()).live.size).toBe(1);
  });

  it("reused by a message that names another user_id and one of alice's identifiers: merge protection keeps them apart", async () => {
    const metrics = new CountingResolverMetrics();
    const r = await resolverOn(engine, { metrics });
    await deliver(r, [alicesIdentify()]);
    const mixed = msg({
      id: 'collide-77',
      type: 'identify',
      userId: 'bob-77',
      traits: { email: 'alice77@example.com' },
      at: 2,
    });
    await deliver(r, [mixed]);
    const alice = await r.profileOf({ type: 'user_id', value: 'alice-77' });
    const bob = await r.profileOf({ type: 'user_id', value: 'bob-77' });
    expect(bob?.profileId).not.toBe(alice?.profileId);
    expect(keysOf(alice)).toEqual(['email:alice77@example.com', 'user_id:alice-77']);
    expect(keysOf(bob)).toEqual(['user_id:bob-77']);
    expect(bob?.eventCount).toBe(1);
    expect(metrics.get('identifier_dropped.email.user_id')).toBe(1);
    expectOneUserIdEach(await r.snapshot());
  });

  it('a profile already under the id this message would create, which did not come from this message, is never continued on', async () => {
    const r = await resolverOn(engine);
    const bob = bobsIdentify();
    // Plant a profile under the id bob's identify plans for a new profile: what an earlier attempt
    // of it would have created, but holding another message (as a derived-id collision would).
    const probe = await resolverOn(engine);
    await deliver(probe, [bob]);
    const planned = (await probe.profileOf({ type: 'user_id', value: 'bob-77' }))?.profileId as string;
    await deliver(r, [msg({ id: 'other', userId: 'carol', at: 1 })]);
    const carol = (await r.profileOf({ type: 'user_id', value: 'carol' })) as Profile;
    expect(await r.store.createProfile({ ...carol, profileId: planned })).toBe(true);

    const outcome = await r.resolve([bob]);
    expect(outcome.failed).toEqual([0]);
    const snapshot = await r.snapshot();
    expect(snapshot.owners.has('user_id:bob-77')).toBe(false);
    expect(snapshot.owners.has('email:bob77@example.com')).toBe(false);
    expect(keysOf(snapshot.live.get(planned))).toEqual(keysOf(carol));
  });
});
