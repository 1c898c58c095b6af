import { describe, expect, it } from 'vitest';
import { compileSegment, evaluateMembers, type SegmentLookup } from '../../src/core/segments';
import { EVENTS, LINKS, NOW } from '../support/segments-people';
import { referenceEventRow } from '../support/segments-reference-rows';

/**
 * The reference evaluator on its own, over the hand-checked people of `segments-people.ts`: the same
 * members the DuckDB tests expect (segments-duckdb.test.ts), without a database.
 */
const rows = EVENTS.map(referenceEventRow);

async function members(definition: unknown, options: { lookup?: SegmentLookup; now?: number } = {}) {
  const ast = await compileSegment(
    definition,
    options.lookup === undefined ? {} : { lookup: options.lookup },
  );
  return evaluateMembers({ ast, now: options.now ?? NOW, events: rows, links: LINKS });
}

const trait = (name: string, op: string, value?: unknown) => ({
  trait: value === undefined ? { name, op } : { name, op, value },
});
const last = (days: number) => ({ last: { days } });
const orders = (extra: Record<string, unknown>) => ({ event: { name: 'Order Completed', ...extra } });

describe('reference evaluator', () => {
  it('the issue example, and only current profiles are members', async () => {
    expect(
      await members({
        all: [
          trait('plan', 'eq', 'pro'),
          { event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, within: last(30) } },
          { not: { event: { name: 'Ticket Opened', within: last(7) } } },
        ],
      }),
    ).toEqual(['p-alice', 'p-dan']);
    expect(await members({ not: trait('plan', 'eq', 'nobody') })).toEqual([
      'p-alice',
      'p-bob',
      'p-carol',
      'p-dan',
      'p-erin',
    ]);
  });

  it('traits: latest write wins, null writes count, same-ms ties by message key, type-strict tests', async () => {
    expect(await members(trait('plan', 'eq', 'free'))).toEqual(['p-bob']);
    expect(await members(trait('plan', 'eq', 'pro'))).toEqual(['p-alice', 'p-dan']);
    expect(await members(trait('plan', 'not_exists'))).toEqual(['p-carol']);
    expect(await members(trait('plan', 'eq', 'b'))).toEqual(['p-erin']);
    expect(await members(trait('plan', 'neq', 'pro'))).toEqual(['p-bob', 'p-erin']);
    expect(await members(trait('age', 'gt', 30))).toEqual(['p-alice', 'p-bob']);
    expect(await members(trait('age', 'eq', '34'))).toEqual(['p-erin']);
    expect(await members(trait('address.zip', 'starts_with', '750'))).toEqual(['p-alice']);
    expect(await members(trait('signup', 'before', '2026-02-01'))).toEqual(['p-alice']);
    expect(await members(trait('signup', 'after', '2026-02-01T00:00:00+01:00'))).toEqual([]);
  });

  it('events and aggregates: counts, windows, filters; a message landed twice counts once', async () => {
    expect(await members(orders({ count: { op: 'eq', value: 3 } }))).toEqual(['p-carol']);
    expect(await members(orders({ within: last(3) }))).toEqual(['p-alice', 'p-dan']);
    expect(await members(orders({ performed: false }))).toEqual(['p-erin']);
    const aggregate = (fn: string, op: string, value: number) => ({
      aggregate: { fn, event: 'Order Completed', property: 'total', op, value },
    });
    expect(await members(aggregate('sum', 'gte', 100))).toEqual(['p-alice', 'p-carol']);
    expect(await members(aggregate('sum', 'eq', 0))).toEqual(['p-erin']);
    expect(await members(aggregate('avg', 'eq', 12.75))).toEqual(['p-bob']);
    expect(await members(aggregate('max', 'lt', 10))).toEqual(['p-dan']);
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

  it('first / last seen, consent, references, and relative times at the given now', async () => {
    expect(await members({ last_seen: { op: 'before', value: { ago: { days: 30 } } } })).toEqual(['p-carol']);
    expect(await members({ consent: { category: 'Advertising' } })).toEqual(['p-alice']);
    expect(await members({ consent: { category: 'Analytics' } })).toEqual(['p-bob']);
    const definitions: Record<string, unknown> = {
      buyers: orders({ within: last(30) }),
      'pro-buyers': { all: [trait('plan', 'eq', 'pro'), { segment: { id: 'buyers' } }] },
    };
    const lookup = (id: string) => definitions[id];
    expect(await members({ segment: { id: 'pro-buyers' } }, { lookup })).toEqual(['p-alice', 'p-dan']);
    expect(await members({ not: { segment: { id: 'buyers' } } }, { lookup })).toEqual(['p-carol', 'p-erin']);
    const ticket = { event: { name: 'Ticket Opened', within: last(7) } };
    expect(await members(ticket)).toEqual(['p-bob']);
    expect(await members(ticket, { now: NOW - 5 * 86_400_000 })).toEqual(['p-dan']);
  });
});
