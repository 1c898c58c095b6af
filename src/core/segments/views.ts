import { z } from 'zod';
import { SegmentId } from './definition';

/**
 * The Segments API's request bodies and answers (DESIGN.md "Segments and exports"), shared by the
 * handler, the use cases and the `mosaic` CLI, so a change of shape breaks the CLI's typecheck.
 *
 * - `POST /v1/segments` {@link CreateSegmentRequest} → 201 {@link SegmentView} (409 when the id exists)
 * - `GET /v1/segments?limit=&next=` → 200 {@link SegmentListView}
 * - `GET /v1/segments/{id}` → 200 {@link SegmentView}
 * - `PUT /v1/segments/{id}` {@link UpdateSegmentRequest} → 200 {@link SegmentView}
 * - `DELETE /v1/segments/{id}` → 204 (409 while another segment refers to it)
 * - `POST /v1/segments/{id}/preview` → 200 {@link PreviewView} with `status: "SUCCEEDED"`, or — in AWS,
 *   when the query outlives the wait — 202 with `status: "RUNNING"` and `Location: /v1/previews/{previewId}`
 * - `GET /v1/previews/{previewId}` → 200 (done or failed) or 202 (still running) {@link PreviewView}
 * - `POST /v1/segments/{id}/exports` {@link ExportRequest} → 202 {@link ExportView} with
 *   `Location: /v1/exports/{exportId}`
 * - `GET /v1/exports/{exportId}` → 200 {@link ExportView}
 *
 * Errors are the house shape `{ "success": false, "error": { "code", "message", "issues"? } }` with 400
 * (bad body or definition; `issues: [{ path, message }]` name the path of each bad node), 404, 409.
 */

export const SEGMENT_NAME_MAX = 200;

export const CreateSegmentRequest = z.strictObject({
  id: SegmentId,
  name: z.string().trim().min(1).max(SEGMENT_NAME_MAX),
  description: z.string().max(2000).optional(),
  definition: z.unknown(),
});
export type CreateSegmentRequest = z.infer<typeof CreateSegmentRequest>;

export const UpdateSegmentRequest = CreateSegmentRequest.omit({ id: true });
export type UpdateSegmentRequest = z.infer<typeof UpdateSegmentRequest>;

export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** At most this many identifier types and traits in one export's columns. */
export const MAX_EXPORT_COLUMNS = 50;

/** Which columns an export holds beside `profile_id`, in what format, and for which destination. */
export const ExportRequest = z.strictObject({
  /** A destination's name (issue #5): recorded on the export and in `Audience Export Completed`. */
  destination: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a destination name: letters, digits, _ and -, at most 64')
    .optional(),
  format: z.enum(EXPORT_FORMATS).default('csv'),
  /** Identifier types (configured ones), one column each: the identifier most recently linked. */
  identifiers: z.array(z.string()).max(MAX_EXPORT_COLUMNS).default([]),
  /** Top-level trait names, one column each: the trait's latest value (JSON text for objects). */
  traits: z.array(z.string()).max(MAX_EXPORT_COLUMNS).default([]),
});
export type ExportRequest = z.infer<typeof ExportRequest>;
export type ExportRequestInput = z.input<typeof ExportRequest>;

export interface SegmentView {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly definition: unknown;
  /** Bumped by every update; starts at 1. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The last export that succeeded: the one the next export's added/removed compare with. */
  readonly lastExport?: { readonly exportId: string; readonly completedAt: string; readonly count: number };
}

export interface SegmentListView {
  readonly segments: readonly SegmentView[];
  /** Pass as `?next=` for the following page; absent on the last page. */
  readonly next?: string;
}

export type JobStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface PreviewView {
  readonly previewId: string;
  readonly segmentId: string;
  readonly status: JobStatus;
  /** When SUCCEEDED: the number of members and the first 10 member profile ids in id order. */
  readonly count?: number;
  readonly sample?: readonly string[];
  /** Athena only: bytes the query read. */
  readonly bytesScanned?: number;
  readonly elapsedMs?: number;
  /** When FAILED. */
  readonly error?: string;
}

export interface ExportView {
  readonly exportId: string;
  readonly segmentId: string;
  /** The segment version the export evaluated. */
  readonly segmentVersion: number;
  readonly status: JobStatus;
  readonly format: ExportFormat;
  readonly identifiers: readonly string[];
  readonly traits: readonly string[];
  readonly destination?: string;
  readonly createdAt: string;
  readonly completedAt?: string;
  /** When SUCCEEDED: members, and how many entered / left since `previousExportId`. */
  readonly count?: number;
  readonly added?: number;
  readonly removed?: number;
  /** The export this one was compared with; absent for a segment's first export (all members added). */
  readonly previousExportId?: string;
  /** Where the audience file(s) are: `s3://...` in AWS, a folder under the data dir locally. */
  readonly location: string;
  /** When FAILED: why. */
  readonly error?: string;
}
