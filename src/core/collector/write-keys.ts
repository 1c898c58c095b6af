import { HashedKeySet, hashKey } from '../auth/hashed-keys';
import type { SourcesConfig } from '../config/sources';

/** Hex SHA-256 of a write key: the only form in which keys are configured or stored. */
export const hashWriteKey: (key: string) => string = hashKey;

/**
 * Resolves a presented write key to its source. The key is hashed and compared against every
 * configured hash in constant time (no early exit), so timing reveals nothing about which keys exist.
 */
export class WriteKeyRegistry {
  private readonly keys: HashedKeySet<string>;

  constructor(sources: SourcesConfig) {
    this.keys = new HashedKeySet(
      sources.flatMap((source) =>
        source.keys.map((key) => ({ sha256: key.sha256, owner: source.name, revoked: key.revoked })),
      ),
    );
  }

  /** The source name for an active key; `undefined` for an unknown or revoked key. */
  authenticate(presentedKey: string | undefined): string | undefined {
    if (presentedKey === undefined) return undefined;
    const match = this.keys.match(presentedKey);
    return match !== undefined && !match.revoked ? match.owner : undefined;
  }
}
