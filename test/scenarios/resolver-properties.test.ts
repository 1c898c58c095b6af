import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { identifierKey } from '../../src/core/identity/identifier';
import type { IdentityLink } from '../../src/core/identity/identity-link';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { profileContent, resolverOn, type TableSnapshot } from '../support/resolver-harness';
import { BLOCKING_CONFIG, T0 } from './fixtures';

/**
 * Order independence of the real resolver on the real store (CONVENTIONS.md: property tests for
 * anything that must not depend on order). Random small event sets over a few people: anonymous
 * ids, user ids, emails in several spellings (case, whitespace) and blocked placeholders
 * (`test@test.com` configured, `null`, `undefined`, `0`), random call types and times.
 *
 * Each person has one user id and one email, so no per-profile limit can bind: merge protection —
 * where order matters by design (see the unit tests' "binding limits" case) — never comes into play,
 * and the identity graph is the connected components of identifiers seen together.
 *
 * What must be equal (decided here):
 * - **Any order, any split into batches, any duplicates**: per live profile, everything the Profile
 *   API shows and everything derived from the set of messages: identities, eventCount, typeCounts,
 *   eventCounts, traits (with their versions), consent, firstSeen, lastSeen, groups, recentEvents
 *   (`profileContent`), plus the dedupe memory. Not `profileId`, `createdAt` and `mergedFrom`: they
 *   name the message that happened to come first for each profile (the winner rule is deterministic,
 *   but which profiles exist before a merge depends on order).
 * - **The same order of first deliveries, any split into batches, duplicates anywhere after the
 *   first delivery**: the whole table — live profiles as stored (ids, createdAt, mergedFrom
 *   included), every identifier item, every redirect. Creation order is the same, so the same
 *   messages create the same profiles and the same merges happen.
 */
let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

const PEOPLE = 3;
const PLACEHOLDER_EMAILS = ['test@test.com', ' TEST@test.com', 'null', 'undefined', '0'];
const emailSpellings = (person: number) => [`p${person}@x.io`, `P${person}@X.io`, `  p${person}@x.IO `];

const eventShape = fc.record({
  person: fc.integer({ min: 0, max: PEOPLE - 1 }),
  type: fc.constantFrom<CallType>('track', 'identify', 'page', 'group', 'alias'),
  anonymous: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  previous: fc.integer({ min: 0, max: 2 }),
  user: fc.constantFrom('own', 'none', 'none', 'placeholder'),
  email: fc.constantFrom('none', 'none', 'spelling-0', 'spelling-1', 'spelling-2', 'placeholder'),
  placeholder: fc.integer({ min: 0, max: PLACEHOLDER_EMAILS.length - 1 }),
  plan: fc.option(fc.constantFrom('free', 'pro', 'team'), { nil: undefined }),
  minute: fc.integer({ min: 0, max: 4 }),
  receivedAfter: fc.integer({ min: 0, max: 3000 }),
});
type EventShape = typeof eventShape extends fc.Arbitrary<infer T> ? T : never;

function toRecord(shape: EventShape, i: number): StreamRecord {
  const timestamp = T0 + shape.minute * 60_000;
  const anonymousId = shape.anonymous === undefined ? undefined : `anon-${shape.person}-${shape.anonymous}`;
  const userId =
    shape.user === 'own' ? `user-${shape.person}` : shape.user === 'placeholder' ? 'null' : undefined;
  const email =
    shape.email === 'none'
      ? undefined
      : shape.email === 'placeholder'
        ? PLACEHOLDER_EMAILS[shape.placeholder]
        : emailSpellings(shape.person)[Number(shape.email.slice(-1))];
  const traits: JsonObject = {
    ...(email === undefined ? {} : { email }),
    ...(shape.plan === undefined ? {} : { plan: shape.plan }),
  };
  const record: Record<string, unknown> = {
    messageId: `e${i}`,
    source: 'web',
    type: shape.type,
    timestamp: new Date(timestamp).toISOString(),
    receivedAt: new Date(timestamp + shape.receivedAfter).toISOString(),
    context: shape.type === 'identify' ? {} : { traits },
    // The collector's rule: every message has a userId or an anonymousId.
    anonymousId: anonymousId ?? (userId === undefined ? `anon-${shape.person}-0` : undefined),
    ...(userId === undefined ? {} : { userId }),
  };
  if (record.anonymousId === undefined) delete record.anonymousId;
  if (shape.type === 'identify') record.traits = traits;
  if (shape.type === 'track') record.event = shape.plan === undefined ? 'Viewed' : 'Upgraded';
  if (shape.type === 'page') record.name = 'Home';
  if (shape.type === 'group') record.groupId = `g-${shape.minute % 2}`;
  if (shape.type === 'alias') record.previousId = `anon-${shape.person}-${shape.previous}`;
  return record as StreamRecord;
}

const events = fc.array(eventShape, { minLength: 1, maxLength: 12 }).map((shapes) => shapes.map(toRecord));

/** Cuts a list into consecutive batches at the given (sorted, de-duplicated) points. */
function split<T>(list: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((a, b) => a - b);
  const batches: T[][] = [];
  let from = 0;
  for (const point of [...points, list.length]) {
    if (point > from) batches.push(list.slice(from, point));
    from = Math.max(from, point);
  }
  return batches;
}

/** Per live profile, what must not depend on order (see above), in a canonical order. */
const orderFree = (snapshot: TableSnapshot) =>
  [...snapshot.live.values()]
    .map((p) => JSON.stringify({ ...profileContent(p), seen: p.seen, seenHorizon: p.seenHorizon }))
    .sort();

/** Everything the table holds about profiles and identifiers. */
const whole = (snapshot: TableSnapshot) => ({
  live: snapshot.live,
  owners: snapshot.owners,
  retired: snapshot.retired,
  merging: snapshot.merging,
  pending: snapshot.pending,
});

async function run(batches: readonly (readonly StreamRecord[])[]): Promise<TableSnapshot> {
  return (await runWithLinks(batches)).snapshot;
}

async function runWithLinks(batches: readonly (readonly StreamRecord[])[]) {
  const r = await resolverOn(engine, { identity: BLOCKING_CONFIG });
  for (const batch of batches) expect((await r.resolve(batch)).failed).toEqual([]);
  return { snapshot: await r.snapshot(), links: r.links };
}

/** Per identifier, the profile of the last identity link handed on (the lake's latest row). */
function lastLinks(links: readonly IdentityLink[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const link of links) last.set(identifierKey(link.identifier), link.profileId);
  return last;
}

describe('the resolver does not depend on order, batching or duplicates', () => {
  it('any permutation, any split into batches, with duplicate deliveries: the same profiles', async () => {
    await fc.assert(
      fc.asyncProperty(
        events.chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.shuffledSubarray(list, { minLength: list.length }),
            fc.array(fc.nat(), { maxLength: 4 }),
            fc.array(fc.nat(), { maxLength: 4 }),
          ),
        ),
        async ([list, permuted, duplicates, cuts]) => {
          const delivered = [...permuted, ...duplicates.map((i) => list[i % list.length] as StreamRecord)];
          const reference = await run([list]);
          const { snapshot: other, links } = await runWithLinks(split(delivered, cuts));
          expect(orderFree(other)).toEqual(orderFree(reference));
          expect(other.merging.size + other.pending.size).toBe(0);
          // identity_links tells the same story as the graph: each identifier's last row names its owner.
          expect(lastLinks(links)).toEqual(new Map(other.owners));
          // No placeholder ever became an identifier, so nobody was joined by one.
          expect(
            [...other.owners.keys()].filter((key) => /test@test|:null$|:undefined$|:0$/.test(key)),
          ).toEqual([]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the same order of first deliveries, any split, duplicates after the first delivery: the same table', async () => {
    await fc.assert(
      fc.asyncProperty(
        events.chain((list) =>
          fc.tuple(
            fc.constant(list),
            // [which record, how many records later it comes again]
            fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
            fc.array(fc.nat(), { maxLength: 5 }),
          ),
        ),
        async ([list, duplicates, cuts]) => {
          const delivered: StreamRecord[] = list.slice();
          for (const [which, later] of duplicates) {
            const i = which % list.length;
            const at = Math.min(
              delivered.length,
              delivered.indexOf(list[i] as StreamRecord) + 1 + (later % 4),
            );
            delivered.splice(at, 0, list[i] as StreamRecord);
          }
          const reference = await run([list]);
          const other = await run(split(delivered, cuts));
          expect(whole(other)).toEqual(whole(reference));
        },
      ),
      { numRuns: 12 },
    );
  });
});
