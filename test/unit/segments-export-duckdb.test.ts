import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindParams, compileSegment, type ExportPlanRequest, planExport } from '../../src/core/segments';
import { type LakeEvent, type LakeLink, type TestLake, writeTestLake } from '../support/segments-lake';

/**
 * An export's members query run for real on DuckDB over a tiny lake: the identifier and trait columns
 * beside each member, read by hand from the events and links below.
 */
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const at = (day: number, time = '10:00:00.000') => `2026-11-${String(day).padStart(2, '0')}T${time}Z`;

const link = (id_type: string, id_value: string, profile_id: string, linked_at: string): LakeLink => ({
  id_type,
  id_value,
  profile_id,
  linked_at,
});

/**
 * - p-a: two emails, the later one linked second; an anonymous id; traits from identifies (the latest
 *   wins), `context.traits` of a track call, and `traits` of a track call (ignored: not an identify).
 * - p-b: an email later linked to p-b, then re-pointed to p-c (not p-b's any more); a phone re-pointed
 *   to p-d; `plan` written null last; an identify with both `traits` and `context.traits` (traits wins);
 *   a late event with an older timestamp (does not win).
 * - p-c: no traits at all; the re-pointed email.
 * - p-d: two emails linked in the same millisecond (the greater id wins); an empty object and array.
 * - p-e: not a member (banned).
 * Links are listed out of profile order, so the output's order is the query's.
 */
const LINKS: readonly LakeLink[] = [
  link('user_id', 'u-e', 'p-e', at(1)),
  link('user_id', 'u-c', 'p-c', at(1)),
  link('user_id', 'u-a', 'p-a', at(1)),
  link('user_id', 'u-d', 'p-d', at(1)),
  link('user_id', 'u-b', 'p-b', at(1)),
  link('anonymous_id', 'a-a', 'p-a', at(1)),
  link('email', 'zz-old@a.example', 'p-a', at(1, '11:00:00.000')),
  link('email', 'aa-new@a.example', 'p-a', at(2)),
  link('email', 'b@b.example', 'p-b', at(1)),
  link('email', 'shared@x.example', 'p-b', at(3)),
  link('email', 'shared@x.example', 'p-c', at(4)),
  link('phone', '+1 555 0100', 'p-b', at(1)),
  link('phone', '+1 555 0100', 'p-d', at(2)),
  link('phone', '+33 1 00', 'p-c', at(2)),
  link('email', 'd1@x.example', 'p-d', at(5, '00:00:00.000')),
  link('email', 'd2@x.example', 'p-d', at(5, '00:00:00.000')),
];

let sequence = 0;
const event = (
  type: LakeEvent['type'],
  who: { userId?: string; anonymousId?: string },
  timestamp: string,
  fields: Partial<LakeEvent> = {},
): LakeEvent => ({ messageId: `m-${++sequence}`, type, ...who, timestamp, ...fields });

const QUOTED = 'O\'Brien "Bob" \\ é, ok';

const EVENTS: readonly LakeEvent[] = [
  event('identify', { userId: 'u-a' }, at(1), {
    traits: {
      plan: 'free',
      age: 34,
      vip: true,
      address: { city: 'Paris', zip: '75001' },
      tags: ['a', 'b'],
      nothing: null,
      quote: QUOTED,
    },
  }),
  event('identify', { userId: 'u-a' }, at(10), { traits: { plan: 'pro' } }),
  event('track', { userId: 'u-a' }, at(12), {
    event: 'Page Viewed',
    traits: { plan: 'hacked' },
    context: { traits: { age: 35.5 } },
  }),
  event('track', { anonymousId: 'a-a' }, at(11), {
    event: 'Page Viewed',
    context: { traits: { company: 'Acme' } },
  }),

  event('identify', { userId: 'u-b' }, at(1), { traits: { plan: 'pro', vip: false, age: 0 } }),
  event('identify', { userId: 'u-b' }, at(5), { traits: { plan: null } }),
  event('identify', { userId: 'u-b' }, at(6), {
    traits: { company: 'Traits Co' },
    context: { traits: { company: 'Context Co' } },
  }),
  event('identify', { userId: 'u-b' }, '2026-10-01T10:00:00.000Z', {
    receivedAt: at(20),
    traits: { vip: true, plan: 'late' },
  }),

  event('track', { userId: 'u-c' }, at(3), { event: 'Page Viewed' }),

  event('identify', { userId: 'u-d' }, at(3), { traits: { address: {}, tags: [] } }),

  event('identify', { userId: 'u-e' }, at(3), { traits: { banned: true, plan: 'pro' } }),
];

const REQUEST: ExportPlanRequest = {
  segmentId: 'everyone',
  exportId: 'x00000001',
  identifiers: ['email', 'user_id', 'phone'],
  traits: ['plan', 'age', 'vip', 'address', 'tags', 'nothing', 'quote', 'company'],
};

let lake: TestLake;
beforeAll(async () => {
  lake = await writeTestLake(EVENTS, LINKS);
});
afterAll(async () => {
  await lake?.close();
});

/** The members query's rows with the columns under their names. */
async function audience(
  definition: unknown,
  request: ExportPlanRequest = REQUEST,
): Promise<Record<string, string | null>[]> {
  const plan = planExport(await compileSegment(definition), 'duckdb', request);
  const rows = await lake.rows(plan.members.sql, bindParams(plan.members.params, { now: NOW }));
  return rows.map((row) => {
    const named: Record<string, string | null> = { profile_id: row.profile_id as string };
    plan.columns.forEach((column, i) => {
      const value = row[`c${i}`];
      if (value !== null && typeof value !== 'string') throw new Error(`c${i} is not text: ${String(value)}`);
      named[column.name] = value ?? null;
    });
    return named;
  });
}

const NOT_BANNED = { not: { trait: { name: 'banned', op: 'eq', value: true } } };

describe('export members on DuckDB', () => {
  it('one row per member, ordered by profile id, with profile_id then c0.. in column order', async () => {
    const plan = planExport(await compileSegment(NOT_BANNED), 'duckdb', REQUEST);
    const reader = await lake.connection.runAndReadAll(
      plan.members.sql,
      bindParams(plan.members.params, { now: NOW }),
    );
    expect(reader.columnNames()).toEqual([
      'profile_id',
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
      'c6',
      'c7',
      'c8',
      'c9',
      'c10',
    ]);
    const rows = await audience(NOT_BANNED);
    expect(rows.map((row) => row.profile_id)).toEqual(['p-a', 'p-b', 'p-c', 'p-d']);
    expect(
      (await audience({ trait: { name: 'banned', op: 'exists' } })).map((row) => row.profile_id),
    ).toEqual(['p-e']);
  });

  it('an identifier column holds the identifier of that type most recently linked to the profile', async () => {
    const rows = await audience(NOT_BANNED);
    const column = (name: string) => Object.fromEntries(rows.map((row) => [row.profile_id, row[name]]));
    expect(column('email')).toEqual({
      // the later of two (not the greater: zz-old sorts after aa-new)
      'p-a': 'aa-new@a.example',
      // shared@x was linked to p-b after b@b, then re-pointed to p-c: it is p-c's, and p-b keeps b@b
      'p-b': 'b@b.example',
      'p-c': 'shared@x.example',
      // two in the same millisecond: the greater id, so every run and engine picks the same
      'p-d': 'd2@x.example',
    });
    // re-pointed away and no other phone: none
    expect(column('phone')).toEqual({ 'p-a': null, 'p-b': null, 'p-c': '+33 1 00', 'p-d': '+1 555 0100' });
    expect(column('user_id')).toEqual({ 'p-a': 'u-a', 'p-b': 'u-b', 'p-c': 'u-c', 'p-d': 'u-d' });
  });

  it('a trait column holds the latest value as text: strings unquoted, numbers and booleans as JSON, objects and arrays as JSON text', async () => {
    const [a, b, c, d] = await audience(NOT_BANNED);
    expect(a).toEqual({
      profile_id: 'p-a',
      email: 'aa-new@a.example',
      user_id: 'u-a',
      phone: null,
      // the latest identify; a track call's `traits` is not a write
      plan: 'pro',
      // context.traits of a later track call
      age: '35.5',
      vip: 'true',
      address: '{"city":"Paris","zip":"75001"}',
      tags: '["a","b"]',
      // JSON null: no value
      nothing: null,
      // a string's own text: no quotes added, no escapes left
      quote: QUOTED,
      // context.traits of an event of the profile's anonymous id
      company: 'Acme',
    });
    expect(b).toMatchObject({
      profile_id: 'p-b',
      // a null written last wins over 'pro', and a late event with an older timestamp does not win
      plan: null,
      age: '0',
      vip: 'false',
      // `traits` beats `context.traits` of the same identify
      company: 'Traits Co',
      address: null,
      tags: null,
    });
    // no traits at all: every trait column NULL
    expect(c).toMatchObject({
      profile_id: 'p-c',
      plan: null,
      age: null,
      vip: null,
      address: null,
      tags: null,
      nothing: null,
      quote: null,
      company: null,
    });
    expect(d).toMatchObject({ profile_id: 'p-d', address: '{}', tags: '[]', plan: null });
  });

  it('columns are independent of the segment: a member has the same values whatever selected it', async () => {
    const everyone = await audience(NOT_BANNED);
    const pro = await audience({ trait: { name: 'plan', op: 'eq', value: 'pro' } });
    expect(pro.map((row) => row.profile_id)).toEqual(['p-a', 'p-e']);
    expect(pro[0]).toEqual(everyone[0]);
  });

  it('no columns: just the members', async () => {
    expect(await audience(NOT_BANNED, { ...REQUEST, identifiers: [], traits: [] })).toEqual([
      { profile_id: 'p-a' },
      { profile_id: 'p-b' },
      { profile_id: 'p-c' },
      { profile_id: 'p-d' },
    ]);
  });

  it('the same trait read by the segment and a column, and an identifier type nobody has', async () => {
    const rows = await audience(
      { trait: { name: 'plan', op: 'exists' } },
      { ...REQUEST, identifiers: ['device_id'], traits: ['plan'] },
    );
    expect(rows).toEqual([
      { profile_id: 'p-a', device_id: null, plan: 'pro' },
      { profile_id: 'p-e', device_id: null, plan: 'pro' },
    ]);
  });
});
