import type { Identifier } from '../core/identity/identifier';
import type { LedgerEntry } from '../core/identity/merge-plan';
import type { Profile } from '../core/profile/profile';

/**
 * A profile as the identity graph holds it. Every write to a profile is conditional on `version`, so
 * two resolvers never overwrite each other's work; the loser re-reads and tries again.
 * - `live`: events are applied to it. `pendingFrom` lists profiles merged into it whose identifiers
 *   are still being re-pointed (merge steps 3–5 of `planMerge`).
 * - `merging`: a merge into `into` has started; no event is applied to it any more. Whoever meets it
 *   finishes the merge first.
 * - `retired`: merged into `into`; only the redirect is left (its data lives in the survivor).
 */
export type ProfileRecord =
  | {
      readonly state: 'live';
      readonly profile: Profile;
      readonly version: number;
      readonly pendingFrom: readonly string[];
    }
  | {
      readonly state: 'merging';
      readonly profile: Profile;
      readonly version: number;
      readonly into: string;
      readonly pendingFrom: readonly string[];
      /** The merge ledger entry written with the mark (an outbox: whoever finishes the merge appends it). */
      readonly entry?: LedgerEntry;
    }
  | {
      readonly state: 'retired';
      readonly profileId: string;
      readonly createdAt: string;
      readonly version: number;
      readonly into: string;
    };

/** The message whose resolution (re)pointed an identifier. */
export interface LinkCause {
  readonly source: string;
  readonly messageId: string;
}

/** What one identifier item says: which profile owns it, since when, and (if recorded) why. */
export interface IdentifierOwner {
  readonly profileId: string;
  /** When it was (re)pointed at that profile (ISO-8601). */
  readonly linkedAt: string;
  /**
   * The message that (re)pointed it, and how: `linked` by a claim, `merged` by a merge's re-point.
   * Kept on the item so a retry of that message after a crash, which finds the work already done,
   * can still hand the link on to the lake (written in the same write as the pointer itself).
   */
  readonly by?: LinkCause & { readonly reason: 'linked' | 'merged' };
}

/**
 * The identity graph and profiles (DynamoDB in AWS; dynalite, through the same adapter, locally).
 * Every write is a single-item conditional write: the embedded engine has no transactions, and the
 * merge protocol (see `planMerge`) is built so that it does not need them.
 *
 * Writes resolve with their outcome; they reject only when the store could not be reached or
 * refused the call (then the caller may assume nothing about that write and retries the message).
 */
export interface IdentityStore {
  /** The owners of the identifiers that have one, keyed by `identifierKey`. */
  getOwners(identifiers: readonly Identifier[]): Promise<Map<string, IdentifierOwner>>;
  /** The profiles that exist among these ids, keyed by profile id. Consistent reads. */
  getProfiles(profileIds: readonly string[]): Promise<Map<string, ProfileRecord>>;

  /** Puts a new live profile (version 1) unless one with its id exists; false if it did. */
  createProfile(profile: Profile): Promise<boolean>;
  /**
   * Replaces a live profile's data if it is still at `expectedVersion` and not merging; resolves with
   * the new version, or `undefined` on a conflict. `addPending` / `removePending` change its
   * `pendingFrom` in the same write.
   */
  writeProfile(
    profile: Profile,
    expectedVersion: number,
    options?: { readonly addPending?: string; readonly removePending?: string },
  ): Promise<number | undefined>;

  /**
   * Points the identifier at the profile if no profile owns it; resolves with the owner afterwards
   * (the given profile when the claim held or had already been made, another one if it lost).
   * `by`, the message claiming it, is kept on the item (reason `linked`).
   */
  claimIdentifier(
    identifier: Identifier,
    profileId: string,
    at: string,
    by?: LinkCause,
  ): Promise<IdentifierOwner>;
  /**
   * Re-points the identifier from one profile to another if `from` still owns it; false otherwise.
   * `by`, the message whose merge re-points it, is kept on the item (reason `merged`).
   */
  repointIdentifier(
    identifier: Identifier,
    from: string,
    to: string,
    at: string,
    by?: LinkCause,
  ): Promise<boolean>;

  /**
   * Merge step 1: marks a live profile still at `expectedVersion` as merging into `into`, keeping the
   * merge's ledger `entry` in the same write (so a crash cannot leave a merge the ledger does not
   * explain). Resolves with the record afterwards: merging into `into` means the mark holds (now or
   * from an earlier attempt); anything else — another version, another state, another `into` — means
   * the caller must re-read and re-plan (the plan was made on a profile that has changed since).
   */
  markMerging(
    profileId: string,
    into: string,
    expectedVersion: number,
    entry?: LedgerEntry,
  ): Promise<ProfileRecord | undefined>;
  /** Merge step 4: turns a merging profile into a redirect to `into` (idempotent). */
  retireProfile(profileId: string, into: string): Promise<void>;

  /** Appends ledger entries, each once (put if absent by `entry.id`). */
  appendLedger(entries: readonly LedgerEntry[]): Promise<void>;
  /** The ledger entries written for these profiles (as `to`), oldest first. */
  listLedger(profileIds: readonly string[]): Promise<LedgerEntry[]>;
}
