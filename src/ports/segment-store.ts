import type { ExportView, SegmentView } from '../core/segments/views';

/**
 * A segment as stored: its definition exactly as given (JSON), validated when written; `version` is
 * 1 on create and +1 on every update; `lastExport` is set when an export of it succeeds (the next
 * export's added/removed compare with it). The API shows it as it is stored.
 */
export type StoredSegment = SegmentView;

/** An export as stored; the API shows it as it is stored. */
export type ExportRecord = ExportView;

export interface ExportOutcome {
  readonly completedAt: string;
  readonly count: number;
  readonly added: number;
  readonly removed: number;
}

/** A preview that was still running when its request answered (AWS), kept so it can be polled. */
export interface PreviewRecord {
  readonly previewId: string;
  readonly segmentId: string;
  readonly startedAt: string;
}

export interface SegmentPage {
  readonly segments: readonly StoredSegment[];
  /** Opaque; absent on the last page. */
  readonly next?: string;
}

/**
 * Segment definitions, exports and running previews (DynamoDB in AWS and locally, on the embedded
 * engine). Every write is one conditional item write; `ConflictError` when its condition fails.
 */
export interface SegmentStore {
  /** Rejects with `ConflictError` (`segment_exists`) when the id is taken. */
  createSegment(segment: StoredSegment): Promise<void>;
  getSegment(id: string): Promise<StoredSegment | undefined>;
  /** In id order. `next` from a previous page; rejects with `BadRequestError` for a token it did not give. */
  listSegments(options: { readonly limit: number; readonly next?: string }): Promise<SegmentPage>;
  /**
   * Replaces name, description, definition and `updatedAt`, and sets `version` to
   * `expectedVersion + 1` — only if the stored version is `expectedVersion` (else `ConflictError`
   * `version_conflict`; `NotFoundError` when the segment is gone).
   */
  updateSegment(segment: StoredSegment, expectedVersion: number): Promise<StoredSegment>;
  /** Whether it existed. */
  deleteSegment(id: string): Promise<boolean>;

  /** Rejects with `ConflictError` when the export id exists. */
  createExport(record: ExportRecord): Promise<void>;
  getExport(exportId: string): Promise<ExportRecord | undefined>;
  /**
   * Marks a RUNNING export SUCCEEDED with its counts and makes it the segment's `lastExport` (unless
   * a later export already is). Repeating it changes nothing.
   */
  completeExport(exportId: string, outcome: ExportOutcome): Promise<void>;
  /** Marks a RUNNING export FAILED with the reason. Repeating it changes nothing. */
  failExport(exportId: string, error: string, completedAt: string): Promise<void>;

  /** Kept for a day (TTL). */
  putPreview(record: PreviewRecord): Promise<void>;
  getPreview(previewId: string): Promise<PreviewRecord | undefined>;
}
