import { describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_CONFIG, parseIdentityConfig } from '../../src/core/identity/identity-config';
import { createProfile } from '../../src/core/profile/profile';
import { eventsView, mergesView, profileView } from '../../src/core/profile/profile-view';
import {
  createProfileQuery,
  InvalidIdentifierError,
  InvalidLimitError,
  MAX_REDIRECT_HOPS,
  ProfileNotFoundError,
  ProfileRedirectError,
  UnknownIdentifierTypeError,
} from '../../src/use-cases/profile-query';
import { MemoryProfileReader } from '../support/memory-profile-reader';
import {
  ANON_ID,
  at,
  buildProfile,
  JANE_ID,
  JANE_LEDGER,
  janeGraph,
  janeProfile,
  OLD_ID,
  streamRecord,
} from '../support/profile-fixtures';

const queryOver = (store: MemoryProfileReader, identity = DEFAULT_IDENTITY_CONFIG) =>
  createProfileQuery({ store, identity });

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('ProfileQuery.lookup: values are normalised as the resolver normalises them', () => {
  const query = queryOver(janeGraph());

  it.each([
    ['email', 'Jane@Example.COM'],
    ['email', '  jane@example.com '],
    ['phone', '+1 (415) 555-2671'],
    ['phone', '+14155552671'],
    ['user_id', ' u-jane '],
    ['device_id', 'ios:4F2A:9'],
    ['anonymous_id', 'a/b%41'],
  ])('finds Jane by %s "%s"', async (type, value) => {
    expect((await query.lookup(type, value)).profileId).toBe(JANE_ID);
  });

  it('keeps ids case-sensitive (trim only)', async () => {
    expect(await rejection(query.lookup('user_id', 'U-JANE'))).toBeInstanceOf(ProfileNotFoundError);
  });

  it('reads a phone number without a country code with the configured default country', async () => {
    const us = queryOver(janeGraph(), parseIdentityConfig({ defaultPhoneCountry: 'US' }));
    expect((await us.lookup('phone', '(415) 555-2671')).profileId).toBe(JANE_ID);
    expect(await rejection(query.lookup('phone', '(415) 555-2671'))).toBeInstanceOf(InvalidIdentifierError);
  });

  it('reads a profile by profile_id, without reading any identifier', async () => {
    const store = janeGraph();
    expect((await queryOver(store).lookup('profile_id', JANE_ID)).profileId).toBe(JANE_ID);
    expect(store.calls).toMatchObject({ getOwners: 0, getProfiles: 1 });
  });

  it('follows retired redirects to the live profile: p_old → p_anon → p_jane', async () => {
    const store = janeGraph();
    expect((await queryOver(store).lookup('profile_id', OLD_ID)).profileId).toBe(JANE_ID);
    expect(store.calls.getProfiles).toBe(3);
    expect((await query.lookup('profile_id', ANON_ID)).profileId).toBe(JANE_ID);
  });

  it('follows the redirects of an identifier that still points at a retired profile', async () => {
    expect((await query.lookup('anonymous_id', 'anon-old')).profileId).toBe(JANE_ID);
  });

  it('follows a merging profile (merge started, not finished) to the profile it merges into', async () => {
    const merging = buildProfile('p_merging', [{ type: 'email', value: 'j@work.example' }], [], {
      createdAt: at(0),
    });
    const store = janeGraph().putMerging(merging, JANE_ID);
    expect((await queryOver(store).lookup('email', 'j@work.example')).profileId).toBe(JANE_ID);
  });

  it(`follows up to ${MAX_REDIRECT_HOPS} redirects`, async () => {
    const store = new MemoryProfileReader().putLive(createProfile('p_end', at(0)));
    let previous = 'p_end';
    for (let i = 0; i < MAX_REDIRECT_HOPS; i++) {
      store.putRetired(`p_${i}`, previous);
      previous = `p_${i}`;
    }
    expect((await queryOver(store).lookup('profile_id', previous)).profileId).toBe('p_end');
    store.putRetired('p_one_more', previous);
    const error = await rejection(queryOver(store).lookup('profile_id', 'p_one_more'));
    expect(error).toBeInstanceOf(ProfileRedirectError);
    expect(error).toMatchObject({ statusCode: 500, code: 'profile_redirect_broken' });
  });

  it('refuses a redirect cycle with an error rather than looping', async () => {
    const store = new MemoryProfileReader().putRetired('p_a', 'p_b').putRetired('p_b', 'p_a');
    const error = await rejection(queryOver(store).lookup('profile_id', 'p_a'));
    expect(error).toBeInstanceOf(ProfileRedirectError);
    expect(error.message).toMatch(/cycle/);
    expect(store.calls.getProfiles).toBe(2);
  });

  it.each([
    ['an identifier no profile has', 'email', 'nobody@example.com'],
    ['a profile id that does not exist', 'profile_id', 'p_nobody'],
  ])('answers not found (404) for %s', async (_what, type, value) => {
    const error = await rejection(query.lookup(type, value));
    expect(error).toBeInstanceOf(ProfileNotFoundError);
    expect(error).toMatchObject({ statusCode: 404, code: 'profile_not_found' });
  });

  it('answers not found for an owner whose profile is not written yet, and for a redirect to nothing', async () => {
    const store = new MemoryProfileReader()
      .own({ type: 'email', value: 'new@example.com' }, 'p_not_yet')
      .putRetired('p_gone_into', 'p_deleted');
    expect(await rejection(queryOver(store).lookup('email', 'new@example.com'))).toBeInstanceOf(
      ProfileNotFoundError,
    );
    expect(await rejection(queryOver(store).lookup('profile_id', 'p_gone_into'))).toBeInstanceOf(
      ProfileNotFoundError,
    );
  });

  it('refuses a type that is neither configured nor profile_id (400), listing the types', async () => {
    const error = await rejection(query.lookup('Email', 'jane@example.com'));
    expect(error).toBeInstanceOf(UnknownIdentifierTypeError);
    expect(error).toMatchObject({ statusCode: 400, code: 'unknown_identifier_type' });
    expect(error.message).toContain('user_id, email, phone, device_id, anonymous_id, profile_id');
  });

  it('knows only the configured types', async () => {
    const custom = parseIdentityConfig({ types: [{ name: 'crm_id', paths: ['context.crm.id'] }] });
    const store = new MemoryProfileReader().putLive(
      buildProfile('p_crm', [{ type: 'crm_id', value: 'C-1' }], []),
    );
    expect((await queryOver(store, custom).lookup('crm_id', 'C-1')).profileId).toBe('p_crm');
    expect(await rejection(queryOver(store, custom).lookup('email', 'a@b.c'))).toBeInstanceOf(
      UnknownIdentifierTypeError,
    );
  });

  it.each([
    ['a placeholder value', 'user_id', 'null', 'blocked', /blocked \(value:null\)/],
    ['an empty value', 'user_id', '   ', 'blocked', /blocked \(empty\)/],
    ['a value of zeros and dashes', 'device_id', '000-000', 'blocked', /pattern/],
    ['an email without @', 'email', 'jane.example.com', 'invalid', /invalid/],
    ['a phone number that is not one', 'phone', '+10000000000', 'invalid', /invalid/],
    ['a control character', 'user_id', 'u\u0000jane', 'invalid', /invalid/],
    ['a value longer than the type allows', 'user_id', 'u'.repeat(513), 'too_long', /too long/],
    ['a profile id with a space', 'profile_id', 'p jane', 'invalid', /invalid/],
    ['a profile id longer than any', 'profile_id', 'p'.repeat(65), 'too_long', /too long/],
  ])('refuses %s (400) with the reason', async (_what, type, value, reason, message) => {
    const store = janeGraph();
    const error = await rejection(queryOver(store).lookup(type, value));
    expect(error).toBeInstanceOf(InvalidIdentifierError);
    expect(error).toMatchObject({ statusCode: 400, code: 'invalid_identifier', reason });
    expect(error.message).toMatch(message);
    expect(store.calls.getOwners + store.calls.getProfiles).toBe(0);
  });

  it('refuses values on a configured blocklist', async () => {
    const config = parseIdentityConfig({ blocked: { values: ['test@test.com'] } });
    const error = await rejection(queryOver(janeGraph(), config).lookup('email', 'TEST@test.com'));
    expect(error).toMatchObject({ code: 'invalid_identifier', reason: 'blocked' });
  });

  it('lets a store failure through untouched (the edge answers 500; nothing is invented)', async () => {
    const store = janeGraph();
    store.failure = new Error('connection reset');
    expect((await rejection(queryOver(store).lookup('email', 'jane@example.com'))).message).toBe(
      'connection reset',
    );
  });
});

describe('ProfileQuery.lookup remembers the live profile an identifier led to', () => {
  const x = { type: 'email', value: 'x@example.com' } as const;
  const y = { type: 'user_id', value: 'u-y' } as const;
  const z = { type: 'user_id', value: 'u-z' } as const;
  const live = (id: string, identities: readonly { type: string; value: string }[]) =>
    buildProfile(id, identities, [], { createdAt: at(0) });

  it('reads only the profile when an identifier is looked up again, in any spelling', async () => {
    const store = janeGraph();
    const query = queryOver(store);
    expect((await query.lookup('email', 'jane@example.com')).profileId).toBe(JANE_ID);
    expect(store.calls).toMatchObject({ getOwners: 1, getProfiles: 1 });
    expect((await query.lookup('email', ' Jane@Example.COM')).profileId).toBe(JANE_ID);
    expect(store.calls).toMatchObject({ getOwners: 1, getProfiles: 2 });
    // Another identifier of the same person has an entry of its own.
    expect((await query.lookup('user_id', 'u-jane')).profileId).toBe(JANE_ID);
    expect(store.calls).toMatchObject({ getOwners: 2, getProfiles: 3 });
  });

  it('follows a remembered profile merged away since to the survivor, and remembers the survivor', async () => {
    const store = new MemoryProfileReader().putLive(live('p_a', [x]));
    const query = queryOver(store);
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_a');
    // p_a merged into p_b (which lists x, as merge step 2 leaves it); x re-pointed or not.
    store.putLive(live('p_b', [x, y])).putRetired('p_a', 'p_b');
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_b');
    expect(store.calls).toMatchObject({ getOwners: 1, getProfiles: 3 });
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_b');
    expect(store.calls).toMatchObject({ getOwners: 1, getProfiles: 4 });
  });

  it('does not trust a remembered profile that no longer lists the identifier: it starts again from the identifier', async () => {
    const store = new MemoryProfileReader().putLive(live('p_a', [x, y]));
    const query = queryOver(store);
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_a');
    store.putLive(live('p_a', [y])).putLive(live('p_c', [x]));
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_c');
    expect(store.calls).toMatchObject({ getOwners: 2, getProfiles: 3 });
    // p_c is remembered now.
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_c');
    expect(store.calls).toMatchObject({ getOwners: 2, getProfiles: 4 });
  });

  it('starts again from the identifier when the remembered profile leads nowhere, and answers 404 if that does too', async () => {
    const store = new MemoryProfileReader().putLive(live('p_a', [x, y]));
    const query = queryOver(store);
    await query.lookup(x.type, x.value);
    await query.lookup(y.type, y.value);
    store.putRetired('p_a', 'p_gone').putLive(live('p_c', [x]));
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_c');
    // y's owner is still p_a, whose redirect leads nowhere.
    expect(await rejection(query.lookup(y.type, y.value))).toBeInstanceOf(ProfileNotFoundError);
    expect(store.calls.getOwners).toBe(4);
  });

  it('does not remember a profile that does not list the identifier yet (a link in progress)', async () => {
    const store = new MemoryProfileReader().putLive(live('p_a', [y])).own(x, 'p_a');
    const query = queryOver(store);
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_a');
    expect((await query.lookup(x.type, x.value)).profileId).toBe('p_a');
    expect(store.calls).toMatchObject({ getOwners: 2, getProfiles: 2 });
  });

  it('remembers at most lookupCacheEntries identifiers, the most recently asked for', async () => {
    const store = new MemoryProfileReader().putLive(live('p_a', [x, y, z]));
    const query = createProfileQuery({ store, identity: DEFAULT_IDENTITY_CONFIG, lookupCacheEntries: 2 });
    for (const id of [x, y, x, z]) await query.lookup(id.type, id.value);
    expect(store.calls.getOwners).toBe(3);
    await query.lookup(x.type, x.value); // kept: asked for after y
    expect(store.calls.getOwners).toBe(3);
    await query.lookup(y.type, y.value); // forgotten for z
    expect(store.calls.getOwners).toBe(4);
  });

  it('remembers nothing with lookupCacheEntries 0, and refuses a size that is not a whole number', async () => {
    const store = janeGraph();
    const query = createProfileQuery({ store, identity: DEFAULT_IDENTITY_CONFIG, lookupCacheEntries: 0 });
    for (let i = 0; i < 3; i++) await query.lookup('email', 'jane@example.com');
    expect(store.calls).toMatchObject({ getOwners: 3, getProfiles: 3 });
    for (const size of [-1, 1.5, Number.NaN]) {
      expect(() =>
        createProfileQuery({ store, identity: DEFAULT_IDENTITY_CONFIG, lookupCacheEntries: size }),
      ).toThrow(/lookupCacheEntries/);
    }
  });

  it('lets a store failure through on a remembered lookup as well', async () => {
    const store = janeGraph();
    const query = queryOver(store);
    await query.lookup('email', 'jane@example.com');
    store.failure = new Error('connection reset');
    expect((await rejection(query.lookup('email', 'jane@example.com'))).message).toBe('connection reset');
  });
});

describe('profile view', () => {
  it('shows identities, plain trait values, computed counters, consent and activity', async () => {
    const view = await queryOver(janeGraph()).profile('email', 'jane@example.com');
    expect(view).toEqual({
      profileId: JANE_ID,
      identities: [
        { type: 'anonymous_id', value: 'a/b%41' },
        { type: 'device_id', value: 'ios:4F2A:9' },
        { type: 'email', value: 'jane@example.com' },
        { type: 'phone', value: '+14155552671' },
        { type: 'user_id', value: 'u-jane' },
      ],
      traits: { address: { city: 'Lisbon' }, email: 'jane@example.com', name: 'Jane', plan: 'pro' },
      computed: {
        eventCount: 26,
        typeCounts: { group: 2, identify: 1, page: 1, track: 22 },
        eventCounts: { 'Product Viewed': 22 },
        otherEventCount: 0,
        firstSeen: at(1),
        lastSeen: at(31),
        groups: [
          { groupId: 'globex', lastSeen: at(7) },
          { groupId: 'acme', lastSeen: at(2) },
        ],
      },
      segments: [],
      consent: { Advertising: false, Analytics: true },
      firstSeen: at(1),
      lastSeen: at(31),
      createdAt: at(-60),
      mergedFrom: [ANON_ID, OLD_ID],
    });
  });

  it('shows a profile without events with null times and empty consent', () => {
    const view = profileView(createProfile('p_new', at(0)));
    expect(view).toMatchObject({ firstSeen: null, lastSeen: null, consent: {}, traits: {}, segments: [] });
    expect(view.computed).toMatchObject({ eventCount: 0, firstSeen: null, lastSeen: null, groups: [] });
  });

  it('keeps a trait named like an Object.prototype member as data', () => {
    const profile = buildProfile(
      'p_odd',
      [],
      [streamRecord({ type: 'identify', id: 'm-1', minute: 0, userId: 'u', traits: { constructor: 'x' } })],
    );
    const traits = profileView(profile).traits;
    expect(Object.hasOwn(traits, 'constructor')).toBe(true);
    expect(JSON.parse(JSON.stringify(traits))).toEqual({ constructor: 'x' });
  });
});

describe('events view', () => {
  const query = queryOver(janeGraph());

  it('lists the last 20 events by default, newest first, without internal keys', async () => {
    const { profileId, events } = await query.events('user_id', 'u-jane');
    expect(profileId).toBe(JANE_ID);
    expect(events).toHaveLength(20);
    expect(events[0]).toEqual({
      messageId: 'm-view-21',
      source: 'web',
      type: 'track',
      event: 'Product Viewed',
      timestamp: at(31),
    });
    const times = events.map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('honours a limit, and lists every kept event up to 50', async () => {
    expect((await query.events('user_id', 'u-jane', 1)).events.map((e) => e.messageId)).toEqual([
      'm-view-21',
    ]);
    const all = (await query.events('user_id', 'u-jane', 50)).events;
    expect(all).toHaveLength(26);
    expect(all.at(-1)).toEqual({
      messageId: 'm-identify',
      source: 'web',
      type: 'identify',
      timestamp: at(1),
    });
    expect(all.find((e) => e.type === 'page')).toMatchObject({ event: 'Pricing' });
  });

  it.each([0, 51, 1.5, -1, Number.NaN])('refuses limit %s (400) before reading the store', async (limit) => {
    const store = janeGraph();
    const error = await rejection(queryOver(store).events('user_id', 'u-jane', limit));
    expect(error).toBeInstanceOf(InvalidLimitError);
    expect(error).toMatchObject({ statusCode: 400, code: 'invalid_limit' });
    expect(store.calls.getOwners).toBe(0);
  });

  it('maps a profile without events to an empty list', () => {
    expect(eventsView(createProfile('p_new', at(0)), 20)).toEqual({ profileId: 'p_new', events: [] });
  });
});

describe('merges view', () => {
  it('lists the ledger entries of the profile and of every profile merged into it, oldest first', async () => {
    const store = janeGraph();
    const { profileId, merges } = await queryOver(store).merges('email', 'jane@example.com');
    expect(profileId).toBe(JANE_ID);
    expect(merges.map((entry) => entry.id)).toEqual(['l-1', 'l-2', 'l-3', 'l-4', 'l-5']);
    expect(merges[3]).toEqual(JANE_LEDGER[0]);
    expect(store.calls.listLedger).toBe(1);
  });

  it('reads the same ledger whichever merged profile the lookup starts from', async () => {
    const fromOld = await queryOver(janeGraph()).merges('profile_id', OLD_ID);
    expect(fromOld.merges.map((entry) => entry.id)).toEqual(['l-1', 'l-2', 'l-3', 'l-4', 'l-5']);
  });

  it('orders entries by time then id and lists each once, whatever the store returned', () => {
    const [late, early, ...rest] = JANE_LEDGER;
    const view = mergesView(
      janeProfile(),
      [late, early, late, ...rest].filter((e) => e !== undefined),
    );
    expect(view.merges.map((entry) => entry.id)).toEqual(['l-1', 'l-2', 'l-3', 'l-4', 'l-5']);
  });
});
