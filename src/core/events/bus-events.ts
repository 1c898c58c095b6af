import { z } from 'zod';
import type { LedgerEntry } from '../identity/merge-plan';
import type { BusEvent } from './bus-event';

/**
 * The detail schemas of the events Mosaic publishes, versioned: a consumer reads `version` and
 * ignores versions it does not know. A new field that old consumers can ignore keeps the version; a
 * change in meaning or a removed field makes a new one, published beside the old one for a while.
 * Details never carry identifier values (PII): only types and profile ids.
 */

export const PROFILE_MERGED = 'Profile Merged';

/**
 * `Profile Merged` v1: the profile `mergedProfileId` was merged into the survivor `profileId`
 * because message `messageId` (from `source`) carried an identifier of type `identifier.type` of both.
 * `ledgerEntryId` is the merge ledger entry's id: the same merge is always published with the same
 * id, so consumers dedupe on it (delivery is at least once).
 */
export const ProfileMergedDetail = z
  .object({
    version: z.literal(1),
    ledgerEntryId: z.string().min(1),
    profileId: z.string().min(1),
    mergedProfileId: z.string().min(1),
    identifier: z.object({ type: z.string().min(1) }).strict(),
    messageId: z.string().min(1),
    source: z.string().min(1),
    at: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ProfileMergedDetail = z.infer<typeof ProfileMergedDetail>;

/** A merge ledger entry: `from` the merged profile, `to` the survivor. */
export type MergeLedgerEntry = LedgerEntry & { readonly reason: 'merged'; readonly from: string };

/** Whether a ledger entry records a merge (and so has a `Profile Merged` event). */
export function isMergeEntry(entry: LedgerEntry): entry is MergeLedgerEntry {
  return entry.reason === 'merged' && entry.from !== null;
}

/**
 * The `Profile Merged` event of a merge ledger entry, timed when the merge was planned. Its detail is
 * checked against {@link ProfileMergedDetail} (throws a `ZodError` for an entry that breaks it).
 */
export function profileMergedEvent(
  entry: MergeLedgerEntry,
): BusEvent & { readonly detail: ProfileMergedDetail } {
  const detail = ProfileMergedDetail.parse({
    version: 1,
    ledgerEntryId: entry.id,
    profileId: entry.to,
    mergedProfileId: entry.from,
    identifier: { type: entry.identifier.type },
    messageId: entry.messageId,
    source: entry.source,
    at: entry.at,
  });
  return { detailType: PROFILE_MERGED, detail, time: entry.at };
}

export const AUDIENCE_EXPORT_COMPLETED = 'Audience Export Completed';

/**
 * `Audience Export Completed` v1: export `exportId` of segment `segmentId` (at `segmentVersion`)
 * succeeded with `count` members, `added` of whom were not in the previous export
 * (`previousExportId`; absent on the first, where every member is added) and `removed` who left.
 * Locations are folders (`s3://...` in AWS, paths locally): `audienceLocation` holds the audience
 * file(s) in `format`; `changesLocation` Parquet rows `profile_id, change` (`added` | `removed`);
 * `membersLocation` the members as Parquet. Consumers dedupe on `exportId`.
 */
export const AudienceExportCompletedDetail = z
  .object({
    version: z.literal(1),
    exportId: z.string().min(1),
    segmentId: z.string().min(1),
    segmentVersion: z.number().int().positive(),
    destination: z.string().min(1).optional(),
    format: z.enum(['csv', 'parquet']),
    count: z.number().int().nonnegative(),
    added: z.number().int().nonnegative(),
    removed: z.number().int().nonnegative(),
    previousExportId: z.string().min(1).optional(),
    audienceLocation: z.string().min(1),
    changesLocation: z.string().min(1),
    membersLocation: z.string().min(1),
    completedAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type AudienceExportCompletedDetail = z.infer<typeof AudienceExportCompletedDetail>;

/** The `Audience Export Completed` event of a detail (checked against its schema; throws a `ZodError`). */
export function audienceExportCompletedEvent(
  detail: AudienceExportCompletedDetail,
): BusEvent & { readonly detail: AudienceExportCompletedDetail } {
  const parsed = AudienceExportCompletedDetail.parse(detail);
  return { detailType: AUDIENCE_EXPORT_COMPLETED, detail: parsed, time: parsed.completedAt };
}
