import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bindParams,
  compileSegment,
  printMembersQuery,
  printPreviewQuery,
  type SegmentLookup,
} from '../../src/core/segments';
import { type TestLake, writeTestLake } from '../support/segments-lake';
import { EVENTS, LINKS, NOW } from '../support/segments-people';

/**
 * The DuckDB printer's SQL run for real over a tiny lake (Parquet in the local lake's layout): each
 * definition's members, checked by hand against the people in `segments-people.ts`.
 */
let lake: TestLake;
beforeAll(async () => {
  lake = await writeTestLake(EVENTS, LINKS);
});
afterAll(async () => {
  await lake?.close();
});

async function members(definition: unknown, lookup?: SegmentLookup): Promise<string[]> {
  const ast = await compileSegment(definition, lookup === undefined ? {} : { lookup });
  const query = printMembersQuery(ast, 'duckdb');
  const rows = await lake.rows(query.sql, bindParams(query.params, { now: NOW }));
  return rows.map((row) => String(row.profile_id));
}

const trait = (name: string, op: string, value?: unknown) => ({
  trait: value === undefined ? { name, op } : { name, op, value },
});
const last = (days: number) => ({ last: { days } });

describe('segments on DuckDB', () => {
  it('the issue example: pro plan, bought twice in the last 30 days, no support ticket this week', async () => {
    expect(
      await members({
        all: [
          trait('plan', 'eq', 'pro'),
          { event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, within: last(30) } },
          { not: { event: { name: 'Ticket Opened', within: last(7) } } },
        ],
      }),
    ).toEqual(['p-alice', 'p-dan']);
  });

  it('profiles are the current ones: a merged-away profile is no member of anything', async () => {
    expect(await members({ not: trait('plan', 'eq', 'nobody') })).toEqual([
      'p-alice',
      'p-bob',
      'p-carol',
      'p-dan',
      'p-erin',
    ]);
  });

  it('traits: the latest write wins per trait, a late event does not, identify traits beat context.traits', async () => {
    expect(await members(trait('plan', 'eq', 'free'))).toEqual(['p-bob']);
    expect(await members(trait('plan', 'in', ['enterprise', 'basic']))).toEqual([]);
    expect(await members(trait('plan', 'eq', 'pro'))).toEqual(['p-alice', 'p-dan']);
    expect(await members(trait('company', 'eq', 'Acme'))).toEqual(['p-dan']);
  });

  it('traits: a null write wins and means no value; ties in time go to the greater message key, as in the resolver', async () => {
    expect(await members(trait('plan', 'not_exists'))).toEqual(['p-carol']);
    expect(await members(trait('plan', 'eq', 'b'))).toEqual(['p-erin']);
    expect(await members(trait('plan', 'neq', 'pro'))).toEqual(['p-bob', 'p-erin']);
    expect(await members(trait('plan', 'not_in', ['pro', 'free']))).toEqual(['p-erin']);
  });

  it('trait operators are type-strict and read nested paths', async () => {
    expect(await members(trait('age', 'gt', 30))).toEqual(['p-alice', 'p-bob']);
    expect(await members(trait('age', 'eq', '34'))).toEqual(['p-erin']);
    expect(await members(trait('age', 'between', [29, 34]))).toEqual(['p-alice', 'p-carol']);
    expect(await members(trait('age', 'in', [29, 51]))).toEqual(['p-bob', 'p-carol']);
    expect(await members(trait('vip', 'eq', true))).toEqual(['p-alice']);
    expect(await members(trait('address.city', 'eq', 'Paris'))).toEqual(['p-alice']);
    expect(await members(trait('address.zip', 'starts_with', '750'))).toEqual(['p-alice']);
    expect(await members(trait('email', 'contains', '@example.'))).toEqual(['p-alice']);
    expect(await members(trait('address', 'exists'))).toEqual(['p-alice']);
  });

  it('trait dates: before / after an absolute date or a time relative to now', async () => {
    expect(await members(trait('signup', 'before', '2026-02-01'))).toEqual(['p-alice']);
    expect(await members(trait('signup', 'after', '2026-02-01T00:00:00+01:00'))).toEqual([]);
    expect(await members(trait('signup', 'after', { ago: { days: 365 } }))).toEqual(['p-alice']);
  });

  it('events: counts, windows, not performed, property filters; a message landed twice counts once', async () => {
    const orders = (extra: object) => ({ event: { name: 'Order Completed', ...extra } });
    expect(await members(orders({ count: { op: 'eq', value: 3 } }))).toEqual(['p-carol']);
    expect(await members(orders({ within: last(3) }))).toEqual(['p-alice', 'p-dan']);
    expect(await members(orders({ performed: false }))).toEqual(['p-erin']);
    expect(await members(orders({ within: { last: { hours: 36 } } }))).toEqual(['p-dan']);
    expect(
      await members(
        orders({ where: [{ property: 'currency', op: 'eq', value: 'USD' }], count: { op: 'gte', value: 2 } }),
      ),
    ).toEqual(['p-bob']);
    expect(await members(orders({ where: [{ property: 'total', op: 'gt', value: 50 }] }))).toEqual([
      'p-alice',
      'p-carol',
    ]);
    expect(
      await members(
        orders({
          within: { from: '2026-10-01', to: '2026-10-15T00:00:00Z' },
          count: { op: 'between', value: [1, 5] },
        }),
      ),
    ).toEqual(['p-carol']);
  });

  it("a messageId reused by another person's message counts for each of them, as on their profiles", async () => {
    // Dan's ticket reuses the messageId of alice's, which the lake holds twice (a redelivery).
    const tickets = (count: number) => ({
      event: { name: 'Ticket Opened', count: { op: 'eq', value: count } },
    });
    expect(await members(tickets(1))).toEqual(['p-alice', 'p-bob', 'p-dan']);
    expect(await members(tickets(2))).toEqual([]);
    expect(
      await members({
        aggregate: { fn: 'count_distinct', event: 'Ticket Opened', property: 'priority', op: 'eq', value: 1 },
      }),
    ).toEqual(['p-alice', 'p-bob', 'p-dan']);
  });

  it('aggregates of a property in a window', async () => {
    const aggregate = (fn: string, op: string, value: unknown, extra: object = {}) => ({
      aggregate: { fn, event: 'Order Completed', property: 'total', op, value, ...extra },
    });
    expect(await members(aggregate('sum', 'gte', 100))).toEqual(['p-alice', 'p-carol']);
    expect(await members(aggregate('sum', 'eq', 0))).toEqual(['p-erin']);
    expect(await members(aggregate('avg', 'eq', 12.75))).toEqual(['p-bob']);
    expect(await members(aggregate('max', 'lt', 10))).toEqual(['p-dan']);
    expect(await members(aggregate('min', 'gte', 40, { within: last(30) }))).toEqual(['p-alice']);
    expect(
      await members({
        aggregate: { fn: 'count_distinct', event: 'Order Completed', property: 'sku', op: 'gte', value: 2 },
      }),
    ).toEqual(['p-alice', 'p-carol']);
  });

  it('first seen, last seen, consent', async () => {
    expect(await members({ first_seen: { op: 'after', value: { ago: { days: 16 } } } })).toEqual([
      'p-dan',
      'p-erin',
    ]);
    expect(await members({ last_seen: { op: 'before', value: { ago: { days: 30 } } } })).toEqual(['p-carol']);
    expect(await members({ consent: { category: 'Advertising' } })).toEqual(['p-alice']);
    expect(await members({ consent: { category: 'Analytics' } })).toEqual(['p-bob']);
  });

  it('any / not and segment references', async () => {
    const definitions: Record<string, unknown> = {
      buyers: { event: { name: 'Order Completed', within: last(30) } },
      'pro-buyers': { all: [trait('plan', 'eq', 'pro'), { segment: { id: 'buyers' } }] },
    };
    const lookup: SegmentLookup = (id) => definitions[id];
    expect(await members({ segment: { id: 'pro-buyers' } }, lookup)).toEqual(['p-alice', 'p-dan']);
    expect(
      await members({ any: [{ segment: { id: 'pro-buyers' } }, trait('plan', 'eq', 'free')] }, lookup),
    ).toEqual(['p-alice', 'p-bob', 'p-dan']);
    expect(await members({ not: { segment: { id: 'buyers' } } }, lookup)).toEqual(['p-carol', 'p-erin']);
  });

  it('preview: the count and the first ten ids in order; one row with no id when nobody matches', async () => {
    const preview = async (definition: unknown) => {
      const query = printPreviewQuery(await compileSegment(definition), 'duckdb');
      const rows = await lake.rows(query.sql, bindParams(query.params, { now: NOW }));
      return rows.map((row) => [Number(row.member_count), row.profile_id]);
    };
    expect(await preview(trait('plan', 'exists'))).toEqual([
      [4, 'p-alice'],
      [4, 'p-bob'],
      [4, 'p-dan'],
      [4, 'p-erin'],
    ]);
    expect(await preview(trait('plan', 'eq', 'none'))).toEqual([[0, null]]);
  });

  it('relative windows are evaluated at the now given when the query runs, not when it is compiled', async () => {
    const query = printMembersQuery(
      await compileSegment({ event: { name: 'Ticket Opened', within: last(7) } }),
      'duckdb',
    );
    const at = async (now: number) =>
      (await lake.rows(query.sql, bindParams(query.params, { now }))).map((row) => row.profile_id);
    expect(await at(NOW)).toEqual(['p-bob']);
    expect(await at(NOW - 5 * 86_400_000)).toEqual(['p-dan']);
  });
});
