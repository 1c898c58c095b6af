import type { StreamRecord } from '../core/events/stream-record';
import { type Identifier, identifierKey } from '../core/identity/identifier';
import type { Profile } from '../core/profile/profile';
import type { IdentifierOwner, IdentityStore, LinkCause, ProfileRecord } from '../ports/identity-store';

/** A conditional write lost: another resolver changed the graph; re-read and re-plan. */
export class Replan extends Error {
  constructor(readonly reason: string) {
    super(`re-plan: ${reason}`);
  }
}

/** A profile as this batch knows it: what was read, what it changed in memory, and which records wait on it. */
export interface Slot {
  readonly id: string;
  record: ProfileRecord | { readonly state: 'new' };
  /** Current data (with this batch's unwritten changes); undefined for a retired profile. */
  doc: Profile | undefined;
  version: number;
  into: string | undefined;
  pendingFrom: readonly string[];
  /** Records whose changes are only in `doc` (coalesced), by batch index. */
  deferred: Map<number, StreamRecord>;
}

/** The batch's read cache over the store, and its unwritten (coalesced) profile changes. */
export class BatchState {
  private readonly slots = new Map<string, Slot>();
  private readonly ownerCache = new Map<string, string>();
  /** The identifier items as last read or written by this batch, where they record their cause. */
  private readonly caused = new Map<string, IdentifierOwner>();
  private readonly stale = new Set<string>();
  /** Deferred records whose profile was merged away before they were written: to resolve again. */
  readonly orphans = new Map<number, StreamRecord>();

  constructor(
    private readonly store: IdentityStore,
    /**
     * Applies deferred records again to a profile read anew (idempotent: it recognises what it
     * already has); `present` are the records the profile already held, which need no write.
     */
    private readonly reapply: (
      profile: Profile,
      records: ReadonlyMap<number, StreamRecord>,
    ) => { readonly profile: Profile; readonly present: readonly number[] },
    /** Told how many deferred records a successful write made durable. */
    private readonly landed: (count: number) => void = () => {},
  ) {}

  /** After a lost write: everything read may be out of date; read it again on next use. */
  invalidate(): void {
    this.ownerCache.clear();
    this.caused.clear();
    for (const [id, slot] of this.slots) {
      if (slot.deferred.size === 0) this.slots.delete(id);
      else this.stale.add(id);
    }
  }

  async owners(identifiers: readonly Identifier[]): Promise<Map<string, string>> {
    const missing = identifiers.filter((id) => !this.ownerCache.has(identifierKey(id)));
    if (missing.length > 0) {
      const read = await this.store.getOwners(missing);
      for (const id of missing) {
        const key = identifierKey(id);
        const owner = read.get(key);
        // Remember "no owner" too, as the empty string: this batch claims it if it links it.
        this.ownerCache.set(key, owner?.profileId ?? '');
        if (owner?.by !== undefined) this.caused.set(key, owner);
        else this.caused.delete(key);
      }
    }
    const result = new Map<string, string>();
    for (const id of identifiers) {
      const owner = this.ownerCache.get(identifierKey(id));
      if (owner) result.set(identifierKey(id), owner);
    }
    return result;
  }

  /** Records the owner an item now has (after this batch claimed or re-pointed it). */
  owned(identifier: Identifier, owner: IdentifierOwner): void {
    this.ownerCache.set(identifierKey(identifier), owner.profileId);
    if (owner.by !== undefined) this.caused.set(identifierKey(identifier), owner);
    else this.caused.delete(identifierKey(identifier));
  }

  /** The items of these identifiers, as last read or written, that say `by` (re)pointed them. */
  linkedBy(identifiers: readonly Identifier[], by: LinkCause): Array<[Identifier, IdentifierOwner]> {
    const found: Array<[Identifier, IdentifierOwner]> = [];
    if (this.caused.size === 0) return found;
    for (const id of identifiers) {
      const owner = this.caused.get(identifierKey(id));
      if (owner?.by !== undefined && sameCause(owner.by, by)) found.push([id, owner]);
    }
    return found;
  }

  /** The profile's slot, read on first use (or again with `reread`); undefined if it does not exist. */
  async slot(profileId: string, reread = false): Promise<Slot | undefined> {
    const known = this.slots.get(profileId);
    if (known !== undefined && !reread && !this.stale.has(profileId)) return known;
    const record = (await this.store.getProfiles([profileId])).get(profileId);
    if (record === undefined) return undefined;
    if (known !== undefined) {
      this.set(known, record);
      return known;
    }
    return this.adopt(profileId, record);
  }

  /** Reads the profiles not yet known in one call (chunked by the store). */
  async prefetch(profileIds: readonly string[]): Promise<void> {
    const missing = profileIds.filter((id) => !this.slots.has(id));
    if (missing.length === 0) return;
    for (const [id, record] of await this.store.getProfiles(missing)) this.adopt(id, record);
  }

  /** A new slot for a profile just read. */
  private adopt(profileId: string, record: ProfileRecord): Slot {
    const slot: Slot = {
      id: profileId,
      record,
      doc: undefined,
      version: 0,
      into: undefined,
      pendingFrom: [],
      deferred: new Map(),
    };
    this.set(slot, record);
    this.slots.set(profileId, slot);
    return slot;
  }

  /** A slot for a profile this batch is about to create. */
  fresh(profile: Profile): Slot {
    return {
      id: profile.profileId,
      record: { state: 'new' },
      doc: profile,
      version: 0,
      into: undefined,
      pendingFrom: [],
      deferred: new Map(),
    };
  }

  created(slot: Slot, profile: Profile): void {
    slot.record = { state: 'live', profile, version: 1, pendingFrom: [] };
    slot.doc = profile;
    slot.version = 1;
    this.slots.set(slot.id, slot);
  }

  /**
   * Takes what the store says. Records deferred on the slot are applied again to a live profile; if
   * the profile is no longer live they become orphans, resolved again from scratch.
   */
  set(slot: Slot, record: ProfileRecord): void {
    this.stale.delete(slot.id);
    slot.record = record;
    slot.version = record.version;
    slot.doc = record.state === 'retired' ? undefined : record.profile;
    slot.into = record.state === 'live' ? undefined : record.into;
    slot.pendingFrom = record.state === 'retired' ? [] : record.pendingFrom;
    if (slot.deferred.size === 0) return;
    if (record.state === 'live') {
      const again = this.reapply(record.profile, slot.deferred);
      slot.doc = again.profile;
      for (const index of again.present) slot.deferred.delete(index);
    } else {
      for (const [index, deferred] of slot.deferred) this.orphans.set(index, deferred);
      slot.deferred.clear();
    }
  }

  async refresh(slot: Slot): Promise<void> {
    const record = (await this.store.getProfiles([slot.id])).get(slot.id);
    if (record === undefined) throw new Replan(`profile ${slot.id} vanished`);
    this.set(slot, record);
    if (!this.slots.has(slot.id)) this.slots.set(slot.id, slot);
  }

  forget(profileId: string): void {
    this.slots.delete(profileId);
  }

  /**
   * Writes `profile` over the slot's profile (conditional on the version read), together with the
   * changes deferred on it, which are then durable. False on a conflict (nothing changed in memory).
   */
  async write(
    slot: Slot,
    profile: Profile,
    options?: { readonly addPending?: string; readonly removePending?: string },
  ): Promise<boolean> {
    const version = await this.store.writeProfile(profile, slot.version, options);
    if (version === undefined) return false;
    const pendingFrom = new Set(slot.pendingFrom);
    if (options?.addPending !== undefined) pendingFrom.add(options.addPending);
    if (options?.removePending !== undefined) pendingFrom.delete(options.removePending);
    slot.version = version;
    slot.doc = profile;
    slot.pendingFrom = [...pendingFrom].sort();
    slot.record = { state: 'live', profile, version, pendingFrom: slot.pendingFrom };
    if (slot.deferred.size > 0) this.landed(slot.deferred.size);
    slot.deferred.clear();
    return true;
  }

  /** Records a coalesced change: `profile` now includes `record`, to be written by `land`. */
  defer(slot: Slot, profile: Profile, index: number, record: StreamRecord): void {
    slot.doc = profile;
    slot.deferred.set(index, record);
  }

  /** Writes the slot if it holds deferred changes; false on a conflict. */
  async land(slot: Slot): Promise<boolean> {
    if (slot.deferred.size === 0) return true;
    return this.write(slot, slot.doc as Profile);
  }

  dirtySlots(): Slot[] {
    return [...this.slots.values()].filter((slot) => slot.deferred.size > 0);
  }
}

export function sameCause(a: LinkCause, b: LinkCause): boolean {
  return a.messageId === b.messageId && a.source === b.source;
}
