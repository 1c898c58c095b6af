import { afterEach, beforeAll, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import type { JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { type Identifier, identifierKey } from '../../src/core/identity/identifier';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import type { LedgerEntry } from '../../src/core/identity/merge-plan';
import { applyEvent } from '../../src/core/profile/apply-event';
import { MAX_PROFILE_ID_LENGTH, PROFILE_BOUNDS } from '../../src/core/profile/bounds';
import { attachIdentifiers } from '../../src/core/profile/identities';
import { mergeProfiles } from '../../src/core/profile/merge-profiles';
import { assembleProfile, createProfile, type Profile } from '../../src/core/profile/profile';
import { PROFILE_BUDGET_BYTES, serializedProfileBytes } from '../../src/core/profile/size';
import type { IdentifierOwner, IdentityStore, ProfileRecord } from '../../src/ports/identity-store';

/** What an adapter supplies to run the {@link IdentityStore} contract: an empty store. */
export interface IdentityStoreHarness {
  readonly store: IdentityStore;
  close(): Promise<void>;
}

export interface IdentityStoreContractOptions {
  /**
   * Tests of the contract this adapter is known to fail, by title, each with the bug. They run as
   * expected failures (`it.fails`, the bug in the test's name): the suite stays green while the bug is
   * open and turns red as soon as it is fixed, which is when the entry goes.
   */
  readonly knownBugs?: Readonly<Record<string, string>>;
}

const T0 = Date.parse('2026-09-01T08:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function record(seq: number, fields: Partial<StreamRecord> & JsonObject = {}): StreamRecord {
  return {
    messageId: `m-${seq}`,
    source: 'web',
    type: 'track',
    event: 'Product Viewed',
    timestamp: iso(seq),
    receivedAt: iso(seq),
    context: {},
    ...fields,
  } as StreamRecord;
}

/** A profile as the resolver builds one: created, then a few events applied. */
function profileOf(profileId: string, events = 3, identities: readonly Identifier[] = []): Profile {
  let profile = createProfile(profileId, iso(0));
  profile = applyEvent(
    profile,
    record(1, {
      type: 'identify',
      event: undefined,
      userId: `u-${profileId}`,
      traits: { name: 'Zoë Ångström', plan: 'pro', city: '東京', note: 'say "hi" 😀' },
    }),
  ).profile;
  for (let i = 0; i < events; i++) profile = applyEvent(profile, record(10 + i)).profile;
  return attachIdentifiers(profile, identities);
}

/** The same profile after one more event. */
function withEvent(profile: Profile, seq: number): Profile {
  return applyEvent(profile, record(seq, { event: `Event ${seq}` })).profile;
}

/** A string of exactly `bytes` ASCII bytes, unique by `i`. */
const exact = (bytes: number, i: number) => `${i}-`.padEnd(bytes, 'x');
/** Text that costs more as JSON than as characters: 2-byte letters, quotes to escape, 3- and 4-byte characters. */
const heavy = (n: number, tag: string) => `${tag}${'é"東😀'.repeat(n)}`;

/**
 * A profile filled to every bound (traits, consent, event names, groups, recent events, dedupe memory,
 * identifiers, merged ids) with the longest values: close to the 200 KiB budget.
 */
function nearBudgetProfile(): Profile {
  let profile = createProfile('p'.repeat(MAX_PROFILE_ID_LENGTH), iso(0));
  let seq = 0;
  const apply = (fields: Partial<StreamRecord> & JsonObject) => {
    seq += 1;
    profile = applyEvent(
      profile,
      record(seq, { messageId: exact(120, seq), source: heavy(30, 's'), ...fields }),
    ).profile;
  };
  const traits: JsonObject = {};
  for (let k = 0; k < PROFILE_BOUNDS.maxTraits + 10; k++)
    traits[exact(PROFILE_BOUNDS.maxTraitKeyBytes, k)] = heavy(100, 'v');
  const categories: JsonObject = {};
  for (let k = 0; k < 40; k++) categories[exact(PROFILE_BOUNDS.maxConsentKeyBytes, k)] = k % 2 === 0;
  apply({
    type: 'identify',
    event: undefined,
    traits,
    context: { consent: { categoryPreferences: categories } },
  });
  for (let k = 0; k < PROFILE_BOUNDS.maxEventNames + 20; k++)
    apply({ event: exact(PROFILE_BOUNDS.maxEventNameBytes + 50, k) });
  for (let k = 0; k < PROFILE_BOUNDS.maxGroups + 10; k++)
    apply({ type: 'group', event: undefined, groupId: exact(PROFILE_BOUNDS.maxGroupIdBytes, k) });
  for (let k = 0; k < PROFILE_BOUNDS.dedupeWindow + 40; k++) apply({ type: 'identify', event: undefined });
  const identities: Identifier[] = [];
  for (const type of DEFAULT_IDENTITY_CONFIG.types) {
    for (let k = 0; k < type.limit; k++)
      identities.push({ type: type.name, value: exact(type.maxLength, k) });
  }
  profile = attachIdentifiers(profile, identities);
  for (let k = 0; k < PROFILE_BOUNDS.maxMergedFrom; k++) {
    profile = mergeProfiles(
      profile,
      createProfile(`q${exact(MAX_PROFILE_ID_LENGTH - 1, k)}`, iso(1)),
    ).profile;
  }
  return profile;
}

const renamed = (profile: Profile, profileId: string): Profile => assembleProfile({ ...profile, profileId });

const email = (value: string): Identifier => ({ type: 'email', value });

function ledgerEntry(id: string, to: string, second: number, fields: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id,
    at: iso(second),
    source: 'web',
    messageId: `msg-${id}`,
    identifier: email(`${id}@example.com`),
    from: null,
    to,
    reason: 'linked',
    ...fields,
  };
}

async function recordOf(store: IdentityStore, profileId: string): Promise<ProfileRecord | undefined> {
  return (await store.getProfiles([profileId])).get(profileId);
}

/**
 * The contract every {@link IdentityStore} adapter keeps (see the port): profiles with versioned,
 * conditional writes and the live → merging → retired life cycle; identifier ownership claimed once
 * and moved only by its owner; a ledger written each entry once; batch reads of any size.
 */
export function describeIdentityStoreContract(
  adapter: string,
  createHarness: () => Promise<IdentityStoreHarness>,
  options: IdentityStoreContractOptions = {},
): void {
  const knownBugs = new Map(Object.entries(options.knownBugs ?? {}));
  const it = (title: string, test: () => Promise<void>) => {
    const bug = knownBugs.get(title);
    knownBugs.delete(title);
    if (bug === undefined) vitestIt(title, test);
    else vitestIt.fails(`${title} [KNOWN ADAPTER BUG, expected to fail: ${bug}]`, test);
  };

  describe(`IdentityStore contract: ${adapter}`, () => {
    let harness: IdentityStoreHarness;
    let store: IdentityStore;

    beforeAll(() => {
      // Every test is collected by now: a bug left over names a test that is gone or was renamed.
      if (knownBugs.size > 0) {
        throw new Error(
          `knownBugs names tests the contract does not have: ${[...knownBugs.keys()].join('; ')}`,
        );
      }
    });

    beforeEach(async () => {
      harness = await createHarness();
      store = harness.store;
    });

    afterEach(async () => {
      await harness.close();
    });

    describe('profiles', () => {
      it('createProfile puts a live profile at version 1 with nothing pending; it reads back exactly', async () => {
        const profile = profileOf('p_a');
        expect(await store.createProfile(profile)).toBe(true);
        expect(await recordOf(store, 'p_a')).toEqual({ state: 'live', profile, version: 1, pendingFrom: [] });
      });

      it('createProfile of an existing id resolves false and keeps the first profile', async () => {
        const first = profileOf('p_a', 1);
        expect(await store.createProfile(first)).toBe(true);
        expect(await store.createProfile(profileOf('p_a', 5))).toBe(false);
        expect(await recordOf(store, 'p_a')).toMatchObject({ state: 'live', profile: first, version: 1 });
      });

      it('of 8 concurrent createProfile calls for one id exactly one resolves true', async () => {
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.createProfile(profileOf('p_race', i))),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        const winner = outcomes.indexOf(true);
        expect(await recordOf(store, 'p_race')).toEqual({
          state: 'live',
          profile: profileOf('p_race', winner),
          version: 1,
          pendingFrom: [],
        });
      });

      it('writeProfile at the current version replaces the data and resolves with the version + 1; a stale version resolves undefined and changes nothing', async () => {
        const v1 = profileOf('p_a');
        await store.createProfile(v1);
        const v2 = withEvent(v1, 100);
        expect(await store.writeProfile(v2, 1)).toBe(2);
        expect(await recordOf(store, 'p_a')).toEqual({
          state: 'live',
          profile: v2,
          version: 2,
          pendingFrom: [],
        });

        expect(await store.writeProfile(withEvent(v1, 101), 1)).toBeUndefined();
        expect(await store.writeProfile(withEvent(v1, 101), 3)).toBeUndefined();
        expect(await recordOf(store, 'p_a')).toEqual({
          state: 'live',
          profile: v2,
          version: 2,
          pendingFrom: [],
        });

        const v3 = withEvent(v2, 102);
        expect(await store.writeProfile(v3, 2)).toBe(3);
        expect(await recordOf(store, 'p_a')).toMatchObject({ profile: v3, version: 3 });
      });

      it('of 6 concurrent writeProfile calls at one version exactly one wins', async () => {
        const v1 = profileOf('p_a');
        await store.createProfile(v1);
        const candidates = Array.from({ length: 6 }, (_, i) => withEvent(v1, 200 + i));
        const outcomes = await Promise.all(candidates.map((candidate) => store.writeProfile(candidate, 1)));
        expect(outcomes.filter((version) => version !== undefined)).toEqual([2]);
        const winner = candidates[outcomes.indexOf(2)];
        expect(await recordOf(store, 'p_a')).toMatchObject({ state: 'live', profile: winner, version: 2 });
      });

      it('writeProfile of a profile that does not exist resolves undefined and creates nothing', async () => {
        expect(await store.writeProfile(profileOf('p_ghost'), 1)).toBeUndefined();
        expect(await store.getProfiles(['p_ghost'])).toEqual(new Map());
      });

      it('writeProfile adds to and removes from pendingFrom in the same write, each change a new version', async () => {
        const v1 = profileOf('p_a');
        await store.createProfile(v1);
        expect(await store.writeProfile(v1, 1, { addPending: 'p_x' })).toBe(2);
        expect(await recordOf(store, 'p_a')).toMatchObject({ version: 2, pendingFrom: ['p_x'] });
        expect(await store.writeProfile(v1, 2, { addPending: 'p_b' })).toBe(3);
        expect(await store.writeProfile(v1, 3, { addPending: 'p_b' })).toBe(4);
        expect(await recordOf(store, 'p_a')).toMatchObject({ version: 4, pendingFrom: ['p_b', 'p_x'] });
        const v5 = withEvent(v1, 300);
        expect(await store.writeProfile(v5, 4, { removePending: 'p_x' })).toBe(5);
        expect(await recordOf(store, 'p_a')).toEqual({
          state: 'live',
          profile: v5,
          version: 5,
          pendingFrom: ['p_b'],
        });
        expect(await store.writeProfile(v5, 5, { removePending: 'p_b' })).toBe(6);
        expect(await store.writeProfile(v5, 6, { removePending: 'p_never' })).toBe(7);
        expect(await recordOf(store, 'p_a')).toMatchObject({ version: 7, pendingFrom: [] });
        // A stale write changes no pending entry either.
        expect(await store.writeProfile(v5, 6, { addPending: 'p_late' })).toBeUndefined();
        expect(await recordOf(store, 'p_a')).toMatchObject({ version: 7, pendingFrom: [] });
      });

      it('writeProfile with both addPending and removePending applies both in one write', async () => {
        const v1 = profileOf('p_a');
        await store.createProfile(v1);
        expect(await store.writeProfile(v1, 1, { addPending: 'p_x' })).toBe(2);
        expect(await store.writeProfile(v1, 2, { addPending: 'p_y', removePending: 'p_x' })).toBe(3);
        expect(await recordOf(store, 'p_a')).toMatchObject({ version: 3, pendingFrom: ['p_y'] });
      });

      it('a profile near the 200 KiB budget round-trips exactly through createProfile, writeProfile and getProfiles', async () => {
        const big = nearBudgetProfile();
        const bytes = serializedProfileBytes(big);
        expect(bytes).toBeLessThanOrEqual(PROFILE_BUDGET_BYTES);
        expect(bytes).toBeGreaterThan(0.8 * PROFILE_BUDGET_BYTES);

        expect(await store.createProfile(big)).toBe(true);
        const created = await recordOf(store, big.profileId);
        expect(created?.state === 'live' && JSON.stringify(created.profile)).toBe(JSON.stringify(big));

        const bigger = withEvent(big, 5000);
        expect(await store.writeProfile(bigger, 1, { addPending: 'q'.repeat(MAX_PROFILE_ID_LENGTH) })).toBe(
          2,
        );
        const written = await recordOf(store, big.profileId);
        expect(written).toEqual({
          state: 'live',
          profile: bigger,
          version: 2,
          pendingFrom: ['q'.repeat(MAX_PROFILE_ID_LENGTH)],
        });
        expect(written?.state === 'live' && JSON.stringify(written.profile)).toBe(JSON.stringify(bigger));
      });
    });

    describe('merge life cycle', () => {
      it('markMerging turns a live profile into merging into `into`, keeping its data and pending merges', async () => {
        const profile = profileOf('p_loser');
        await store.createProfile(profile);
        await store.writeProfile(profile, 1, { addPending: 'p_older' });
        const marked = await store.markMerging('p_loser', 'p_winner', 2);
        expect(marked).toMatchObject({
          state: 'merging',
          into: 'p_winner',
          profile,
          pendingFrom: ['p_older'],
        });
        expect(await recordOf(store, 'p_loser')).toEqual(marked);
      });

      it('markMerging holds only at the expected version: a profile changed since it was read stays live', async () => {
        const profile = profileOf('p_loser');
        await store.createProfile(profile);
        await store.writeProfile(profile, 1);
        expect(await store.markMerging('p_loser', 'p_winner', 1)).toMatchObject({
          state: 'live',
          version: 2,
        });
        expect(await store.markMerging('p_loser', 'p_winner', 2)).toMatchObject({
          state: 'merging',
          version: 3,
        });
      });

      it('markMerging keeps the merge ledger entry with the mark, until the profile is retired', async () => {
        await store.createProfile(profileOf('p_loser'));
        const entry = {
          id: 'k-merge',
          at: '2026-11-01T10:00:00.000Z',
          source: 'web',
          messageId: 'm-1',
          identifier: { type: 'email', value: 'jo@example.com' },
          from: 'p_loser',
          to: 'p_winner',
          reason: 'merged' as const,
        };
        expect(await store.markMerging('p_loser', 'p_winner', 1, entry)).toMatchObject({
          state: 'merging',
          entry,
        });
        await store.retireProfile('p_loser', 'p_winner');
        expect(await recordOf(store, 'p_loser')).not.toHaveProperty('entry');
      });

      it('markMerging is idempotent for the same `into`', async () => {
        await store.createProfile(profileOf('p_loser'));
        const first = await store.markMerging('p_loser', 'p_winner', 1);
        const again = await store.markMerging('p_loser', 'p_winner', 1);
        expect(again).toMatchObject({ state: 'merging', into: 'p_winner' });
        expect(await recordOf(store, 'p_loser')).toEqual(again);
        expect(again).toMatchObject({ profile: (first as { profile: Profile }).profile });
      });

      it('markMerging into another profile leaves the merge under way as it is and says so', async () => {
        await store.createProfile(profileOf('p_loser'));
        await store.markMerging('p_loser', 'p_winner', 1);
        const other = await store.markMerging('p_loser', 'p_other', 1);
        expect(other).toMatchObject({ state: 'merging', into: 'p_winner' });
        expect(await recordOf(store, 'p_loser')).toMatchObject({ state: 'merging', into: 'p_winner' });
      });

      it('markMerging a retired profile leaves it retired and says so; an unknown profile resolves undefined', async () => {
        await store.createProfile(profileOf('p_loser'));
        await store.markMerging('p_loser', 'p_winner', 1);
        await store.retireProfile('p_loser', 'p_winner');
        expect(await store.markMerging('p_loser', 'p_other', 2)).toMatchObject({
          state: 'retired',
          into: 'p_winner',
        });
        expect(await store.markMerging('p_loser', 'p_winner', 2)).toMatchObject({
          state: 'retired',
          into: 'p_winner',
        });
        expect(await recordOf(store, 'p_loser')).toMatchObject({ state: 'retired', into: 'p_winner' });
        expect(await store.markMerging('p_unknown', 'p_winner', 1)).toBeUndefined();
        expect(await store.getProfiles(['p_unknown'])).toEqual(new Map());
      });

      it('writeProfile of a merging profile resolves undefined even at its current version', async () => {
        const profile = profileOf('p_loser');
        await store.createProfile(profile);
        const marked = await store.markMerging('p_loser', 'p_winner', 1);
        const version = marked?.version ?? Number.NaN;
        expect(await store.writeProfile(withEvent(profile, 400), version)).toBeUndefined();
        expect(await store.writeProfile(withEvent(profile, 400), 1)).toBeUndefined();
        expect(await recordOf(store, 'p_loser')).toEqual(marked);
      });

      it('retireProfile leaves only a redirect: state retired, `into`, id, createdAt and version, and no profile data', async () => {
        const profile = profileOf('p_loser');
        await store.createProfile(profile);
        await store.writeProfile(profile, 1, { addPending: 'p_older' });
        const marked = await store.markMerging('p_loser', 'p_winner', 2);
        await store.retireProfile('p_loser', 'p_winner');
        const retired = await recordOf(store, 'p_loser');
        expect(retired).toEqual({
          state: 'retired',
          profileId: 'p_loser',
          createdAt: profile.createdAt,
          version: expect.any(Number),
          into: 'p_winner',
        });
        expect(retired?.version).toBeGreaterThanOrEqual(marked?.version ?? Number.NaN);
        expect(retired).not.toHaveProperty('profile');
        expect(retired).not.toHaveProperty('pendingFrom');
      });

      it('retireProfile is idempotent, and a retired profile takes no write', async () => {
        const profile = profileOf('p_loser');
        await store.createProfile(profile);
        await store.markMerging('p_loser', 'p_winner', 1);
        await store.retireProfile('p_loser', 'p_winner');
        const retired = await recordOf(store, 'p_loser');
        await store.retireProfile('p_loser', 'p_winner');
        expect(await recordOf(store, 'p_loser')).toEqual(retired);
        const version = retired?.version ?? Number.NaN;
        expect(await store.writeProfile(withEvent(profile, 500), version)).toBeUndefined();
        expect(await store.createProfile(profile)).toBe(false);
        expect(await recordOf(store, 'p_loser')).toEqual(retired);
      });

      it('getProfiles returns live, merging and retired records side by side', async () => {
        for (const id of ['p_live', 'p_merging', 'p_retired']) await store.createProfile(profileOf(id));
        await store.markMerging('p_merging', 'p_live', 1);
        await store.markMerging('p_retired', 'p_live', 1);
        await store.retireProfile('p_retired', 'p_live');
        const records = await store.getProfiles(['p_live', 'p_merging', 'p_retired', 'p_none']);
        expect([...records.keys()].sort()).toEqual(['p_live', 'p_merging', 'p_retired']);
        expect(records.get('p_live')?.state).toBe('live');
        expect(records.get('p_merging')).toMatchObject({ state: 'merging', into: 'p_live' });
        expect(records.get('p_retired')).toMatchObject({
          state: 'retired',
          into: 'p_live',
          profileId: 'p_retired',
        });
      });

      it('getProfiles reads hundreds of profiles (several batch reads at once), each once, unknown ids left out', async () => {
        const ids = Array.from({ length: 450 }, (_, i) => `p_many_${String(i).padStart(3, '0')}`);
        await Promise.all(ids.map((id) => store.createProfile(profileOf(id, 1))));
        // Duplicates and unknown ids among them, in no particular order.
        const asked = [...ids].reverse().concat(ids.slice(0, 30), ['p_many_none_1', 'p_many_none_2']);
        const records = await store.getProfiles(asked);
        expect([...records.keys()].sort()).toEqual(ids);
        for (const id of ids) {
          const record = records.get(id);
          expect(record?.state === 'live' && record.profile.profileId).toBe(id);
        }
      });
    });

    describe('identifiers', () => {
      const jane = email('jane@example.com');

      it('claimIdentifier of a free identifier makes the caller its owner, since `at`', async () => {
        const owner = await store.claimIdentifier(jane, 'p_a', iso(10));
        expect(owner).toEqual({ profileId: 'p_a', linkedAt: iso(10) });
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), owner]]));
      });

      it('claimIdentifier again by its owner is idempotent: the first claim stands', async () => {
        const first = await store.claimIdentifier(jane, 'p_a', iso(10));
        const again = await store.claimIdentifier(jane, 'p_a', iso(20));
        expect(again.profileId).toBe('p_a');
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), first]]));
        expect(again).toEqual(first);
      });

      it('claimIdentifier of an identifier another profile owns resolves with that owner and changes nothing', async () => {
        const owner = await store.claimIdentifier(jane, 'p_a', iso(10));
        expect(await store.claimIdentifier(jane, 'p_b', iso(20))).toEqual(owner);
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), owner]]));
      });

      it('of 10 concurrent claims of one identifier exactly one wins, and every caller is told the winner', async () => {
        const claimers = Array.from({ length: 10 }, (_, i) => `p_${i}`);
        const owners = await Promise.all(claimers.map((id, i) => store.claimIdentifier(jane, id, iso(i))));
        const winners = new Set(owners.map((owner) => owner.profileId));
        expect(winners.size).toBe(1);
        const winner = owners[0] as IdentifierOwner;
        expect(claimers).toContain(winner.profileId);
        expect(winner.linkedAt).toBe(iso(claimers.indexOf(winner.profileId)));
        for (const owner of owners) expect(owner).toEqual(winner);
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), winner]]));
      });

      it('repointIdentifier moves an identifier only from its current owner', async () => {
        await store.claimIdentifier(jane, 'p_a', iso(10));
        expect(await store.repointIdentifier(jane, 'p_b', 'p_c', iso(20))).toBe(false);
        expect(await store.getOwners([jane])).toEqual(
          new Map([[identifierKey(jane), { profileId: 'p_a', linkedAt: iso(10) }]]),
        );
        expect(await store.repointIdentifier(jane, 'p_a', 'p_b', iso(30))).toBe(true);
        expect(await store.getOwners([jane])).toEqual(
          new Map([[identifierKey(jane), { profileId: 'p_b', linkedAt: iso(30) }]]),
        );
        // The old owner no longer can; a claim now names the new owner.
        expect(await store.repointIdentifier(jane, 'p_a', 'p_c', iso(40))).toBe(false);
        expect(await store.claimIdentifier(jane, 'p_a', iso(50))).toEqual({
          profileId: 'p_b',
          linkedAt: iso(30),
        });
      });

      it('an identifier item keeps the message that claimed or re-pointed it, and a re-point without one clears it', async () => {
        const signup = { source: 'web', messageId: 'm-1' };
        const login = { source: 'ios', messageId: 'm-2' };
        const claimed = await store.claimIdentifier(jane, 'p_a', iso(10), signup);
        expect(claimed).toEqual({ profileId: 'p_a', linkedAt: iso(10), by: { ...signup, reason: 'linked' } });
        // A claim that loses (or repeats) reports the cause the item records, not its own.
        expect(await store.claimIdentifier(jane, 'p_b', iso(20), login)).toEqual(claimed);
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), claimed]]));

        expect(await store.repointIdentifier(jane, 'p_a', 'p_b', iso(30), login)).toBe(true);
        const moved = { profileId: 'p_b', linkedAt: iso(30), by: { ...login, reason: 'merged' } };
        expect(await store.getOwners([jane])).toEqual(new Map([[identifierKey(jane), moved]]));
        expect(await store.claimIdentifier(jane, 'p_c', iso(35), signup)).toEqual(moved);

        expect(await store.repointIdentifier(jane, 'p_b', 'p_c', iso(40))).toBe(true);
        const owner = (await store.getOwners([jane])).get(identifierKey(jane));
        expect(owner).toEqual({ profileId: 'p_c', linkedAt: iso(40) });
        expect(owner).not.toHaveProperty('by');
      });

      it('repointIdentifier of an identifier nobody owns resolves false and claims nothing', async () => {
        expect(await store.repointIdentifier(jane, 'p_a', 'p_b', iso(10))).toBe(false);
        expect(await store.getOwners([jane])).toEqual(new Map());
      });

      it('of concurrent repoints from the owner to different profiles exactly one holds', async () => {
        await store.claimIdentifier(jane, 'p_a', iso(10));
        const targets = ['p_b', 'p_c', 'p_d', 'p_e'];
        const held = await Promise.all(
          targets.map((to, i) => store.repointIdentifier(jane, 'p_a', to, iso(20 + i))),
        );
        expect(held.filter(Boolean)).toHaveLength(1);
        const i = held.indexOf(true);
        expect(await store.getOwners([jane])).toEqual(
          new Map([[identifierKey(jane), { profileId: targets[i], linkedAt: iso(20 + i) }]]),
        );
      });

      it('identifiers are told apart by type and whole value, including `:`, `/`, `%` and non-ASCII', async () => {
        const ids: Identifier[] = [
          { type: 'email', value: 'a:b@example.com' },
          { type: 'email:x', value: 'b@example.com' },
          { type: 'device_id', value: 'ios:4F2A/9%41' },
          { type: 'anonymous_id', value: 'Zoë-東京-😀' },
          { type: 'user_id', value: 'U1' },
          { type: 'user_id', value: 'u1' },
        ];
        for (const [i, id] of ids.entries()) await store.claimIdentifier(id, `p_${i}`, iso(i));
        const owners = await store.getOwners(ids);
        expect(owners.size).toBe(ids.length);
        for (const [i, id] of ids.entries()) {
          expect(owners.get(identifierKey(id))).toEqual({ profileId: `p_${i}`, linkedAt: iso(i) });
        }
      });
    });

    describe('batch reads', () => {
      it('getOwners of 250 identifiers (more than one batch), 150 of them owned and some asked twice, returns exactly the owned ones', async () => {
        const ids = Array.from({ length: 250 }, (_, i) =>
          email(`user-${String(i).padStart(3, '0')}@example.com`),
        );
        const owned = ids.filter((_, i) => i % 2 === 0 || i > 200);
        for (let i = 0; i < owned.length; i += 25) {
          await Promise.all(
            owned.slice(i, i + 25).map((id, j) => store.claimIdentifier(id, `p_${(i + j) % 7}`, iso(i + j))),
          );
        }
        expect(owned).toHaveLength(150);
        const owners = await store.getOwners([...ids, ...ids.slice(0, 30)]);
        expect([...owners.keys()].sort()).toEqual(owned.map(identifierKey).sort());
        for (const [i, id] of owned.entries()) {
          expect(owners.get(identifierKey(id))).toEqual({ profileId: `p_${i % 7}`, linkedAt: iso(i) });
        }
      });

      it('getProfiles of 230 ids (more than one batch), 150 of them existing and some asked twice, returns exactly the existing ones', async () => {
        const ids = Array.from({ length: 230 }, (_, i) => `p_${String(i).padStart(3, '0')}`);
        const existing = ids.filter((_, i) => i % 3 !== 1 || i >= 200).slice(0, 150);
        for (let i = 0; i < existing.length; i += 25) {
          await Promise.all(existing.slice(i, i + 25).map((id) => store.createProfile(profileOf(id, 1))));
        }
        const records = await store.getProfiles([...ids, ...ids.slice(100, 140)]);
        expect([...records.keys()].sort()).toEqual([...existing].sort());
        for (const id of existing) {
          expect(records.get(id)).toEqual({
            state: 'live',
            profile: profileOf(id, 1),
            version: 1,
            pendingFrom: [],
          });
        }
      });

      it('getOwners and getProfiles of nothing, or of unknown ids only, resolve with empty maps', async () => {
        expect(await store.getOwners([])).toEqual(new Map());
        expect(await store.getProfiles([])).toEqual(new Map());
        expect(await store.getOwners([email('nobody@example.com')])).toEqual(new Map());
        expect(await store.getProfiles(['p_nobody'])).toEqual(new Map());
      });

      it('getProfiles reads 100 profiles near the size budget in one call (~18 MB: more than one engine answer carries)', async () => {
        const big = nearBudgetProfile();
        const ids = Array.from({ length: 100 }, (_, i) => `p_big_${String(i).padStart(2, '0')}`);
        for (let i = 0; i < ids.length; i += 10) {
          await Promise.all(ids.slice(i, i + 10).map((id) => store.createProfile(renamed(big, id))));
        }
        const records = await store.getProfiles(ids);
        expect([...records.keys()].sort()).toEqual([...ids].sort());
        for (const id of ids) {
          const read = records.get(id);
          expect(read?.state === 'live' && JSON.stringify(read.profile)).toBe(
            JSON.stringify(renamed(big, id)),
          );
        }
      });
    });

    describe('ledger', () => {
      it('appendLedger writes each entry once however often it is appended, and listLedger returns them exactly, oldest first, across profiles', async () => {
        const entries = [
          ledgerEntry('l-3', 'p_a', 30, {
            from: 'p_b',
            reason: 'merged',
            identifier: email('x@example.com'),
          }),
          ledgerEntry('l-1', 'p_b', 10),
          ledgerEntry('l-5', 'p_a', 50, {
            reason: 'dropped_by_limit',
            detail: 'user_id limit 1 (would hold 2)',
            identifier: { type: 'user_id', value: 'u-2' },
          }),
          ledgerEntry('l-2', 'p_a', 20),
          ledgerEntry('l-4', 'p_c', 40),
        ];
        await store.appendLedger(entries);
        await store.appendLedger(entries);
        await store.appendLedger([...entries].reverse());

        const byId = new Map(entries.map((entry) => [entry.id, entry]));
        const pick = (...ids: string[]) => ids.map((id) => byId.get(id));
        expect(await store.listLedger(['p_a', 'p_b'])).toEqual(pick('l-1', 'l-2', 'l-3', 'l-5'));
        expect(await store.listLedger(['p_a'])).toEqual(pick('l-2', 'l-3', 'l-5'));
        expect(await store.listLedger(['p_c', 'p_b', 'p_a'])).toEqual(
          pick('l-1', 'l-2', 'l-3', 'l-4', 'l-5'),
        );
        expect(await store.listLedger(['p_none'])).toEqual([]);
        expect(await store.listLedger([])).toEqual([]);
      });

      it('appendLedger of entries partly written before writes the rest, each once; an empty append is no error', async () => {
        const first = ledgerEntry('l-1', 'p_a', 10);
        const second = ledgerEntry('l-2', 'p_a', 20);
        await store.appendLedger([]);
        await store.appendLedger([first]);
        await store.appendLedger([second, first]);
        expect(await store.listLedger(['p_a'])).toEqual([first, second]);
      });

      it('an entry appended again from a later re-plan (same id, later `at`) is not written again: the first stands', async () => {
        // Ledger ids come from the message and the entry's content, `at` from the resolver's clock: a
        // message re-planned after a crash or a conflict yields the same ids with a new `at`.
        const first = ledgerEntry('l-1', 'p_a', 10);
        await store.appendLedger([first]);
        await store.appendLedger([{ ...first, at: iso(70) }]);
        expect(await store.listLedger(['p_a'])).toEqual([first]);
      });

      it('an entry appended concurrently by several resolvers is listed once', async () => {
        const entry = ledgerEntry('l-1', 'p_a', 10);
        await Promise.all(Array.from({ length: 6 }, () => store.appendLedger([entry])));
        expect(await store.listLedger(['p_a'])).toEqual([entry]);
      });

      it('listLedger returns every entry of a long ledger (200 entries), oldest first', async () => {
        const entries = Array.from({ length: 200 }, (_, i) =>
          ledgerEntry(`l-${String(i).padStart(3, '0')}`, i % 2 === 0 ? 'p_a' : 'p_b', 1000 - i, {
            messageId: exact(200, i),
          }),
        );
        for (let i = 0; i < entries.length; i += 50) await store.appendLedger(entries.slice(i, i + 50));
        const listed = await store.listLedger(['p_a', 'p_b']);
        expect(listed).toEqual([...entries].reverse());
        // A profile's ledger lives beside its profile item, and never shows up as a profile.
        await store.createProfile(profileOf('p_a'));
        expect((await store.listLedger(['p_a'])).map((entry) => entry.id)).toEqual(
          entries
            .filter((entry) => entry.to === 'p_a')
            .map((entry) => entry.id)
            .reverse(),
        );
        expect([...(await store.getProfiles(['p_a', 'p_b'])).keys()]).toEqual(['p_a']);
      });
    });
  });
}
