import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import type { IdentityStore } from '../../src/ports/identity-store';
import { createProfileQuery, type ProfileReader } from '../../src/use-cases/profile-query';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { crashingStore, FaultyStore, resolverOn, WRITE_METHODS } from '../support/resolver-harness';
import { msg } from './fixtures';

/**
 * The Profile API remembers which live profile an identifier led to (`createProfileQuery`). Here the
 * real resolver builds and merges profiles on the real store, one store call at a time, and after
 * every write it makes — every half-done link and merge included — each identifier is looked up by a
 * query that remembers (kept from the first write to the last) and by one that does not. They must
 * answer the same, every time.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

const batches: readonly (readonly StreamRecord[])[] = [
  [
    msg({ id: 'p1', type: 'identify', userId: 'jo', anonymousId: 'x', traits: { email: 'jo@x.io' }, at: 1 }),
    msg({ id: 'p2', anonymousId: 'y', event: 'Viewed', at: 2 }),
    msg({ id: 'p3', type: 'identify', userId: 'zed', anonymousId: 'z', at: 3 }),
    msg({ id: 'p4', anonymousId: 'q1', at: 4 }),
    msg({ id: 'p5', type: 'page', anonymousId: 'q2', name: 'Home', at: 4 }),
    msg({
      id: 'p6',
      type: 'identify',
      anonymousId: 'w',
      traits: { email: 'w@x.io' },
      context: { device: { id: 'dev-w' } },
      at: 5,
    }),
  ],
  [
    // y's profile merges into jo's; then an event through the absorbed id.
    msg({ id: 'm1', type: 'identify', userId: 'jo', anonymousId: 'y', at: 6 }),
    msg({ id: 'm2', anonymousId: 'y', event: 'Clicked', at: 7 }),
    // zed's anonymous id on jo's profile: merge protection drops it.
    msg({ id: 'm3', type: 'alias', previousId: 'z', userId: 'jo', at: 8 }),
  ],
  [
    // One event merging three profiles (q1's and q2's into jo's, through the email), with a new device.
    msg({
      id: 't1',
      type: 'identify',
      anonymousId: 'q1',
      previousId: 'q2',
      traits: { email: 'JO@x.io' },
      context: { device: { id: 'dev-q' } },
      at: 9,
    }),
    // w's profile merges into zed's through its email: identifiers the message does not name move.
    msg({ id: 'w1', type: 'identify', userId: 'zed', traits: { email: 'w@x.io' }, at: 10 }),
  ],
  [
    // A chain: kai's new profile, then merged into zed's through an alias.
    msg({ id: 'k1', type: 'identify', anonymousId: 'k', traits: { email: 'kai@x.io' }, at: 11 }),
    msg({ id: 'k2', type: 'alias', previousId: 'k', userId: 'zed', at: 12 }),
  ],
];

/** Every identifier the batches name, as the Profile API is asked for them (any spelling). */
const LOOKUPS: readonly (readonly [string, string])[] = [
  ['user_id', 'jo'],
  ['user_id', 'zed'],
  ['email', 'jo@x.io'],
  ['email', 'W@X.io'],
  ['email', 'kai@x.io'],
  ['device_id', 'dev-w'],
  ['device_id', 'dev-q'],
  ...['x', 'y', 'z', 'q1', 'q2', 'w', 'k'].map((value) => ['anonymous_id', value] as const),
];

/** The profile id a lookup answers, or the code of the error it answers with. */
async function answer(lookup: Promise<{ profileId: string }>): Promise<string> {
  try {
    return (await lookup).profileId;
  } catch (error) {
    return `error: ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
}

/** A reader that counts identifier reads: how often a lookup had to start from the identifier. */
function countingReader(inner: ProfileReader) {
  const counts = { getOwners: 0 };
  const reader: ProfileReader = {
    getOwners: (ids) => {
      counts.getOwners++;
      return inner.getOwners(ids);
    },
    getProfiles: (ids) => inner.getProfiles(ids),
    listLedger: (ids) => inner.listLedger(ids),
  };
  return { reader, counts };
}

/** A query that remembers and one that does not, over the same table; `compare` asks both everything. */
function lookupComparison(table: ProfileReader) {
  const remembering = countingReader(table);
  const forgetting = countingReader(table);
  const remember = createProfileQuery({ store: remembering.reader, identity: DEFAULT_IDENTITY_CONFIG });
  const forget = createProfileQuery({
    store: forgetting.reader,
    identity: DEFAULT_IDENTITY_CONFIG,
    lookupCacheEntries: 0,
  });
  const disagreements: string[] = [];
  let checks = 0;
  return {
    disagreements,
    remembering: remembering.counts,
    forgetting: forgetting.counts,
    checks: () => checks,
    async compare(when: string): Promise<void> {
      checks++;
      for (const [type, value] of LOOKUPS) {
        const remembered = await answer(remember.lookup(type, value));
        const fresh = await answer(forget.lookup(type, value));
        if (remembered !== fresh)
          disagreements.push(`${when}: ${type}:${value} → ${remembered}, not ${fresh}`);
      }
    },
  };
}
type LookupComparison = ReturnType<typeof lookupComparison>;

/**
 * The store with its calls run one at a time, and after each write (made or failed) the comparison:
 * no other call of the resolver's can land between a write and the lookups that follow it.
 */
function comparedAfterEachWrite(inner: IdentityStore, comparison: LookupComparison): IdentityStore {
  let tail: Promise<unknown> = Promise.resolve();
  let writes = 0;
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const isWrite = (WRITE_METHODS as readonly PropertyKey[]).includes(property);
      return (...args: unknown[]) => {
        const call = tail.then(async () => {
          try {
            return await value.apply(target, args);
          } finally {
            if (isWrite) await comparison.compare(`after write ${++writes} (${String(property)})`);
          }
        });
        tail = call.catch(() => undefined);
        return call;
      };
    },
  });
}

describe('a lookup that remembers answers as one that does not, at every step of the resolver', () => {
  it('through links, merges, merge protection and a merge chain, checked after every write', async () => {
    const run = await resolverOn(engine);
    const comparison = lookupComparison(run.store);
    const resolve = run.newResolver(comparedAfterEachWrite(run.store, comparison));
    for (const batch of batches) expect((await resolve(batch)).failed).toEqual([]);
    await comparison.compare('at the end');

    expect(comparison.disagreements).toEqual([]);
    expect(comparison.checks()).toBeGreaterThan(40);
    // Not vacuous: most lookups were answered from memory, with the identifier's read saved.
    expect(comparison.remembering.getOwners).toBeLessThan(comparison.forgetting.getOwners / 2);
    // The lookups saw the merges happen: at the end jo's and zed's profiles hold everyone.
    const query = createProfileQuery({ store: run.store, identity: DEFAULT_IDENTITY_CONFIG });
    const final = new Set(
      await Promise.all(LOOKUPS.map(([type, value]) => answer(query.lookup(type, value)))),
    );
    expect(final.size).toBe(2);
    expect([...final].some((id) => id.startsWith('error'))).toBe(false);
  });

  it('through a crash in the middle of the merges, and the retry that finishes them', async () => {
    const base = await resolverOn(engine);
    expect((await base.resolve(batches[0] as StreamRecord[])).failed).toEqual([]);
    const merges = [...(batches[1] as StreamRecord[]), ...(batches[2] as StreamRecord[])];
    const clean = await resolverOn(engine, { copyOf: base.tableName });
    const counting = new FaultyStore(clean.store);
    expect((await clean.newResolver(counting)(merges)).failed).toEqual([]);

    // A crash after every third write (up to the crash, the run is the one without a crash).
    for (let at = 1; at <= counting.writes; at += 3) {
      const run = await resolverOn(engine, { copyOf: base.tableName });
      // One comparison throughout: the remembering query keeps what it learnt before the crash.
      const comparison = lookupComparison(run.store);
      await comparison.compare('before the batch');
      const crashing = crashingStore(run.store, at, 'after');
      expect((await run.newResolver(crashing)(merges)).failed.length).toBeGreaterThan(0);
      await comparison.compare(`after a crash after write ${at}`);
      const retry = run.newResolver(comparedAfterEachWrite(run.store, comparison));
      expect((await retry(merges)).failed).toEqual([]);
      expect(comparison.disagreements).toEqual([]);
    }
  });
});
