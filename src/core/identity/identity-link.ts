import type { Identifier } from './identifier';

/**
 * Why an identifier was (re)pointed at a profile: `linked` — first seen, attached to a profile;
 * `merged` — its profile was merged into the survivor; `repointed` — moved to another profile by a
 * repair (a retry converging, a component rebuilt).
 */
export type IdentityLinkReason = 'linked' | 'merged' | 'repointed';

/**
 * One fact of the identity graph's history: from `linkedAt` on, `identifier` belongs to `profileId`.
 * The resolver appends one whenever it (re)points an identifier; the lake's `identity_links` table
 * keeps them all, and the latest per identifier is the truth.
 */
export interface IdentityLink {
  readonly identifier: Identifier;
  readonly profileId: string;
  /** ISO-8601 UTC time the link was made; also the row's `dt`/`hour` partition. */
  readonly linkedAt: string;
  /** The source (write key's name) of the message that caused the link. */
  readonly source: string;
  /** The message that caused the link. */
  readonly messageId: string;
  readonly reason: IdentityLinkReason;
}
