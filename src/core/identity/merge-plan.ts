import type { StreamRecord } from '../events/stream-record';
import { IdentityInvariantError } from './errors';
import { compareStrings, type Identifier, identifierKey } from './identifier';
import type { IdentityConfig } from './identity-config';
import { type CompiledType, identityRules } from './identity-rules';
import { ledgerEntryId, profileIdFor } from './message-key';
import { compareProfileAge, type ProfileAge } from './winner';

/**
 * What the planner needs to know about a profile that owns one of the event's identifiers: its age
 * (for the winner rule) and how many identifiers of each type it holds (for merge protection).
 * Identifiers belong to at most one profile, so the counts of merged profiles add up exactly.
 */
export interface ProfileRef extends ProfileAge {
  readonly identifierCounts: Readonly<Record<string, number>>;
  /**
   * Profiles this one has absorbed (`Profile.mergedFrom`). A store that crashed in the middle of a
   * merge may still show the loser as an owner; the planner then counts the loser's identifiers once,
   * not twice (the winner's counts already include them).
   */
  readonly mergedFrom?: readonly string[];
}

export interface PlanInput {
  /** The message being resolved. */
  readonly record: Pick<StreamRecord, 'source' | 'messageId' | 'receivedAt'>;
  /** Its identifiers, from `extractIdentifiers` with the same configuration. */
  readonly identifiers: readonly Identifier[];
  /**
   * The current owner of each identifier that has one, keyed by {@link identifierKey}. Owners must be
   * live profiles: a store that keeps redirects for merged profiles follows them before planning.
   */
  readonly owners: ReadonlyMap<string, ProfileRef>;
  /** When the plan is made (the resolver's clock): stamped on the ledger entries. */
  readonly at: string;
  /**
   * Id for a profile this event creates; defaults to {@link profileIdFor}(record, identifiers), which is
   * idempotent and never the id another message with the same `messageId` but other identifiers plans.
   */
  readonly newProfileId?: string;
}

/**
 * One step of a plan, in the order a store executes them. Every write below is idempotent, so a store
 * that crashes anywhere re-plans the message from what it then reads and executes again; a write
 * whose condition fails means another resolver changed the graph: re-read and re-plan.
 * - `create_profile`: put `createProfile(profileId, createdAt)` if no profile has that id. One that
 *   has it was created by an earlier attempt of this message (the id is derived from the message and
 *   its identifiers, see `profileIdFor`): continue on it only if it is that — it holds this event (or,
 *   emptied after a lost claim, nothing) and lists no identifier but the plan's links — never on a
 *   profile that holds anyone else's identifiers or events.
 * - `link`: first add the identifier to the profile (`attachIdentifiers`, conditional on the
 *   profile's version), then point the identifier at the profile only if it has no owner. If another
 *   profile owns it by then, take it out again (`detachIdentifiers`) and re-plan; a profile this plan
 *   created holds nothing yet and can be removed. (In this order a crash leaves at worst an identity
 *   listed but not yet pointed at, which the re-plan links again; the other order would leave the
 *   profile's counts short.)
 * - `merge`: (1) mark `from` as merging into `into` (only if unmarked); from then on no event is
 *   applied to `from`; (2) write `mergeProfiles(into, from)` over `into` (conditional on its version),
 *   noting on `into`'s item that `from` is pending; (3) re-point every identifier of `from` (each only
 *   if still owned by `from`); (4) retire `from`, keeping a redirect to `into`; (5) clear the note.
 *   Whoever meets a marked `from` or an `into` with a note — a lookup, another resolver, the retry of
 *   this message — finishes the merge before going on. Every step is idempotent: the winner records
 *   what it absorbed, so running (2) again changes nothing.
 * - `apply_event`: `applyEvent(profile, record)`, conditional on the profile's version (on conflict,
 *   read and apply again: the profile recognises a message it already has).
 *
 * Each step carries the ledger entries it accounts for (a link's `linked`, a merge's `merged`, the
 * event's `dropped_by_limit` entries on `apply_event`). Entry ids are deterministic, so they are
 * written with "put if absent". Writing them in the same item write that decides the step (the
 * identifier's claim, the merge mark, the profile write) — as an outbox copied to the ledger later —
 * makes the ledger exact; writing them just after that write may lose one to a crash in between.
 */
export type PlanStep =
  | { readonly kind: 'create_profile'; readonly profileId: string; readonly createdAt: string }
  | {
      readonly kind: 'link';
      readonly identifier: Identifier;
      readonly profileId: string;
      readonly ledger: readonly LedgerEntry[];
    }
  | {
      readonly kind: 'merge';
      readonly from: string;
      readonly into: string;
      readonly ledger: readonly LedgerEntry[];
    }
  | { readonly kind: 'apply_event'; readonly profileId: string; readonly ledger: readonly LedgerEntry[] };

/**
 * Why a ledger entry was written: an identifier `linked` to a profile for the first time, a profile
 * `merged` into another (the entry names the event's identifier that joined them), or an identifier
 * `dropped_by_limit` (merge protection: the link or merge it asked for would break a limit).
 */
export type LedgerReason = 'linked' | 'merged' | 'dropped_by_limit';

/**
 * One append-only merge ledger entry (DESIGN.md: when, which message, which identifier, from, to).
 * `id` is derived from the message and the entry's content, so writing the entries of a re-planned
 * message again is idempotent (a store writes them with "put if absent").
 */
export interface LedgerEntry {
  readonly id: string;
  /** When the plan was made. */
  readonly at: string;
  readonly source: string;
  readonly messageId: string;
  readonly identifier: Identifier;
  /** The profile the identifier (or the merged profile) came from; `null` for a new identifier. */
  readonly from: string | null;
  /** The profile it went to (for a drop: the profile it would have gone to). */
  readonly to: string;
  readonly reason: LedgerReason;
  /** For a drop: which limit, e.g. `user_id limit 1 (would hold 2)`. */
  readonly detail?: string;
}

/** An identifier merge protection dropped from the event, with the limit it would have broken. */
export interface DroppedIdentifier {
  readonly identifier: Identifier;
  /** The profile that owns it (it stays there), or `null` for an identifier no profile has. */
  readonly owner: string | null;
  /** The type whose per-profile limit the link or merge would have exceeded. */
  readonly limitType: string;
  readonly limit: number;
  /** How many identifiers of `limitType` the profile would have held. */
  readonly wouldHold: number;
}

/** The profile the event counts on. */
export interface PlanTarget extends ProfileAge {
  /** The event creates this profile (none of its identifiers had an owner). */
  readonly isNew: boolean;
  /** Its identifier counts once the plan is executed: a store may use them as a write condition. */
  readonly identifierCounts: Readonly<Record<string, number>>;
}

/**
 * How to resolve one event, pure data: a store executes `steps` in order and appends `ledger`.
 * `unresolvable` means the event has no identifier at all (every value was absent, blocked or
 * invalid): it belongs to no profile; the resolver counts it and moves on (it stays in the lake).
 */
export type MergePlan =
  | {
      readonly outcome: 'resolved';
      readonly target: PlanTarget;
      /** The event's identifiers that now resolve to the target, highest priority first. */
      readonly kept: readonly Identifier[];
      readonly dropped: readonly DroppedIdentifier[];
      /** Profiles merged into the target, oldest first. */
      readonly merged: readonly ProfileRef[];
      readonly steps: readonly PlanStep[];
      readonly ledger: readonly LedgerEntry[];
    }
  | { readonly outcome: 'unresolvable' };

interface Candidate {
  readonly identifier: Identifier;
  readonly type: CompiledType;
  readonly owner: ProfileRef | undefined;
}

/**
 * Plans how one event resolves against the identity graph as it is now (pure: the store reads the
 * owners, the planner decides, the store executes).
 *
 * Rules, in order:
 * 1. The event's identifiers are taken by priority (highest first; equal priority by type name, then
 *    value). Each one joins the event's profile set: an identifier of another profile brings that
 *    whole profile (a merge), a new identifier brings itself (a link).
 * 2. **Merge protection**: an identifier is dropped from the event if joining it would give the set
 *    more identifiers of some type than the type's limit while both sides already hold that type —
 *    two user ids on one profile, a sixth email. Higher-priority identifiers joined first, so the one
 *    dropped is always the lower-priority one. A drop changes no profile; it is reported in `dropped`
 *    and in the ledger, and the event still counts on the target.
 * 3. **Winner**: the target is the oldest of the profiles that joined ({@link compareProfileAge});
 *    the others merge into it. If none joined, the event creates a profile.
 *
 * Plans depend only on their input, so two resolvers that read the same graph plan the same thing.
 */
export function planMerge(input: PlanInput, config: IdentityConfig): MergePlan {
  const rules = identityRules(config);
  if (input.identifiers.length === 0) return { outcome: 'unresolvable' };

  const candidates = orderCandidates(input, rules.byName);
  const counts = new Map<string, number>();
  const joined = new Map<string, ProfileRef>();
  const kept: Candidate[] = [];
  const dropped: DroppedIdentifier[] = [];

  for (const candidate of candidates) {
    const { owner, identifier } = candidate;
    if (owner !== undefined && joined.has(owner.profileId)) {
      kept.push(candidate);
      continue;
    }
    const adds = owner === undefined ? { [identifier.type]: 1 } : countsToAdd(owner, joined);
    const breach = findBreach(counts, adds, rules.types);
    if (breach !== undefined) {
      dropped.push({ identifier, owner: owner?.profileId ?? null, ...breach });
      continue;
    }
    for (const [type, n] of Object.entries(adds)) counts.set(type, (counts.get(type) ?? 0) + n);
    if (owner !== undefined) joined.set(owner.profileId, owner);
    kept.push(candidate);
  }

  const profiles = [...joined.values()].sort(compareProfileAge);
  const winner = profiles[0];
  const target: PlanTarget = {
    profileId: winner?.profileId ?? input.newProfileId ?? profileIdFor(input.record, input.identifiers),
    createdAt: winner?.createdAt ?? input.record.receivedAt,
    isNew: winner === undefined,
    identifierCounts: Object.fromEntries(
      [...counts.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => compareStrings(a, b)),
    ),
  };
  const merged = profiles.slice(1);
  const links = kept.filter((candidate) => candidate.owner === undefined);

  const entry = ledgerEntryFactory(input, target.profileId);
  const steps: PlanStep[] = [];
  if (target.isNew)
    steps.push({ kind: 'create_profile', profileId: target.profileId, createdAt: target.createdAt });
  for (const link of links) {
    steps.push({
      kind: 'link',
      identifier: link.identifier,
      profileId: target.profileId,
      ledger: [entry({ identifier: link.identifier, from: null, reason: 'linked' })],
    });
  }
  for (const loser of merged) {
    // The highest-priority identifier of the event that this profile owned: the one that joined it.
    const via = kept.find((candidate) => candidate.owner?.profileId === loser.profileId) as Candidate;
    steps.push({
      kind: 'merge',
      from: loser.profileId,
      into: target.profileId,
      ledger: [entry({ identifier: via.identifier, from: loser.profileId, reason: 'merged' })],
    });
  }
  steps.push({
    kind: 'apply_event',
    profileId: target.profileId,
    ledger: dropped.map((drop) =>
      entry({
        identifier: drop.identifier,
        from: drop.owner,
        reason: 'dropped_by_limit',
        detail: `${drop.limitType} limit ${drop.limit} (would hold ${drop.wouldHold})`,
      }),
    ),
  });
  const ledger = steps.flatMap((step) => (step.kind === 'create_profile' ? [] : step.ledger));
  return {
    outcome: 'resolved',
    target,
    kept: kept.map((candidate) => candidate.identifier),
    dropped,
    merged,
    steps,
    ledger,
  };
}

/**
 * What joining `owner` adds to the counts: its own counts, less those of joined profiles it has
 * already absorbed, or nothing if a joined profile has already absorbed it (a merge interrupted by a
 * crash, where both still own identifiers).
 */
function countsToAdd(
  owner: ProfileRef,
  joined: ReadonlyMap<string, ProfileRef>,
): Readonly<Record<string, number>> {
  const adds: Record<string, number> = { ...owner.identifierCounts };
  for (const other of joined.values()) {
    if (other.mergedFrom?.includes(owner.profileId)) return {};
    if (owner.mergedFrom?.includes(other.profileId)) {
      for (const [type, n] of Object.entries(other.identifierCounts))
        adds[type] = Math.max(0, (adds[type] ?? 0) - n);
    }
  }
  return adds;
}

function orderCandidates(input: PlanInput, byName: ReadonlyMap<string, CompiledType>): Candidate[] {
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const identifier of input.identifiers) {
    const type = byName.get(identifier.type);
    if (type === undefined) {
      throw new IdentityInvariantError(
        `identifier type "${identifier.type}" is not configured; plan with identifiers from extractIdentifiers`,
      );
    }
    const key = identifierKey(identifier);
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push({ identifier, type, owner: input.owners.get(key) });
  }
  return candidates.sort(
    (a, b) => a.type.rank - b.type.rank || compareStrings(a.identifier.value, b.identifier.value),
  );
}

/**
 * The first type (by priority) whose limit joining `adds` would break. A limit binds only when both
 * sides already hold that type: a profile that alone holds more than a (since lowered) limit still
 * resolves its own events, and a new identifier set starts from nothing.
 */
function findBreach(
  counts: ReadonlyMap<string, number>,
  adds: Readonly<Record<string, number>>,
  types: readonly CompiledType[],
): { limitType: string; limit: number; wouldHold: number } | undefined {
  for (const type of types) {
    const name = type.config.name;
    const add = Object.hasOwn(adds, name) ? (adds[name] ?? 0) : 0;
    const have = counts.get(name) ?? 0;
    if (add > 0 && have > 0 && have + add > type.config.limit) {
      return { limitType: name, limit: type.config.limit, wouldHold: have + add };
    }
  }
  return undefined;
}

/** Builds the ledger entries of one plan: same message, same time, same target. */
function ledgerEntryFactory(input: PlanInput, to: string) {
  return (fields: Pick<LedgerEntry, 'identifier' | 'from' | 'reason' | 'detail'>): LedgerEntry => ({
    id: ledgerEntryId(
      input.record,
      [fields.reason, identifierKey(fields.identifier), fields.from ?? '', to].join('\u0000'),
    ),
    at: input.at,
    source: input.record.source,
    messageId: input.record.messageId,
    identifier: fields.identifier,
    from: fields.from,
    to,
    reason: fields.reason,
    ...(fields.detail === undefined ? {} : { detail: fields.detail }),
  });
}
