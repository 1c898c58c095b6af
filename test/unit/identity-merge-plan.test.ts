import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityInvariantError } from '../../src/core/identity/errors';
import { type Identifier, identifierKey } from '../../src/core/identity/identifier';
import { DEFAULT_IDENTITY_CONFIG, parseIdentityConfig } from '../../src/core/identity/identity-config';
import {
  type MergePlan,
  type PlanInput,
  type ProfileRef,
  planMerge,
} from '../../src/core/identity/merge-plan';
import { profileIdFor } from '../../src/core/identity/message-key';
import { compareProfileAge, type ProfileAge, pickWinner } from '../../src/core/identity/winner';

const AT = '2026-03-01T12:00:00.000Z';
const RECORD = { source: 'web', messageId: 'msg-1', receivedAt: '2026-03-01T11:59:59.000Z' };

const id = (type: string, value: string): Identifier => ({ type, value });
const ref = (profileId: string, createdAt: string, identifierCounts: Record<string, number>): ProfileRef => ({
  profileId,
  createdAt,
  identifierCounts,
});

function plan(
  identifiers: Identifier[],
  owned: [Identifier, ProfileRef][] = [],
  config = DEFAULT_IDENTITY_CONFIG,
) {
  const input: PlanInput = {
    record: RECORD,
    identifiers,
    owners: new Map(owned.map(([identifier, owner]) => [identifierKey(identifier), owner])),
    at: AT,
  };
  return planMerge(input, config);
}

/** The steps without the ledger entries they carry. */
const stepsOf = (p: Extract<MergePlan, { outcome: 'resolved' }>) =>
  p.steps.map((step) => {
    if (step.kind === 'create_profile') return step;
    const { ledger: _ledger, ...rest } = step;
    return rest;
  });

function resolved(p: MergePlan): Extract<MergePlan, { outcome: 'resolved' }> {
  if (p.outcome !== 'resolved') throw new Error('expected a resolved plan');
  return p;
}

describe('planMerge: new identifiers', () => {
  it('creates a profile, derived from the message, for an event whose identifiers nobody has', () => {
    const p = resolved(plan([id('user_id', 'u1'), id('anonymous_id', 'a1')]));
    const profileId = profileIdFor(RECORD, [id('user_id', 'u1'), id('anonymous_id', 'a1')]);
    expect(p.target).toEqual({
      profileId,
      createdAt: RECORD.receivedAt,
      isNew: true,
      identifierCounts: { anonymous_id: 1, user_id: 1 },
    });
    expect(stepsOf(p)).toEqual([
      { kind: 'create_profile', profileId, createdAt: RECORD.receivedAt },
      { kind: 'link', identifier: id('user_id', 'u1'), profileId },
      { kind: 'link', identifier: id('anonymous_id', 'a1'), profileId },
      { kind: 'apply_event', profileId },
    ]);
    expect(p.ledger.map((e) => [e.reason, e.identifier.value, e.from, e.to])).toEqual([
      ['linked', 'u1', null, profileId],
      ['linked', 'a1', null, profileId],
    ]);
  });

  it('plans the same profile id again for the same message (a retry after a crash)', () => {
    const first = resolved(plan([id('user_id', 'u1')]));
    const again = resolved(plan([id('user_id', 'u1')]));
    expect(again).toEqual(first);
  });

  it('plans another new profile for another message that reuses the messageId with other identifiers', () => {
    // A buggy client, or two clients generating colliding ids: the second message is about someone else.
    const alice = resolved(plan([id('user_id', 'alice-77'), id('email', 'alice77@example.com')]));
    const bob = resolved(plan([id('user_id', 'bob-77'), id('email', 'bob77@example.com')]));
    expect(bob.target.profileId).not.toBe(alice.target.profileId);
    // One identifier more or less is another message too.
    const aliceAlone = resolved(plan([id('user_id', 'alice-77')]));
    expect(aliceAlone.target.profileId).not.toBe(alice.target.profileId);
  });

  it("derives a new profile's id from the source, the messageId and the set of identifiers, in any order", () => {
    const ids = [id('user_id', 'u1'), id('email', 'u1@example.com'), id('anonymous_id', 'a1')];
    const reversed = [...ids].reverse();
    expect(profileIdFor(RECORD, reversed)).toBe(profileIdFor(RECORD, ids));
    expect(profileIdFor(RECORD, [...ids, ids[0] as Identifier])).toBe(profileIdFor(RECORD, ids));
    expect(profileIdFor(RECORD, ids)).toMatch(/^p_[0-9a-f]{32}$/);
    expect(profileIdFor({ ...RECORD, source: 'ios' }, ids)).not.toBe(profileIdFor(RECORD, ids));
    expect(profileIdFor({ ...RECORD, messageId: 'msg-2' }, ids)).not.toBe(profileIdFor(RECORD, ids));
    // The parts cannot run into each other.
    expect(profileIdFor({ source: 'a', messageId: 'b:c' }, [])).not.toBe(
      profileIdFor({ source: 'a:b', messageId: 'c' }, []),
    );
    expect(profileIdFor(RECORD, [id('email', 'a,b')])).not.toBe(
      profileIdFor(RECORD, [id('email', 'a'), id('email', 'b')]),
    );
  });

  it('uses a given id for a new profile', () => {
    const p = planMerge(
      {
        record: RECORD,
        identifiers: [id('user_id', 'u1')],
        owners: new Map(),
        at: AT,
        newProfileId: 'p_given',
      },
      DEFAULT_IDENTITY_CONFIG,
    );
    expect(resolved(p).target.profileId).toBe('p_given');
  });

  it('is unresolvable when the event has no identifier', () => {
    expect(plan([])).toEqual({ outcome: 'unresolvable' });
  });

  it('refuses identifiers of a type the configuration does not know', () => {
    expect(() => plan([id('fax', '1')])).toThrow(IdentityInvariantError);
  });
});

describe('planMerge: linking and merging', () => {
  const A = ref('p_a', '2026-01-01T00:00:00.000Z', { anonymous_id: 1 });
  const B = ref('p_b', '2026-02-01T00:00:00.000Z', { user_id: 1, email: 1 });

  it('links a new identifier to the profile that owns the others', () => {
    const p = resolved(plan([id('user_id', 'u1'), id('anonymous_id', 'a1')], [[id('user_id', 'u1'), B]]));
    expect(p.target).toMatchObject({
      profileId: 'p_b',
      isNew: false,
      identifierCounts: { user_id: 1, email: 1, anonymous_id: 1 },
    });
    expect(stepsOf(p)).toEqual([
      { kind: 'link', identifier: id('anonymous_id', 'a1'), profileId: 'p_b' },
      { kind: 'apply_event', profileId: 'p_b' },
    ]);
  });

  it('changes nothing in the graph when every identifier is already on one profile', () => {
    const p = resolved(plan([id('user_id', 'u1')], [[id('user_id', 'u1'), B]]));
    expect(stepsOf(p)).toEqual([{ kind: 'apply_event', profileId: 'p_b' }]);
    expect(p.ledger).toEqual([]);
  });

  it('merges two profiles into the older one, whichever identifier came first', () => {
    const p = resolved(
      plan(
        [id('user_id', 'u1'), id('anonymous_id', 'a1')],
        [
          [id('user_id', 'u1'), B],
          [id('anonymous_id', 'a1'), A],
        ],
      ),
    );
    expect(p.target.profileId).toBe('p_a');
    expect(p.merged.map((m) => m.profileId)).toEqual(['p_b']);
    expect(stepsOf(p)).toEqual([
      { kind: 'merge', from: 'p_b', into: 'p_a' },
      { kind: 'apply_event', profileId: 'p_a' },
    ]);
    expect(p.ledger).toEqual([
      expect.objectContaining({
        at: AT,
        source: 'web',
        messageId: 'msg-1',
        identifier: id('user_id', 'u1'),
        from: 'p_b',
        to: 'p_a',
        reason: 'merged',
      }),
    ]);
  });

  it('breaks a tie in creation time by profile id', () => {
    const x = ref('p_x', '2026-01-01T00:00:00.000Z', { anonymous_id: 1 });
    const y = ref('p_y', '2026-01-01T00:00:00Z', { anonymous_id: 1 });
    expect(pickWinner([y, x]).profileId).toBe('p_x');
    expect(compareProfileAge(x, y)).toBeLessThan(0);
  });

  it('puts each ledger entry on the step it accounts for', () => {
    const young = ref('p_young', '2026-03-01T00:00:00.000Z', { anonymous_id: 1 });
    const other = ref('p_other', '2026-01-01T00:00:00.000Z', { user_id: 1, anonymous_id: 1 });
    const p = resolved(
      plan(
        [id('user_id', 'u1'), id('email', 'j@x.io'), id('anonymous_id', 'a1'), id('anonymous_id', 'a2')],
        [
          [id('email', 'j@x.io'), A],
          [id('anonymous_id', 'a1'), other],
          [id('anonymous_id', 'a2'), young],
        ],
      ),
    );
    const shape = p.steps.map((step) => [
      step.kind,
      step.kind === 'create_profile' ? [] : step.ledger.map((e) => e.reason),
    ]);
    expect(shape).toEqual([
      ['link', ['linked']],
      ['merge', ['merged']],
      ['apply_event', ['dropped_by_limit']],
    ]);
    expect(p.ledger).toEqual(p.steps.flatMap((step) => (step.kind === 'create_profile' ? [] : step.ledger)));
  });

  it('gives ledger entries ids that depend on the message and the content only', () => {
    const owned: [Identifier, ProfileRef][] = [
      [id('user_id', 'u1'), B],
      [id('anonymous_id', 'a1'), A],
    ];
    const first = resolved(plan([id('user_id', 'u1'), id('anonymous_id', 'a1')], owned));
    const again = resolved(plan([id('anonymous_id', 'a1'), id('user_id', 'u1')], owned));
    expect(again.ledger.map((e) => e.id)).toEqual(first.ledger.map((e) => e.id));
    expect(new Set(first.ledger.map((e) => e.id)).size).toBe(first.ledger.length);
  });
});

describe('planMerge: merge protection', () => {
  it('a second user_id: no merge, the lower-priority identifier is dropped and the event still counts', () => {
    const owner = ref('p_old', '2026-01-01T00:00:00.000Z', { user_id: 1, anonymous_id: 1 });
    const p = resolved(
      plan([id('user_id', 'u2'), id('anonymous_id', 'a1')], [[id('anonymous_id', 'a1'), owner]]),
    );
    expect(p.merged).toEqual([]);
    expect(p.target).toMatchObject({ isNew: true, identifierCounts: { user_id: 1 } });
    expect(p.kept).toEqual([id('user_id', 'u2')]);
    expect(p.dropped).toEqual([
      { identifier: id('anonymous_id', 'a1'), owner: 'p_old', limitType: 'user_id', limit: 1, wouldHold: 2 },
    ]);
    expect(stepsOf(p).at(-1)).toEqual({ kind: 'apply_event', profileId: p.target.profileId });
    expect(p.ledger.find((e) => e.reason === 'dropped_by_limit')).toMatchObject({
      identifier: id('anonymous_id', 'a1'),
      from: 'p_old',
      to: p.target.profileId,
      detail: 'user_id limit 1 (would hold 2)',
    });
  });

  it('two profiles with a user_id each, joined by an email: no merge, the email is dropped', () => {
    const jane = ref('p_jane', '2026-01-01T00:00:00.000Z', { user_id: 1, email: 1 });
    const john = ref('p_john', '2026-01-02T00:00:00.000Z', { user_id: 1 });
    const p = resolved(
      plan(
        [id('user_id', 'john'), id('email', 'shared@example.com')],
        [
          [id('user_id', 'john'), john],
          [id('email', 'shared@example.com'), jane],
        ],
      ),
    );
    expect(p.target.profileId).toBe('p_john');
    expect(p.merged).toEqual([]);
    expect(p.dropped.map((d) => d.identifier)).toEqual([id('email', 'shared@example.com')]);
  });

  it('placeholder email on 1,000 profiles: 0 merges', () => {
    const placeholder = id('email', 'noreply@example.com');
    const first = ref('p_0000', '2026-01-01T00:00:00.000Z', { user_id: 1, email: 1 });
    let merges = 0;
    let drops = 0;
    for (let i = 1; i <= 1000; i++) {
      const user = id('user_id', `user-${i}`);
      const own = ref(`p_${String(i).padStart(4, '0')}`, '2026-01-02T00:00:00.000Z', { user_id: 1 });
      const p = resolved(
        plan(
          [user, placeholder],
          [
            [user, own],
            [placeholder, first],
          ],
        ),
      );
      merges += p.merged.length;
      drops += p.dropped.length;
      expect(p.target.profileId).toBe(own.profileId);
    }
    expect(merges).toBe(0);
    expect(drops).toBe(1000);
  });

  it('a sixth email is not attached to a profile that has five', () => {
    const owner = ref('p_a', '2026-01-01T00:00:00.000Z', { user_id: 1, email: 5 });
    const p = resolved(
      plan([id('user_id', 'u1'), id('email', 'six@example.com')], [[id('user_id', 'u1'), owner]]),
    );
    expect(stepsOf(p)).toEqual([{ kind: 'apply_event', profileId: 'p_a' }]);
    expect(p.dropped).toEqual([
      { identifier: id('email', 'six@example.com'), owner: null, limitType: 'email', limit: 5, wouldHold: 6 },
    ]);
  });

  it('an event with more new identifiers of a type than the limit keeps the first by value', () => {
    const config = parseIdentityConfig({ types: [{ name: 'email', paths: ['traits.email'], limit: 2 }] });
    const p = resolved(
      plan([id('email', 'c@x.io'), id('email', 'a@x.io'), id('email', 'b@x.io')], [], config),
    );
    expect(p.kept).toEqual([id('email', 'a@x.io'), id('email', 'b@x.io')]);
    expect(p.dropped.map((d) => d.identifier.value)).toEqual(['c@x.io']);
  });

  it('anonymous profiles merge into a profile with a user_id as long as limits allow', () => {
    const known = ref('p_known', '2026-01-01T00:00:00.000Z', { user_id: 1, anonymous_id: 99 });
    const anon = ref('p_anon', '2026-01-02T00:00:00.000Z', { anonymous_id: 1 });
    const ok = resolved(
      plan(
        [id('user_id', 'u1'), id('anonymous_id', 'a1')],
        [
          [id('user_id', 'u1'), known],
          [id('anonymous_id', 'a1'), anon],
        ],
      ),
    );
    expect(ok.merged.map((m) => m.profileId)).toEqual(['p_anon']);
    const full = ref('p_known', '2026-01-01T00:00:00.000Z', { user_id: 1, anonymous_id: 100 });
    const refused = resolved(
      plan(
        [id('user_id', 'u1'), id('anonymous_id', 'a1')],
        [
          [id('user_id', 'u1'), full],
          [id('anonymous_id', 'a1'), anon],
        ],
      ),
    );
    expect(refused.merged).toEqual([]);
    expect(refused.dropped[0]).toMatchObject({ limitType: 'anonymous_id', limit: 100, wouldHold: 101 });
  });

  it('a profile that alone exceeds a since-lowered limit still resolves its own events', () => {
    const legacy = ref('p_legacy', '2026-01-01T00:00:00.000Z', { user_id: 2 });
    const p = resolved(
      plan([id('user_id', 'u1'), id('anonymous_id', 'a9')], [[id('user_id', 'u1'), legacy]]),
    );
    expect(p.target.profileId).toBe('p_legacy');
    expect(p.dropped).toEqual([]);
    expect(stepsOf(p)[0]).toEqual({
      kind: 'link',
      identifier: id('anonymous_id', 'a9'),
      profileId: 'p_legacy',
    });
  });
});

describe('planMerge: after a crash in the middle of a merge', () => {
  it('counts the identifiers of a loser the winner already absorbed once, and finishes the merge', () => {
    // The winner was written with the loser's data (and identities), the loser's identifiers not yet re-pointed.
    const winner = {
      ...ref('p_w', '2026-01-01T00:00:00.000Z', { email: 5, user_id: 1 }),
      mergedFrom: ['p_l'],
    };
    const loser = ref('p_l', '2026-01-02T00:00:00.000Z', { email: 2 });
    for (const order of [
      [id('user_id', 'u1'), id('email', 'l@x.io')],
      [id('email', 'l@x.io'), id('user_id', 'u1')],
    ]) {
      const p = resolved(
        plan(order, [
          [id('user_id', 'u1'), winner],
          [id('email', 'l@x.io'), loser],
        ]),
      );
      expect(p.dropped).toEqual([]);
      expect(p.target).toMatchObject({ profileId: 'p_w', identifierCounts: { email: 5, user_id: 1 } });
      expect(stepsOf(p)).toEqual([
        { kind: 'merge', from: 'p_l', into: 'p_w' },
        { kind: 'apply_event', profileId: 'p_w' },
      ]);
    }
  });
});

describe('planMerge: properties', () => {
  const profileArb = fc.record({
    profileId: fc.constantFrom('p_a', 'p_b', 'p_c', 'p_d'),
    createdAt: fc.constantFrom('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
  });
  const identifierArb = fc.record({
    type: fc.constantFrom('user_id', 'email', 'anonymous_id'),
    value: fc.constantFrom('1', '2', '3'),
  });

  it('the plan does not depend on the order of the identifiers or of the owners', () => {
    const identifiersAndShuffle = fc
      .uniqueArray(identifierArb, { minLength: 1, maxLength: 6, selector: identifierKey })
      .chain((ids) => fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length })));
    fc.assert(
      fc.property(
        identifiersAndShuffle,
        fc.array(profileArb, { maxLength: 6 }),
        ([identifiers, shuffled], ages) => {
          // Owners for the first identifiers; each profile's counts are what it owns among them.
          const owners = new Map<string, ProfileAge>();
          for (const age of ages) if (!owners.has(age.profileId)) owners.set(age.profileId, age);
          const ownerOf = new Map<string, ProfileAge>();
          identifiers.forEach((identifier, i) => {
            const owner = [...owners.values()][i];
            if (owner !== undefined) ownerOf.set(identifierKey(identifier), owner);
          });
          const owned = identifiers.flatMap((identifier): [Identifier, ProfileRef][] => {
            const owner = ownerOf.get(identifierKey(identifier));
            if (owner === undefined) return [];
            const counts: Record<string, number> = {};
            for (const other of identifiers) {
              if (ownerOf.get(identifierKey(other))?.profileId === owner.profileId) {
                counts[other.type] = (counts[other.type] ?? 0) + 1;
              }
            }
            return [[identifier, { ...owner, identifierCounts: counts }]];
          });
          expect(plan(shuffled, [...owned].reverse())).toEqual(plan(identifiers, owned));
        },
      ),
    );
  });

  it('the target is the oldest of the profiles kept, and no kept set breaks a limit it did not already break', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(identifierArb, { minLength: 1, maxLength: 6, selector: identifierKey }),
        fc.array(
          fc.record({
            age: fc.integer({ min: 0, max: 5 }),
            users: fc.integer({ min: 0, max: 1 }),
            emails: fc.integer({ min: 0, max: 5 }),
          }),
          { maxLength: 6 },
        ),
        (identifiers, shapes) => {
          const owned: [Identifier, ProfileRef][] = [];
          identifiers.forEach((identifier, i) => {
            const shape = shapes[i];
            if (shape === undefined) return;
            const counts = { user_id: shape.users, email: shape.emails, anonymous_id: 1 };
            counts[identifier.type as keyof typeof counts] = Math.max(
              1,
              counts[identifier.type as keyof typeof counts],
            );
            owned.push([
              identifier,
              ref(`p_${i}`, new Date(Date.UTC(2026, 0, 1 + shape.age)).toISOString(), counts),
            ]);
          });
          const p = resolved(plan(identifiers, owned));
          const joined = [
            ...new Map(
              p.kept
                .map((k) => owned.find(([i]) => identifierKey(i) === identifierKey(k))?.[1])
                .filter((r): r is ProfileRef => r !== undefined)
                .map((r) => [r.profileId, r]),
            ).values(),
          ];
          if (joined.length > 0) expect(p.target.profileId).toBe(pickWinner(joined).profileId);
          for (const type of DEFAULT_IDENTITY_CONFIG.types) {
            const held = p.target.identifierCounts[type.name] ?? 0;
            const largestSide = Math.max(0, ...joined.map((r) => r.identifierCounts[type.name] ?? 0));
            expect(held).toBeLessThanOrEqual(Math.max(type.limit, largestSide));
          }
          expect(p.kept.length + p.dropped.length).toBe(identifiers.length);
        },
      ),
    );
  });
});
