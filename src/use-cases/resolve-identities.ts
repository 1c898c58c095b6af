import { forEachConcurrently } from '../core/concurrency';
import { isMergeEntry } from '../core/events/bus-events';
import type { StreamRecord } from '../core/events/stream-record';
import { IdentityInvariantError } from '../core/identity/errors';
import { extractIdentifiers } from '../core/identity/extract-identifiers';
import { type Identifier, identifierKey } from '../core/identity/identifier';
import type { IdentityConfig } from '../core/identity/identity-config';
import type { IdentityLink } from '../core/identity/identity-link';
import { type LedgerEntry, type MergePlan, type ProfileRef, planMerge } from '../core/identity/merge-plan';
import { profileIdFor } from '../core/identity/message-key';
import { applyEvent, hasApplied } from '../core/profile/apply-event';
import { PROFILE_BOUNDS, type ProfileBounds } from '../core/profile/bounds';
import { attachIdentifiers, detachIdentifiers, listsOnly, profileRef } from '../core/profile/identities';
import { mergeProfiles } from '../core/profile/merge-profiles';
import { createProfile, type Profile } from '../core/profile/profile';
import type { ProfileWarning } from '../core/profile/warnings';
import type { Clock } from '../ports/clock';
import type { IdentifierOwner, IdentityStore, LinkCause } from '../ports/identity-store';
import type { Logger } from '../ports/logger';
import type { ResolverMetrics } from '../ports/resolver-metrics';
import { BatchState, Replan, type Slot, sameCause } from './resolver-batch-state';

/** What a resolved batch hands on once its profile writes are durable. */
export interface ResolverEffects {
  /** Every identifier (re)pointed, for the lake's `identity_links`. */
  readonly links: readonly IdentityLink[];
  /** Merges completed, for `Profile Merged` on the bus (the ledger entry of each, or a repair's summary). */
  readonly merges: readonly CompletedMerge[];
}

/** A merge whose five steps are done. */
export interface CompletedMerge {
  readonly survivor: string;
  readonly merged: string;
  readonly at: string;
  /** The ledger entry of the message that asked for it; absent when a resolver finished another's merge. */
  readonly entry?: LedgerEntry;
}

export interface ResolveDeps {
  readonly store: IdentityStore;
  readonly identity: IdentityConfig;
  readonly clock: Clock;
  readonly metrics: ResolverMetrics;
  readonly logger: Logger;
  /** Hands on the batch's links and merges; rejecting fails the batch (it is redelivered). */
  readonly publish: (effects: ResolverEffects) => Promise<void>;
  readonly bounds?: ProfileBounds;
  /** Re-plans of one message after lost conditional writes before it is failed. Default 8. */
  readonly maxAttempts?: number;
  /**
   * Gives the event loop a turn; the resolver takes one every {@link RECORDS_PER_TURN} records of a
   * batch. Default: `setImmediate`.
   */
  readonly nextTurn?: () => Promise<void>;
  /** Coalesced profiles a batch writes at once. Default {@link LAND_CONCURRENCY}. */
  readonly landConcurrency?: number;
}

export interface BatchOutcome {
  /**
   * Indexes of the records the event source must deliver again: the first record that was not durably
   * resolved and every record after it (ascending).
   */
  readonly failed: readonly number[];
}

/**
 * Records resolved between two turns given to the event loop. Duplicates, and events of people whose
 * profile the batch has already read, wait on no I/O: without turns a 500-record batch of them holds
 * the event loop for its whole length. Where the resolver shares that loop — the local runtime, with
 * the collector and the APIs — requests are then answered between slices (over HTTP under a flood of
 * duplicates: ~45 % more events a second and the p99 ~35 % lower, `npm run bench -- ingest`). In
 * Lambda a turn costs microseconds.
 */
export const RECORDS_PER_TURN = 50;

/**
 * Coalesced profiles written at once when a batch lands them. Each is an item of its own, so their
 * writes are independent; one after the other, a batch that touched 150 profiles waits for 150 round
 * trips (5–10 ms each in DynamoDB) before it can be acknowledged.
 */
export const LAND_CONCURRENCY = 4;

/** Longest redirect chain followed before the graph is declared broken (a cycle cannot happen). */
const MAX_REDIRECTS = 32;

/**
 * The resolver: resolves each stream record to one persisted profile (DESIGN.md "Identity
 * resolution rules"), executing `planMerge`'s steps with single-item conditional writes.
 *
 * Within a batch it coalesces: an event that only adds to a profile (the usual case) changes the
 * profile in memory, and each changed profile is written once at the end of the batch. A record
 * counts as resolved only once everything it changed is written; `failed` lists the others, and the
 * event source delivers them again (every step is idempotent and `applyEvent` recognises a message
 * a profile already has, so a redelivery changes nothing that was done).
 */
export function createResolver(deps: ResolveDeps) {
  const bounds = deps.bounds ?? PROFILE_BOUNDS;
  const maxAttempts = deps.maxAttempts ?? 8;
  const nextTurn = deps.nextTurn ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const landConcurrency = deps.landConcurrency ?? LAND_CONCURRENCY;
  const { store, metrics } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  return async function resolveBatch(records: readonly StreamRecord[]): Promise<BatchOutcome> {
    const batch = new BatchState(
      store,
      (profile, again) => {
        let doc = profile;
        const present: number[] = [];
        for (const [index, record] of again) {
          const applied = applyEvent(doc, record, bounds);
          doc = applied.profile;
          if (applied.applied) continue;
          // Written meanwhile by another delivery of the message, which counted it.
          present.push(index);
          metrics.event(applied.skipped ?? 'duplicate');
        }
        return { profile: doc, present };
      },
      // Coalesced events count as applied once they are durable, in whatever write carried them.
      (count) => {
        for (let i = 0; i < count; i++) metrics.event('applied');
      },
    );
    const links: IdentityLink[] = [];
    /** The links handed on so far, so one is handed on once a batch. */
    const linked = new Set<string>();
    /** Messages whose earlier attempt's links this batch handed on again (`relink`). */
    const relinked = new Set<string>();
    const emit = (made: IdentityLink) => {
      const key = `${identifierKey(made.identifier)}\u0000${made.profileId}\u0000${made.linkedAt}`;
      if (linked.has(key)) return;
      linked.add(key);
      links.push(made);
    };
    const merges: CompletedMerge[] = [];
    const failed = new Set<number>();
    /**
     * Records whose event an attempt of this delivery wrote into a profile. When that attempt is then
     * re-planned (another resolver claimed an identifier first) the profile it wrote is merged, so
     * the next attempt finds the event there already: it was applied, by this delivery, once.
     */
    const wroteEvent = new Set<number>();
    /** Losers whose merge this batch is finishing (see `liveSlot`). */
    const finishing = new Set<string>();

    /** What was trimmed to keep profiles bounded in this batch, by code (logged once per batch). */
    const trimmed = new Map<string, number>();
    const warn = (warnings: readonly ProfileWarning[]) => {
      for (const warning of warnings) {
        metrics.profileWarning(warning.code);
        trimmed.set(warning.code, (trimmed.get(warning.code) ?? 0) + 1);
      }
    };

    // ---- reading the graph -------------------------------------------------------------------

    /** The live profile at the end of a redirect chain, finishing any merge met on the way. */
    async function liveSlot(profileId: string, record: StreamRecord): Promise<Slot> {
      let id = profileId;
      for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
        const slot = await batch.slot(id);
        if (slot === undefined) throw new Replan(`profile ${id} vanished`);
        const state = slot.record.state;
        if (state === 'retired') {
          id = slot.into as string;
          continue;
        }
        if (state === 'merging') {
          await finishMerge(slot, record);
          id = slot.into as string;
          continue;
        }
        for (const pending of slot.pendingFrom) {
          // A merge being finished right now (further up this call chain) is finished there: going
          // into it again would re-enter this survivor, meet the same note, and never end.
          if (!finishing.has(pending)) await finishPending(slot, pending, record);
        }
        return slot;
      }
      throw new Error(`redirect chain from profile ${profileId} longer than ${MAX_REDIRECTS}`);
    }

    /** A merge into `slot` that left re-pointing unfinished (steps 3–5). */
    async function finishPending(into: Slot, fromId: string, record: StreamRecord): Promise<void> {
      const from = await batch.slot(fromId, true);
      if (from !== undefined && from.record.state === 'merging') {
        await finishMerge(from, record);
        return;
      }
      await clearPending(into, fromId);
    }

    // ---- the merge protocol (see PlanStep 'merge') --------------------------------------------

    /** Steps 2–5 of the merge of a profile already marked as merging; idempotent, for any resolver. */
    async function finishMerge(from: Slot, record: StreamRecord): Promise<void> {
      const loser = from.doc as Profile;
      // The ledger entry came with the mark: whoever finishes the merge appends it (put if absent).
      const entry = from.record.state === 'merging' ? from.record.entry : undefined;
      finishing.add(loser.profileId);
      try {
        await finishMergeSteps(from, loser, record, entry);
      } finally {
        finishing.delete(loser.profileId);
      }
    }

    async function finishMergeSteps(
      from: Slot,
      loser: Profile,
      record: StreamRecord,
      entry: LedgerEntry | undefined,
    ): Promise<void> {
      const into = await liveSlot(from.into as string, record);
      if (entry !== undefined) await store.appendLedger([entry]);
      // Step 2: the survivor absorbs the loser (no-op if it already has), noting the loser as pending.
      if (isEmpty(loser)) {
        // A profile emptied because it lost its first claim (`retireUnclaimed`), met before it was
        // retired: nothing to absorb (and it may be older than the profile it redirects to), no merge.
        await store.retireProfile(loser.profileId, into.id);
        batch.forget(loser.profileId);
        return;
      }
      for (let attempt = 0; ; attempt++) {
        if (into.doc?.mergedFrom.includes(loser.profileId)) {
          // Absorbed earlier (with its note, or through another merge); only the tail of the protocol
          // may be missing. Writing the same document again would change nothing.
          break;
        }
        const merged = mergeProfiles(into.doc as Profile, loser, bounds);
        warn(merged.warnings);
        if (await batch.write(into, merged.profile, { addPending: loser.profileId })) break;
        metrics.conflict();
        if (attempt >= maxAttempts) throw new Error(`merge into ${into.id} kept conflicting`);
        await batch.refresh(into);
        if (into.record.state !== 'live') throw new Replan(`survivor ${into.id} is no longer live`);
      }
      // Step 3: re-point the loser's identifiers.
      const at = now();
      const by = causeOf(record);
      for (const identifier of loser.identities) {
        if (await store.repointIdentifier(identifier, loser.profileId, into.id, at, by)) {
          batch.owned(identifier, { profileId: into.id, linkedAt: at, by: { ...by, reason: 'merged' } });
          emit(link(identifier, into.id, at, by, 'merged'));
          continue;
        }
        // Moved already: by an earlier attempt that may have died before handing the link on, or by
        // another resolver finishing the same merge. Handed on (again) as the item records it.
        const owner = (await store.getOwners([identifier])).get(identifierKey(identifier));
        if (owner?.profileId === into.id && owner.by?.reason === 'merged') {
          batch.owned(identifier, owner);
          emit(link(identifier, into.id, owner.linkedAt, owner.by, 'merged'));
        }
      }
      // Step 4: the loser becomes a redirect.
      await store.retireProfile(loser.profileId, into.id);
      batch.forget(loser.profileId);
      // Step 5: the survivor no longer has the merge pending.
      await clearPending(into, loser.profileId);
      metrics.profileMerged();
      merges.push({ survivor: into.id, merged: loser.profileId, at, ...(entry ? { entry } : {}) });
    }

    async function clearPending(slot: Slot, fromId: string): Promise<void> {
      for (let attempt = 0; slot.pendingFrom.includes(fromId); attempt++) {
        if (await batch.write(slot, slot.doc as Profile, { removePending: fromId })) return;
        metrics.conflict();
        if (attempt >= maxAttempts) throw new Error(`clearing a merge on ${slot.id} kept conflicting`);
        await batch.refresh(slot);
        if (slot.record.state !== 'live') throw new Replan(`profile ${slot.id} is no longer live`);
      }
    }

    // ---- a lost claim ------------------------------------------------------------------------

    /**
     * Takes an identifier whose claim was lost off the live profile that lists it (the one this plan
     * wrote it to, or the survivor it has been merged into meanwhile), unless that profile owns it.
     */
    async function unlist(profileId: string, identifier: Identifier, record: StreamRecord): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        const slot = await liveSlot(profileId, record);
        await batch.refresh(slot);
        if (slot.record.state === 'live' && slot.doc !== undefined) {
          const doc = slot.doc;
          const without = detachIdentifiers(doc, [identifier]);
          if (without === doc) return;
          const ownerId = (await store.getOwners([identifier])).get(identifierKey(identifier))?.profileId;
          if (ownerId !== undefined && (await liveSlot(ownerId, record)).id === slot.id) return;
          if (await batch.write(slot, without)) return;
        }
        metrics.conflict();
        if (attempt >= maxAttempts) throw new Error(`taking an identifier off ${profileId} kept conflicting`);
      }
    }

    /**
     * The profile this plan created lost the claim of its first (highest-priority) identifier: nothing
     * points at it, and all it holds is this event, which the re-plan counts where the identifier
     * is. Emptied and retired (a redirect to the identifier's owner), it is never counted or met
     * again. (Left live, the event would count twice, once on a profile nobody can reach.)
     */
    async function retireUnclaimed(slot: Slot, ownerId: string): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        await batch.refresh(slot);
        if (slot.record.state !== 'live') break;
        const doc = slot.doc as Profile;
        if (await batch.write(slot, createProfile(doc.profileId, doc.createdAt))) break;
        metrics.conflict();
        if (attempt >= maxAttempts) throw new Error(`emptying ${slot.id} kept conflicting`);
      }
      const marked = await store.markMerging(slot.id, ownerId, slot.version);
      if (marked?.state === 'merging' && marked.into === ownerId) {
        await store.retireProfile(slot.id, ownerId);
      }
      batch.forget(slot.id);
    }

    // ---- one record --------------------------------------------------------------------------

    async function resolveOne(record: StreamRecord, index: number): Promise<void> {
      const extracted = extractIdentifiers(record, deps.identity);
      for (const rejected of extracted.rejected) metrics.identifierRejected(rejected.type, rejected.reason);
      if (extracted.identifiers.length === 0) {
        metrics.event('unresolvable');
        return;
      }
      for (let attempt = 1; ; attempt++) {
        try {
          await resolveAttempt(record, index, extracted.identifiers);
          return;
        } catch (error) {
          if (!(error instanceof Replan) || attempt >= maxAttempts) throw error;
          metrics.conflict();
          deps.logger.debug('re-planning a message', { reason: error.reason, attempt });
          batch.invalidate();
          // Read the rest of the batch again in two reads, not two per message (see `prefetch`).
          await prefetch(index);
        }
      }
    }

    async function resolveAttempt(record: StreamRecord, index: number, identifiers: readonly Identifier[]) {
      const ownerIds = await batch.owners(identifiers);
      // Items this message (re)pointed before: an earlier attempt got that far and may have died
      // before it handed the links on.
      const retried = batch.linkedBy(identifiers, causeOf(record));
      const owners = new Map<string, ProfileRef>();
      for (const identifier of identifiers) {
        const ownerId = ownerIds.get(identifierKey(identifier));
        if (ownerId === undefined) continue;
        const slot = await liveSlot(ownerId, record);
        owners.set(identifierKey(identifier), profileRef(slot.doc as Profile));
      }
      const plan = planMerge({ record, identifiers, owners, at: now() }, deps.identity);
      if (plan.outcome === 'unresolvable') {
        metrics.event('unresolvable');
        return;
      }
      await execute(plan, record, index);
      if (retried.length > 0) await relink(record, identifiers, retried);
    }

    /**
     * Hands on again the links an earlier attempt of this message made, as the items record them: those
     * of the message's own identifiers from what the batch read; after a merge also those of the
     * identifiers the survivor absorbed, which the message does not name (one read, only then).
     */
    async function relink(
      record: StreamRecord,
      identifiers: readonly Identifier[],
      found: ReadonlyArray<[Identifier, IdentifierOwner]>,
    ): Promise<void> {
      const cause = causeOf(record);
      // A message is its cause and its identifiers, as `profileIdFor` tells messages apart: another
      // person's message under a reused messageId has links of its own to hand on.
      const message = profileIdFor(record, identifiers);
      if (relinked.has(message)) return;
      relinked.add(message);
      let made = found;
      if (found.some(([, owner]) => owner.by?.reason === 'merged')) {
        const survivors = new Set<string>();
        const absorbed: Identifier[] = [];
        for (const ownerId of new Set((await batch.owners(identifiers)).values())) {
          const survivor = await liveSlot(ownerId, record);
          if (survivors.has(survivor.id)) continue;
          survivors.add(survivor.id);
          absorbed.push(...(survivor.doc as Profile).identities);
        }
        const owners = await store.getOwners(absorbed);
        made = absorbed.flatMap((id): Array<[Identifier, IdentifierOwner]> => {
          const owner = owners.get(identifierKey(id));
          return owner?.by !== undefined && sameCause(owner.by, cause) ? [[id, owner]] : [];
        });
        await reannounce(cause, [...survivors]);
      }
      for (const [id, owner] of made) {
        emit(link(id, owner.profileId, owner.linkedAt, cause, owner.by?.reason ?? 'linked'));
      }
    }

    /**
     * Hands on again the merges this message asked for that are done (the loser is a redirect), from
     * the survivors' ledgers: an earlier attempt may have died after finishing them and
     * before announcing them. One ledger read and one profile read, only after a merge.
     */
    async function reannounce(cause: LinkCause, survivors: readonly string[]): Promise<void> {
      const announced = new Set(merges.flatMap((merge) => (merge.entry ? [merge.entry.id] : [])));
      const asked = (await store.listLedger(survivors)).filter(
        (entry) => isMergeEntry(entry) && sameCause(entry, cause) && !announced.has(entry.id),
      );
      if (asked.length === 0) return;
      const losers = await store.getProfiles(asked.map((entry) => entry.from as string));
      for (const entry of asked) {
        const loser = losers.get(entry.from as string);
        if (loser?.state !== 'retired') continue;
        merges.push({ survivor: entry.to, merged: entry.from as string, at: entry.at, entry });
      }
    }

    async function execute(
      plan: Extract<MergePlan, { outcome: 'resolved' }>,
      record: StreamRecord,
      index: number,
    ) {
      const { target } = plan;
      let slot: Slot;
      if (target.isNew) {
        slot = batch.fresh(createProfile(target.profileId, target.createdAt));
      } else {
        slot = await liveSlot(target.profileId, record);
        if (slot.id !== target.profileId) throw new Replan(`target ${target.profileId} moved`);
      }

      // Merges: mark each loser (after landing what this batch holds for it), then steps 2–5.
      for (const step of plan.steps) {
        if (step.kind !== 'merge') continue;
        const from = await liveSlot(step.from, record);
        if (from.id !== step.from) throw new Replan(`profile ${step.from} moved`);
        if (!(await batch.land(from))) throw new Replan(`profile ${from.id} changed`);
        // The mark holds only on the version this plan read, and carries the merge's ledger entry.
        const marked = await store.markMerging(from.id, slot.id, from.version, step.ledger[0]);
        if (marked?.state !== 'merging' || marked.into !== slot.id) {
          throw new Replan(`profile ${from.id} could not be marked for merging`);
        }
        batch.set(from, marked);
        await finishMerge(from, record);
        if (slot.record.state !== 'live') throw new Replan(`survivor ${slot.id} is no longer live`);
      }

      // Links and the event itself: the profile first (listing the identifiers), then the claims.
      const linkIds = plan.steps.flatMap((step) => (step.kind === 'link' ? [step.identifier] : []));
      const listed = attachIdentifiers(slot.doc as Profile, linkIds);
      // The event goes into that same write only if a lost claim cannot move it to another profile:
      // when the target already owns the event's highest-priority identifier, or the target is new and
      // claims it first. A re-plan starts from that identifier, so it lands on this profile again (or
      // on a merge that includes it). Otherwise — a new identifier outranks all the target owns — the
      // re-plan may pick another profile, and an event already written here would count twice: it is
      // applied only once every claim has held.
      const withLinks =
        target.isNew ||
        !linkIds.some((id) => identifierKey(id) === identifierKey(plan.kept[0] as Identifier));
      let applied = applyEvent(listed, record, bounds);

      if (target.isNew || linkIds.length > 0) {
        const written = withLinks ? applied.profile : listed;
        if (target.isNew) {
          if (!(await store.createProfile(written))) {
            // The id is derived from this message's source, messageId and identifiers, so the profile
            // is one an earlier attempt of this message created before it died or lost its first claim.
            // Continue on it only if it is exactly that: it holds this event (or nothing, emptied) and
            // lists only identifiers this plan links. Then the links give it the identifiers the plan
            // counted, within every limit; anything else would attach them to someone else's profile.
            await batch.refresh(slot);
            if (slot.record.state !== 'live') throw new Replan(`profile ${slot.id} is not live`);
            const existing = slot.doc as Profile;
            if (!listsOnly(existing, linkIds) || !(hasApplied(existing, record) || isEmpty(existing))) {
              throw new IdentityInvariantError(
                `profile ${slot.id} exists but was not created by this message; its identifiers are not attached to it`,
              );
            }
            return execute({ ...plan, target: { ...target, isNew: false } }, record, index);
          }
          metrics.profileCreated();
          batch.created(slot, written);
        } else if (!(await batch.write(slot, written))) {
          throw new Replan(`profile ${slot.id} changed`);
        }
        if (withLinks && applied.applied) wroteEvent.add(index);
        const at = now();
        for (const [i, identifier] of linkIds.entries()) {
          const owner = await store.claimIdentifier(identifier, slot.id, at, causeOf(record));
          if (owner.profileId !== slot.id) {
            // Another resolver linked it first: take it off this profile again and re-plan.
            if (target.isNew && i === 0) {
              // Emptied: the event is no longer written anywhere; the re-plan applies it again.
              await retireUnclaimed(slot, owner.profileId);
              wroteEvent.delete(index);
            } else await unlist(slot.id, identifier, record);
            throw new Replan('identifier claimed by another profile');
          }
          batch.owned(identifier, owner);
          // Also when an earlier attempt made the claim: a repeated row names the same profile.
          emit(link(identifier, slot.id, owner.linkedAt, owner.by ?? causeOf(record), 'linked'));
        }
        if (!withLinks) {
          // Every claim held: now the event counts here (coalesced like any other).
          applied = applyEvent(slot.doc as Profile, record, bounds);
          if (applied.applied) batch.defer(slot, applied.profile, index, record);
        }
      } else if (applied.applied) {
        batch.defer(slot, applied.profile, index, record);
      }
      warn(applied.warnings);
      if (!applied.applied) {
        // A duplicate that an earlier attempt of this delivery wrote (then re-planned) was applied here.
        const earlier = applied.skipped === 'duplicate' && wroteEvent.has(index);
        metrics.event(earlier ? 'applied' : (applied.skipped ?? 'duplicate'));
      } else if (wroteEvent.has(index)) metrics.event('applied');
      // A coalesced event (deferred) counts when a write lands it (see the batch state's listener).
      for (const drop of plan.dropped) metrics.identifierDropped(drop.identifier.type, drop.limitType);
      const drops = plan.steps.flatMap((step) => (step.kind === 'apply_event' ? step.ledger : []));
      if (drops.length > 0) await store.appendLedger(drops);
    }

    // ---- the batch ---------------------------------------------------------------------------

    /**
     * One read for the owners of every identifier of the records from `from` on and one for their
     * profiles, instead of a read per message: at the start of the batch, and again after a re-plan
     * emptied the read cache (a failed prefetch only means each message reads for itself).
     */
    async function prefetch(from: number): Promise<void> {
      try {
        const all = records
          .slice(from)
          .flatMap((record) => extractIdentifiers(record, deps.identity).identifiers);
        const owners = await batch.owners(all);
        await batch.prefetch([...new Set(owners.values())]);
      } catch (error) {
        deps.logger.warn('prefetching the batch failed; messages read one by one', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }

    await prefetch(0);

    let stopped = false;
    for (const [index, record] of records.entries()) {
      if (index > 0 && index % RECORDS_PER_TURN === 0) await nextTurn();
      if (stopped) {
        failed.add(index);
        continue;
      }
      try {
        await resolveOne(record, index);
      } catch (error) {
        // The event source restarts from the first failed record: the rest will come again.
        deps.logger.error('resolving a message failed; it will be delivered again', {
          error: error instanceof Error ? error.message : String(error),
          messageIndex: index,
        });
        failed.add(index);
        stopped = true;
      }
    }

    // Land the coalesced profiles, `landConcurrency` at once (each is its own item; a write lost to
    // another resolver is re-read and re-applied on its own); records on a profile merged away
    // meanwhile are resolved again, one by one.
    for (let round = 0; round < maxAttempts; round++) {
      await forEachConcurrently(batch.dirtySlots(), landConcurrency, async (slot) => {
        try {
          await landDeferred(slot);
        } catch (error) {
          deps.logger.error('writing a profile failed; its messages will be delivered again', {
            error: error instanceof Error ? error.message : String(error),
          });
          for (const index of slot.deferred.keys()) failed.add(index);
          slot.deferred.clear();
        }
      });
      if (batch.orphans.size === 0) break;
      const orphans = [...batch.orphans.entries()];
      batch.orphans.clear();
      for (const [index, record] of orphans) {
        try {
          await resolveOne(record, index);
        } catch {
          failed.add(index);
        }
      }
    }
    for (const [index] of batch.orphans) failed.add(index);
    for (const slot of batch.dirtySlots()) for (const index of slot.deferred.keys()) failed.add(index);

    if (trimmed.size > 0) {
      // Codes and counts only: which trait or value was cut stays out of the logs (it may be PII).
      deps.logger.warn('profiles trimmed to stay within their bounds; the events were applied', {
        trimmed: Object.fromEntries(trimmed),
      });
    }
    await deps.publish({ links, merges });
    // The event source delivers again from the first failed record on (a Kinesis event source mapping
    // checkpoints at the lowest failed sequence number), so that is what is reported: a record after it
    // that happened to be written is delivered again anyway, and recognised as a duplicate.
    const first = Math.min(...failed);
    return { failed: failed.size === 0 ? [] : records.map((_, index) => index).slice(first) };

    /** Writes a coalesced profile, applying its records again to what is stored after a lost write. */
    async function landDeferred(slot: Slot): Promise<void> {
      for (let attempt = 0; slot.deferred.size > 0; attempt++) {
        if (await batch.land(slot)) return;
        metrics.conflict();
        if (attempt >= maxAttempts) throw new Error(`profile ${slot.id} kept conflicting`);
        // Re-applies the deferred records to a live profile, or hands them back as orphans.
        await batch.refresh(slot);
      }
    }
  };

  function causeOf(record: StreamRecord): LinkCause {
    return { source: record.source, messageId: record.messageId };
  }

  /** The lake row of a (re)pointing, naming the message that caused it. */
  function link(
    identifier: Identifier,
    profileId: string,
    at: string,
    by: LinkCause,
    reason: IdentityLink['reason'],
  ): IdentityLink {
    return { identifier, profileId, linkedAt: at, source: by.source, messageId: by.messageId, reason };
  }
}

/** A profile without identities or events: one emptied by `retireUnclaimed`. */
function isEmpty(profile: Profile): boolean {
  return profile.identities.length === 0 && profile.eventCount === 0;
}
