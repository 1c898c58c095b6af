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

export const SEGMENT_MEMBERSHIP_CHANGED = 'Segment Membership Changed';

const membershipChangeFields = {
  version: z.literal(1),
  /** Stable per change: the same change is always published with the same id; consumers dedupe on it. */
  changeId: z.string().min(1).max(128),
  segmentId: z.string().min(1),
  segmentVersion: z.number().int().positive(),
  profileId: z.string().min(1),
  /** `entered`: the profile became a member; `exited`: it stopped being one. */
  change: z.enum(['entered', 'exited']),
  at: z.iso.datetime({ offset: true }),
};

/**
 * `Segment Membership Changed` v1: profile `profileId` `entered` or `exited` segment `segmentId` (at
 * `segmentVersion`), found either by an export (`trigger: "export"`, the export's `exportId`: its
 * added/removed rows) or by a streaming segment evaluated on one event (`trigger: "event"`, the
 * event's `messageId` and `source`). Carries no identifier values or traits: a destination reads what
 * its configuration allows from the profile. Consumers dedupe on `changeId`.
 */
export const SegmentMembershipChangedDetail = z.discriminatedUnion('trigger', [
  z.strictObject({ ...membershipChangeFields, trigger: z.literal('export'), exportId: z.string().min(1) }),
  z.strictObject({
    ...membershipChangeFields,
    trigger: z.literal('event'),
    messageId: z.string().min(1),
    source: z.string().min(1),
  }),
]);
export type SegmentMembershipChangedDetail = z.infer<typeof SegmentMembershipChangedDetail>;

/** The `Segment Membership Changed` event of a detail (checked against its schema; throws a `ZodError`). */
export function segmentMembershipChangedEvent(
  detail: SegmentMembershipChangedDetail,
): BusEvent & { readonly detail: SegmentMembershipChangedDetail } {
  const parsed = SegmentMembershipChangedDetail.parse(detail);
  return { detailType: SEGMENT_MEMBERSHIP_CHANGED, detail: parsed, time: parsed.at };
}

export const PROFILE_DELETED = 'Profile Deleted';

/**
 * `Profile Deleted` v1: deletion request `requestId` erased profile `profileId` and the profiles merged
 * into it (`mergedProfileIds`), and suppressed its identifiers of the types `identifierTypes` (the
 * types only: never the values). Destinations that hold the person should forget them. Consumers
 * dedupe on `requestId`.
 */
export const ProfileDeletedDetail = z.strictObject({
  version: z.literal(1),
  requestId: z.string().min(1).max(128),
  profileId: z.string().min(1),
  mergedProfileIds: z.array(z.string().min(1)).max(200),
  identifierTypes: z.array(z.string().min(1)).max(32),
  requestedAt: z.iso.datetime({ offset: true }),
  deletedAt: z.iso.datetime({ offset: true }),
});
export type ProfileDeletedDetail = z.infer<typeof ProfileDeletedDetail>;

/** The `Profile Deleted` event of a detail (checked against its schema; throws a `ZodError`). */
export function profileDeletedEvent(
  detail: ProfileDeletedDetail,
): BusEvent & { readonly detail: ProfileDeletedDetail } {
  const parsed = ProfileDeletedDetail.parse(detail);
  return { detailType: PROFILE_DELETED, detail: parsed, time: parsed.deletedAt };
}

/** One versioned detail schema of the event catalogue (docs/events.md). */
export interface BusEventSchema {
  readonly detailType: string;
  readonly version: number;
  readonly schema: z.ZodType;
  /** Its JSON Schema's file name under `docs/schemas/`. */
  readonly file: string;
}

/** Every event Mosaic publishes, with each version's detail schema. */
export const BUS_EVENT_CATALOGUE: readonly BusEventSchema[] = [
  { detailType: PROFILE_MERGED, version: 1, schema: ProfileMergedDetail, file: 'profile-merged.v1.json' },
  {
    detailType: SEGMENT_MEMBERSHIP_CHANGED,
    version: 1,
    schema: SegmentMembershipChangedDetail,
    file: 'segment-membership-changed.v1.json',
  },
  {
    detailType: AUDIENCE_EXPORT_COMPLETED,
    version: 1,
    schema: AudienceExportCompletedDetail,
    file: 'audience-export-completed.v1.json',
  },
  { detailType: PROFILE_DELETED, version: 1, schema: ProfileDeletedDetail, file: 'profile-deleted.v1.json' },
];

/** The catalogue entry of a detail type and version, if there is one. */
export function busEventSchemaOf(detailType: string, version: number): BusEventSchema | undefined {
  return BUS_EVENT_CATALOGUE.find((entry) => entry.detailType === detailType && entry.version === version);
}

/** The JSON Schema (draft 2020-12) of a catalogue entry's detail, generated from its zod schema. */
export function busEventJsonSchema(entry: BusEventSchema): Record<string, unknown> {
  const generated = z.toJSONSchema(entry.schema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: `${entry.detailType} v${entry.version} (detail)`,
    description: `The detail of a "${entry.detailType}" event (source "mosaic"), version ${entry.version}. Generated from src/core/events/bus-events.ts by scripts/write-event-schemas.ts.`,
    ...rest,
  };
}

/** A JSON Schema as the checked-in file holds it: two-space indented, ending with a newline. */
export function renderJsonSchema(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
