import type { IdentityLink } from '../core/identity/identity-link';

export type { IdentityLink } from '../core/identity/identity-link';

/**
 * Where the resolver appends identity links, the history of which profile each identifier pointed
 * at: the lake's `identity_links` table (Firehose → S3 in AWS, Parquet files under the local lake
 * otherwise).
 */
export interface IdentityLinkSink {
  /**
   * Hands every link over durably: resolves only once each one will land in the table; rejects
   * otherwise (the resolver then fails its records, and they are redelivered). A link put again after a
   * rejection may land twice; readers take the latest row per identifier, so a repeat changes nothing.
   */
  put(links: readonly IdentityLink[]): Promise<void>;
}
