import { compareStrings, type Identifier, identifierKey } from '../../src/core/identity/identifier';
import type { LedgerEntry } from '../../src/core/identity/merge-plan';
import type { Profile } from '../../src/core/profile/profile';
import type { IdentifierOwner, ProfileRecord } from '../../src/ports/identity-store';
import type { ProfileReader } from '../../src/use-cases/profile-query';

/**
 * The read half of the `IdentityStore` port over Maps, for the Profile API's unit and handler tests:
 * the graph is seeded directly (live, merging and retired profiles, owners, ledger entries), as the
 * resolver would have left it. It follows the port's contract: consistent reads, ledger entries by
 * `to`, oldest first. It counts calls so tests can see how many reads a lookup costs.
 */
export class MemoryProfileReader implements ProfileReader {
  private readonly owners = new Map<string, IdentifierOwner>();
  private readonly profiles = new Map<string, ProfileRecord>();
  private readonly ledger = new Map<string, LedgerEntry>();
  readonly calls = { getOwners: 0, getProfiles: 0, listLedger: 0 };
  /** When set, every read rejects with it (the store cannot be reached). */
  failure: Error | undefined;

  /** A live profile, and its identities pointed at it. */
  putLive(profile: Profile): this {
    this.profiles.set(profile.profileId, { state: 'live', profile, version: 1, pendingFrom: [] });
    for (const identifier of profile.identities) this.own(identifier, profile.profileId);
    return this;
  }

  /** A profile whose merge into `into` has started (merge step 1); its identities still point at it. */
  putMerging(profile: Profile, into: string): this {
    this.profiles.set(profile.profileId, { state: 'merging', profile, version: 2, into, pendingFrom: [] });
    for (const identifier of profile.identities) this.own(identifier, profile.profileId);
    return this;
  }

  /** A profile merged into `into`: only the redirect is left. */
  putRetired(profileId: string, into: string, createdAt = '2026-01-01T00:00:00.000Z'): this {
    this.profiles.set(profileId, { state: 'retired', profileId, createdAt, version: 3, into });
    return this;
  }

  /** Points an identifier at a profile (which need not exist: a dangling owner). */
  own(identifier: Identifier, profileId: string, linkedAt = '2026-01-01T00:00:00.000Z'): this {
    this.owners.set(identifierKey(identifier), { profileId, linkedAt });
    return this;
  }

  appendLedger(entries: readonly LedgerEntry[]): this {
    for (const entry of entries) if (!this.ledger.has(entry.id)) this.ledger.set(entry.id, entry);
    return this;
  }

  async getOwners(identifiers: readonly Identifier[]): Promise<Map<string, IdentifierOwner>> {
    this.calls.getOwners++;
    this.throwIfFailing();
    const found = new Map<string, IdentifierOwner>();
    for (const identifier of identifiers) {
      const key = identifierKey(identifier);
      const owner = this.owners.get(key);
      if (owner !== undefined) found.set(key, owner);
    }
    return found;
  }

  async getProfiles(profileIds: readonly string[]): Promise<Map<string, ProfileRecord>> {
    this.calls.getProfiles++;
    this.throwIfFailing();
    const found = new Map<string, ProfileRecord>();
    for (const id of profileIds) {
      const record = this.profiles.get(id);
      if (record !== undefined) found.set(id, record);
    }
    return found;
  }

  async listLedger(profileIds: readonly string[]): Promise<LedgerEntry[]> {
    this.calls.listLedger++;
    this.throwIfFailing();
    const ids = new Set(profileIds);
    return [...this.ledger.values()]
      .filter((entry) => ids.has(entry.to))
      .sort((a, b) => compareStrings(a.at, b.at) || compareStrings(a.id, b.id));
  }

  private throwIfFailing(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
