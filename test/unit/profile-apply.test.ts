import { describe, expect, it } from 'vitest';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { messageKey } from '../../src/core/identity/message-key';
import { applyEvent, hasApplied } from '../../src/core/profile/apply-event';
import { PROFILE_BOUNDS, type ProfileBounds } from '../../src/core/profile/bounds';
import { createProfile, type Profile } from '../../src/core/profile/profile';

const T0 = Date.parse('2026-05-01T10:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

interface EventFields extends Record<string, unknown> {
  type?: CallType;
  id?: string;
  /** Event time, minutes after T0. */
  at?: number;
  /** Arrival, minutes after T0 (defaults to the event time). */
  received?: number;
  context?: JsonObject;
}

function event(fields: EventFields = {}): StreamRecord {
  const { type = 'track', id = 'm-1', at = 0, received, context = {}, ...rest } = fields;
  return {
    messageId: id,
    source: 'web',
    type,
    timestamp: iso(at),
    receivedAt: iso(received ?? at),
    context,
    ...(type === 'track' && rest.event === undefined ? { event: 'Viewed' } : {}),
    ...rest,
  } as StreamRecord;
}

const fresh = () => createProfile('p_1', iso(-60));

/** Applies events in order, failing on any unexpected skip. */
function applyAll(
  records: StreamRecord[],
  bounds: ProfileBounds = PROFILE_BOUNDS,
  start: Profile = fresh(),
): Profile {
  return records.reduce((profile, record) => applyEvent(profile, record, bounds).profile, start);
}

const traitValues = (profile: Profile) =>
  Object.fromEntries(Object.entries(profile.traits).map(([k, e]) => [k, e.v]));

describe('applyEvent: counters and activity', () => {
  it('counts events in total, per call type and per track event name, and widens firstSeen/lastSeen', () => {
    const profile = applyAll([
      event({ id: 'a', at: 5, event: 'Order Completed' }),
      event({ id: 'b', at: 1, event: 'Order Completed' }),
      event({ id: 'c', at: 9, type: 'page', name: 'Home' }),
      event({ id: 'd', at: 3, type: 'identify' }),
    ]);
    expect(profile.eventCount).toBe(4);
    expect(profile.typeCounts).toEqual({ identify: 1, page: 1, track: 2 });
    expect(profile.eventCounts).toEqual({ 'Order Completed': 2 });
    expect(profile.firstSeen).toBe(iso(1));
    expect(profile.lastSeen).toBe(iso(9));
  });

  it('keeps the last events by timestamp, newest first, whatever order they arrive in', () => {
    const bounds = { ...PROFILE_BOUNDS, maxRecentEvents: 3 };
    const profile = applyAll(
      [4, 1, 5, 2, 3].map((at) => event({ id: `e${at}`, at, event: `E${at}` })),
      bounds,
    );
    expect(profile.recentEvents.map((e) => [e.messageId, e.event, e.timestamp])).toEqual([
      ['e5', 'E5', iso(5)],
      ['e4', 'E4', iso(4)],
      ['e3', 'E3', iso(3)],
    ]);
    expect(profile.recentEvents[0]).toEqual({
      key: messageKey({ source: 'web', messageId: 'e5' }),
      messageId: 'e5',
      source: 'web',
      type: 'track',
      event: 'E5',
      timestamp: iso(5),
    });
  });

  it('records the groups a person is put in by group calls', () => {
    const profile = applyAll([
      event({ id: 'g1', type: 'group', groupId: 'acme', at: 1 }),
      event({ id: 'g2', type: 'group', groupId: 'acme', at: 7 }),
      event({ id: 'g3', type: 'group', groupId: 'globex', at: 3 }),
    ]);
    expect(profile.groups).toEqual({ acme: T0 + 7 * 60_000, globex: T0 + 3 * 60_000 });
  });

  it('folds track names beyond the kept ones into otherEventCount, keeping the first names in code-unit order', () => {
    const bounds = { ...PROFILE_BOUNDS, maxEventNames: 2 };
    const result = ['C', 'A', 'D', 'B', 'A'].reduce(
      (acc, name, i) => {
        const applied = applyEvent(acc.profile, event({ id: `n${i}`, at: i, event: name }), bounds);
        return { profile: applied.profile, warnings: [...acc.warnings, ...applied.warnings] };
      },
      { profile: fresh(), warnings: [] as { code: string }[] },
    );
    expect(result.profile.eventCounts).toEqual({ A: 2, B: 1 });
    expect(result.profile.otherEventCount).toBe(2);
    expect(result.warnings.map((w) => w.code)).toContain('event_names_folded');
  });
});

describe('applyEvent: traits, last write wins per trait by event timestamp', () => {
  it('takes identify traits and context.traits of any call, but not the traits of a group call', () => {
    const profile = applyAll([
      event({ id: 'i', type: 'identify', at: 1, traits: { plan: 'pro', name: 'Jane' } }),
      event({ id: 't', type: 'track', at: 2, context: { traits: { country: 'NL' } } }),
      event({
        id: 'g',
        type: 'group',
        groupId: 'acme',
        at: 3,
        traits: { plan: 'enterprise', employees: 50 },
      }),
    ]);
    expect(traitValues(profile)).toEqual({ plan: 'pro', name: 'Jane', country: 'NL' });
  });

  it('lets traits win over context.traits within one identify', () => {
    const profile = applyAll([
      event({
        id: 'i',
        type: 'identify',
        traits: { plan: 'pro' },
        context: { traits: { plan: 'free', age: 30 } },
      }),
    ]);
    expect(traitValues(profile)).toEqual({ plan: 'pro', age: 30 });
  });

  it('late identify does not overwrite: an older event arriving later leaves the newer value', () => {
    const newer = event({ id: 'new', type: 'identify', at: 10, received: 10, traits: { plan: 'pro' } });
    const late = event({
      id: 'old',
      type: 'identify',
      at: 2,
      received: 30,
      traits: { plan: 'free', seats: 3 },
    });
    const profile = applyAll([newer, late]);
    expect(traitValues(profile)).toEqual({ plan: 'pro', seats: 3 });
    expect(profile.traits.plan).toMatchObject({ t: T0 + 10 * 60_000, h: messageKey(newer) });
    expect(applyAll([late, newer])).toEqual(profile);
  });

  it('a newer event overwrites, and setting null is a write like any other', () => {
    const profile = applyAll([
      event({ id: 'a', type: 'identify', at: 1, traits: { plan: 'pro', nickname: 'J' } }),
      event({ id: 'b', type: 'identify', at: 2, traits: { plan: 'team', nickname: null } }),
    ]);
    expect(traitValues(profile)).toEqual({ plan: 'team', nickname: null });
  });

  it('breaks a tie of equal timestamps by message key, whichever arrives first', () => {
    const a = event({ id: 'tie-a', type: 'identify', at: 5, traits: { plan: 'a' } });
    const b = event({ id: 'tie-b', type: 'identify', at: 5, traits: { plan: 'b' } });
    const winner = messageKey(a) > messageKey(b) ? 'a' : 'b';
    expect(traitValues(applyAll([a, b])).plan).toBe(winner);
    expect(traitValues(applyAll([b, a])).plan).toBe(winner);
  });

  it('keeps objects and arrays as values, replaced whole', () => {
    const profile = applyAll([
      event({
        id: 'a',
        type: 'identify',
        at: 1,
        traits: { address: { city: 'Utrecht', street: 'Oudegracht' } },
      }),
      event({ id: 'b', type: 'identify', at: 2, traits: { address: { city: 'Delft' }, tags: ['x', 'y'] } }),
    ]);
    expect(traitValues(profile)).toEqual({ address: { city: 'Delft' }, tags: ['x', 'y'] });
  });
});

describe('applyEvent: bounds, trimmed with warnings and never an error', () => {
  it('keeps at most 300 traits, the newest, and warns', () => {
    const traits = Object.fromEntries(
      Array.from({ length: 310 }, (_, i) => [`t${String(i).padStart(3, '0')}`, i]),
    );
    const first = applyEvent(fresh(), event({ id: 'many', type: 'identify', at: 1, traits }));
    expect(Object.keys(first.profile.traits)).toHaveLength(300);
    // Traits of one event tie on their version and go by name: t000..t009 are the ones left out.
    expect(Object.keys(first.profile.traits)[0]).toBe('t010');
    expect(first.warnings).toContainEqual({ code: 'traits_trimmed', detail: '10 over 300' });
    // A newer event's traits push out the oldest ones; ties of one event go by name.
    const second = applyEvent(
      first.profile,
      event({ id: 'newer', type: 'identify', at: 2, traits: { zz: 1 } }),
    );
    expect(Object.keys(second.profile.traits)).toHaveLength(300);
    expect(Object.hasOwn(second.profile.traits, 'zz')).toBe(true);
    expect(Object.hasOwn(second.profile.traits, 't010')).toBe(false);
    // An older event's new trait does not get in.
    const third = applyEvent(
      second.profile,
      event({ id: 'older', type: 'identify', at: 0, traits: { aa: 1 } }),
    );
    expect(Object.hasOwn(third.profile.traits, 'aa')).toBe(false);
  });

  it('cuts an oversize string, refuses an oversize object, a long name and __proto__, each with a warning', () => {
    const traits = JSON.parse(
      JSON.stringify({
        bio: 'é'.repeat(1000),
        blob: { data: 'x'.repeat(1000) },
        ['k'.repeat(65)]: 1,
        ok: true,
      }).replace('"ok"', '"__proto__":{"polluted":true},"ok"'),
    ) as JsonObject;
    const { profile, warnings } = applyEvent(fresh(), event({ id: 'big', type: 'identify', traits }));
    expect(Object.keys(profile.traits).sort()).toEqual(['bio', 'ok']);
    const bio = profile.traits.bio?.v as string;
    expect(new TextEncoder().encode(JSON.stringify(bio)).byteLength).toBeLessThanOrEqual(256);
    expect(bio.startsWith('éé')).toBe(true);
    expect(warnings.map((w) => w.code).sort()).toEqual([
      'trait_key_refused',
      'trait_key_too_long',
      'trait_value_cut',
      'trait_value_too_large',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads and writes a trait called constructor as data', () => {
    const profile = applyAll([event({ id: 'c', type: 'identify', traits: { constructor: 'Ferrari' } })]);
    expect(traitValues(profile)).toEqual({ constructor: 'Ferrari' });
    const again = applyAll(
      [event({ id: 'd', type: 'identify', at: 1, traits: { constructor: 'Fiat' } })],
      PROFILE_BOUNDS,
      profile,
    );
    expect(traitValues(again)).toEqual({ constructor: 'Fiat' });
  });

  it('does not fail on an unreadable timestamp: it uses receivedAt and warns', () => {
    const record = { ...event({ id: 'x', received: 3 }), timestamp: 'garbage' } as StreamRecord;
    const { profile, applied, warnings } = applyEvent(fresh(), record);
    expect(applied).toBe(true);
    expect(profile.firstSeen).toBe(iso(3));
    expect(warnings).toContainEqual({ code: 'invalid_timestamp' });
  });
});

describe('applyEvent: consent, the latest event wins whole', () => {
  const consent = (categoryPreferences: JsonObject) => ({ consent: { categoryPreferences } });

  it('keeps the latest categoryPreferences, replacing the earlier ones entirely', () => {
    const profile = applyAll([
      event({ id: 'a', at: 1, context: consent({ Advertising: true, Analytics: true }) }),
      event({ id: 'b', at: 2, context: consent({ Analytics: false }) }),
    ]);
    expect(profile.consent?.categoryPreferences).toEqual({ Analytics: false });
  });

  it('ignores an older consent arriving later, and events without consent', () => {
    const profile = applyAll([
      event({ id: 'b', at: 2, context: consent({ Advertising: false }) }),
      event({ id: 'a', at: 1, received: 9, context: consent({ Advertising: true }) }),
      event({ id: 'c', at: 3 }),
    ]);
    expect(profile.consent?.categoryPreferences).toEqual({ Advertising: false });
  });

  it('keeps only boolean preferences', () => {
    const profile = applyAll([event({ id: 'a', context: consent({ Advertising: 'yes', Analytics: true }) })]);
    expect(profile.consent?.categoryPreferences).toEqual({ Analytics: true });
  });
});

describe('applyEvent: idempotent by (source, messageId)', () => {
  it('a duplicate messageId changes nothing', () => {
    const record = event({ id: 'dup', type: 'identify', at: 1, traits: { plan: 'pro' } });
    const once = applyEvent(fresh(), record);
    const twice = applyEvent(once.profile, record);
    expect(twice).toEqual({ profile: once.profile, applied: false, skipped: 'duplicate', warnings: [] });
    expect(twice.profile).toBe(once.profile);
  });

  it('a redelivery of the same message with a later receivedAt is still a duplicate', () => {
    const record = event({ id: 'dup', at: 1, received: 1 });
    const once = applyEvent(fresh(), record).profile;
    const retried = applyEvent(once, { ...record, receivedAt: iso(20) });
    expect(retried.skipped).toBe('duplicate');
  });

  it('hasApplied tells whether the profile holds a message, by (source, messageId), whenever it was received', () => {
    const record = event({ id: 'held', at: 1, received: 1 });
    const profile = applyEvent(fresh(), record).profile;
    expect(hasApplied(fresh(), record)).toBe(false);
    expect(hasApplied(profile, record)).toBe(true);
    expect(hasApplied(profile, { ...record, receivedAt: iso(30) })).toBe(true);
    expect(hasApplied(profile, { ...record, source: 'ios' })).toBe(false);
    expect(hasApplied(profile, { ...record, messageId: 'other' })).toBe(false);
  });

  it('the same messageId from another source is another message', () => {
    const record = event({ id: 'same', at: 1 });
    const profile = applyAll([record, { ...record, source: 'ios' }]);
    expect(profile.eventCount).toBe(2);
  });

  it('beyond the dedupe window, a message received before every remembered one is skipped, never counted twice', () => {
    const bounds = { ...PROFILE_BOUNDS, dedupeWindow: 3 };
    const records = [1, 2, 3, 4, 5].map((m) => event({ id: `w${m}`, at: m, received: m }));
    const profile = applyAll(records, bounds);
    expect(profile.seen.map(([, key]) => key)).toEqual(
      [4, 3, 2].map((i) => messageKey(records[i] as StreamRecord)),
    );
    expect(profile.seenHorizon).toEqual([T0 + 2 * 60_000, messageKey(records[1] as StreamRecord)]);
    // A redelivered old message: forgotten by key, but received before the horizon.
    expect(applyEvent(profile, records[0] as StreamRecord, bounds)).toMatchObject({
      applied: false,
      skipped: 'beyond_dedupe_horizon',
    });
    // A message that was never applied but received that early is skipped too: the price of a bound.
    const stuck = event({ id: 'stuck', at: 1.5, received: 1.5 });
    expect(applyEvent(profile, stuck, bounds).skipped).toBe('beyond_dedupe_horizon');
    // A message received after the horizon is applied.
    expect(applyEvent(profile, event({ id: 'late-but-ok', at: 0, received: 2.5 }), bounds).applied).toBe(
      true,
    );
  });

  it('recognises the horizon message itself when it is redelivered', () => {
    const bounds = { ...PROFILE_BOUNDS, dedupeWindow: 3 };
    const records = [1, 2, 3, 4, 5].map((m) => event({ id: `w${m}`, at: m, received: m }));
    const profile = applyAll(records, bounds);
    expect(applyEvent(profile, records[1] as StreamRecord, bounds).skipped).toBe('duplicate');
  });

  it('never skips messages received in the same millisecond, however many (one request of one person)', () => {
    const bounds = { ...PROFILE_BOUNDS, dedupeWindow: 3 };
    const batch = Array.from({ length: 20 }, (_, i) => event({ id: `b${i}`, at: i, received: 0 }));
    expect(applyAll(batch, bounds).eventCount).toBe(20);
    expect(applyAll([...batch].reverse(), bounds)).toEqual(applyAll(batch, bounds));
  });

  it('known limit: a forgotten message from the horizon millisecond counts again if redelivered', () => {
    // Only when more than `dedupeWindow` (256) messages of one profile share a millisecond; a store
    // that must rule this out too keeps a dedupe record per message (see dedupe.ts).
    const bounds = { ...PROFILE_BOUNDS, dedupeWindow: 3 };
    const batch = Array.from({ length: 5 }, (_, i) => event({ id: `b${i}`, at: i, received: 0 }));
    const profile = applyAll(batch, bounds);
    const forgotten = batch.filter(
      (r) =>
        !profile.seen.some(([, key]) => key === messageKey(r)) && messageKey(r) !== profile.seenHorizon?.[1],
    );
    expect(forgotten).toHaveLength(1);
    expect(applyEvent(profile, forgotten[0] as StreamRecord, bounds).applied).toBe(true);
  });
});
