import { hash, timingSafeEqual } from 'node:crypto';

/** Hex SHA-256 of a key (UTF-8): the only form in which write keys and admin keys are configured or stored. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Longer presented keys are refused before they are hashed (no configured key is that long). */
export const MAX_PRESENTED_KEY_LENGTH = 1024;

/** One configured key: its hash, whom it belongs to, and whether it has been revoked. */
export interface HashedKey<Owner> {
  /** Lowercase hex SHA-256 of the key. */
  readonly sha256: string;
  readonly owner: Owner;
  readonly revoked: boolean;
}

/** What a presented key matched. */
export interface KeyMatch<Owner> {
  readonly owner: Owner;
  readonly revoked: boolean;
}

interface Entry<Owner> {
  readonly digest: Buffer;
  readonly owner: Owner;
  readonly revoked: boolean;
}

/**
 * Configured keys, held only as hashes. A presented key is hashed and compared against every
 * configured hash in constant time, with no early exit, so timing reveals nothing about which keys
 * exist or which one matched. Shared by the collector's write keys and the Profile API's admin keys.
 */
export class HashedKeySet<Owner> {
  private readonly entries: readonly Entry<Owner>[];

  constructor(keys: Iterable<HashedKey<Owner>>) {
    this.entries = [...keys].map((key) => ({
      digest: Buffer.from(key.sha256, 'hex'),
      owner: key.owner,
      revoked: key.revoked,
    }));
  }

  /**
   * The configured key the presented one hashes to, or `undefined` (also for an empty key or one
   * longer than {@link MAX_PRESENTED_KEY_LENGTH}). Should one hash be configured both active and
   * revoked, the revoked entry wins: a mistake fails closed.
   */
  match(presentedKey: string): KeyMatch<Owner> | undefined {
    if (presentedKey.length === 0 || presentedKey.length > MAX_PRESENTED_KEY_LENGTH) return undefined;
    // One-shot (no Hash object): every collector request pays this, and it costs half as much.
    const digest = hash('sha256', presentedKey, 'buffer');
    let found: Entry<Owner> | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && (found === undefined || entry.revoked)) found = entry;
    }
    return found === undefined ? undefined : { owner: found.owner, revoked: found.revoked };
  }
}
