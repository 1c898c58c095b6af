import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import type { Identifier } from '../../src/core/identity/identifier';
import { messageKey } from '../../src/core/identity/message-key';
import type { Profile } from '../../src/core/profile/profile';
import { LAND_CONCURRENCY } from '../../src/use-cases/resolve-identities';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { FaultyStore, InjectedFault, resolverOn, type StoreCall } from '../support/resolver-harness';
import { msg } from './fixtures';

/**
 * Partial batch failures (CONVENTIONS.md: stream consumers return them): when a store call fails for
 * one record, the outcome names that record and every later one (the event source delivers again
 * from the first failed record); what came before is durable; and the profiles that records before
 * it only added to (coalesced) are still written, each once.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

const base = (): StreamRecord[] => [
  msg({ id: 'b1', anonymousId: 'a', event: 'Viewed', at: 1 }),
  msg({ id: 'b2', anonymousId: 'b', event: 'Viewed', at: 2 }),
  msg({ id: 'b3', anonymousId: 'c', event: 'Viewed', at: 3 }),
];

const batch = (): StreamRecord[] => [
  msg({ id: 'r0', anonymousId: 'a', event: 'Clicked', at: 4 }),
  msg({ id: 'r1', anonymousId: 'b', event: 'Clicked', at: 5 }),
  msg({ id: 'r2', anonymousId: 'a', event: 'Added', at: 6 }),
  msg({ id: 'r3', anonymousId: 'b', event: 'Added', at: 7 }),
  // Links an email to c's profile: its claim is the call that fails below.
  msg({ id: 'r4', type: 'identify', anonymousId: 'c', traits: { email: 'c@x.io' }, at: 8 }),
  msg({ id: 'r5', anonymousId: 'a', event: 'Bought', at: 9 }),
  msg({ id: 'r6', anonymousId: 'new', event: 'Viewed', at: 10 }),
];

const keys = (profile: Profile | undefined) => (profile?.recentEvents ?? []).map((e) => e.key).sort();
const keysOf = (...records: StreamRecord[]) => records.map((m) => messageKey(m)).sort();
const anon = (value: string): Identifier => ({ type: 'anonymous_id', value });

/** The profile writes (`writeProfile`) a run made, by profile id. */
function profileWrites(calls: readonly StoreCall[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    if (call.method !== 'writeProfile') continue;
    const id = (call.args[0] as Profile).profileId;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('partial batch failure', () => {
  it('a store call failing for one record: that record and every later one failed, the ones before durable, coalesced profiles written once', async () => {
    const start = await resolverOn(engine);
    expect((await start.resolve(base())).failed).toEqual([]);
    const records = batch();
    const [r0, r1, r2, r3] = records as [StreamRecord, StreamRecord, StreamRecord, StreamRecord];
    const [b1, b2] = base() as [StreamRecord, StreamRecord];

    // Without a failure: a and b, each with two events of this batch, are written once each.
    const clean = await resolverOn(engine, { copyOf: start.tableName });
    const cleanStore = new FaultyStore(clean.store);
    const before = clean.store.requests.writes;
    expect((await clean.newResolver(cleanStore)(records)).failed).toEqual([]);
    const [a, b] = await Promise.all([clean.profileOf(anon('a')), clean.profileOf(anon('b'))]);
    const writes = profileWrites(cleanStore.calls);
    expect(writes.get(a?.profileId as string)).toBe(1);
    expect(writes.get(b?.profileId as string)).toBe(1);
    // a, b; c's link (the email listed, claimed, then the event: an email outranks the anonymous id
    // that found c, so the event waits for the claim); the new profile (create, claim). Nothing else.
    expect(clean.store.requests.writes - before).toBe(7);

    // The claim of c@x.io fails (the store cannot be reached).
    const r = await resolverOn(engine, { copyOf: start.tableName });
    const failing = new FaultyStore(r.store, {
      before: (call) => {
        if (call.method === 'claimIdentifier' && (call.args[0] as Identifier).value === 'c@x.io') {
          throw new InjectedFault('DynamoDB could not be reached');
        }
      },
    });
    const outcome = await r.newResolver(failing)(records);
    expect(outcome.failed).toEqual([4, 5, 6]);

    // Everything before record 4 is durable, and nothing after it was applied.
    expect(keys(await r.profileOf(anon('a')))).toEqual(keysOf(r0, r2, b1));
    expect(keys(await r.profileOf(anon('b')))).toEqual(keysOf(r1, r3, b2));
    expect(await r.profileOf(anon('new'))).toBeUndefined();
    expect((await r.profileOf(anon('a')))?.eventCount).toBe(3);
    // The coalesced profiles a and b were still written, once each.
    const failingWrites = profileWrites(failing.calls);
    expect(failingWrites.get(a?.profileId as string)).toBe(1);
    expect(failingWrites.get(b?.profileId as string)).toBe(1);

    // The event source delivers the batch again from the first failed record: as if nothing failed.
    expect((await r.resolve(records.slice(outcome.failed[0]))).failed).toEqual([]);
    const snapshot = await r.snapshot();
    const expected = await clean.snapshot();
    expect(snapshot.live).toEqual(expected.live);
    expect(snapshot.owners).toEqual(expected.owners);
  });

  it('a coalesced profile whose write fails at the end of the batch: every record from its first one on is failed, the rest of the batch is durable', async () => {
    const start = await resolverOn(engine);
    expect((await start.resolve(base())).failed).toEqual([]);
    const records = batch();
    const b = await start.profileOf(anon('b'));

    const r = await resolverOn(engine, { copyOf: start.tableName });
    const failing = new FaultyStore(r.store, {
      before: (call) => {
        if (call.method === 'writeProfile' && (call.args[0] as Profile).profileId === b?.profileId) {
          throw new InjectedFault('DynamoDB could not be reached');
        }
      },
    });
    const outcome = await r.newResolver(failing)(records);
    // b's records are 1 and 3; the event source restarts from 1, so 1 and everything after it.
    expect(outcome.failed).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await r.profileOf(anon('b')))?.eventCount).toBe(1);
    // Record 0 (on a) is durable; so, as it happens, are a's later records, c's link and the new profile.
    expect(keys(await r.profileOf(anon('a')))).toContain(messageKey(records[0] as StreamRecord));

    expect((await r.resolve(records.slice(outcome.failed[0]))).failed).toEqual([]);
    const clean = await resolverOn(engine, { copyOf: start.tableName });
    expect((await clean.resolve(records)).failed).toEqual([]);
    const snapshot = await r.snapshot();
    const expected = await clean.snapshot();
    expect(snapshot.live).toEqual(expected.live);
    expect(snapshot.owners).toEqual(expected.owners);
  });

  it('lands the profiles a batch coalesced several at once (LAND_CONCURRENCY), each written once', async () => {
    const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
    const r = await resolverOn(engine);
    const first = people.map((p, i) => msg({ id: `first-${p}`, anonymousId: p, event: 'Viewed', at: i + 1 }));
    expect((await r.resolve(first)).failed).toEqual([]);

    let inFlight = 0;
    let most = 0;
    const store = new FaultyStore(r.store, {
      before: async (call) => {
        if (call.method !== 'writeProfile') return;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      after: (call) => {
        if (call.method === 'writeProfile') inFlight--;
      },
    });
    const second = people.map((p, i) =>
      msg({ id: `second-${p}`, anonymousId: p, event: 'Clicked', at: i + 20 }),
    );
    expect((await r.newResolver(store)(second)).failed).toEqual([]);
    expect(most).toBe(LAND_CONCURRENCY);
    const writes = profileWrites(store.calls);
    expect(writes.size).toBe(people.length);
    expect([...writes.values()].every((n) => n === 1)).toBe(true);
    for (const [i, p] of people.entries()) {
      expect(keys(await r.profileOf(anon(p)))).toEqual(
        keysOf(first[i] as StreamRecord, second[i] as StreamRecord),
      );
    }
  });
});
