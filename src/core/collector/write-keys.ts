import { createHash, timingSafeEqual } from 'node:crypto';
import type { SourcesConfig } from '../config/sources';

/** Hex SHA-256 of a write key: the only form in which keys are configured or stored. */
export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

interface KeyEntry {
  readonly digest: Buffer;
  readonly source: string;
  readonly revoked: boolean;
}

/**
 * Resolves a presented write key to its source. The key is hashed and compared against every
 * configured hash in constant time (no early exit), so timing reveals nothing about which keys exist.
 */
export class WriteKeyRegistry {
  private readonly entries: readonly KeyEntry[];

  constructor(sources: SourcesConfig) {
    this.entries = sources.flatMap((source) =>
      source.keys.map((key) => ({
        digest: Buffer.from(key.sha256, 'hex'),
        source: source.name,
        revoked: key.revoked,
      })),
    );
  }

  /** The source name for an active key; `undefined` for an unknown or revoked key. */
  authenticate(presentedKey: string | undefined): string | undefined {
    if (presentedKey === undefined || presentedKey.length === 0 || presentedKey.length > 1024)
      return undefined;
    const digest = createHash('sha256').update(presentedKey, 'utf8').digest();
    let match: KeyEntry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) match = entry;
    }
    return match !== undefined && !match.revoked ? match.source : undefined;
  }
}
