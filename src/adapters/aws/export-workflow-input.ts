import type { ExportFormat } from '../../core/segments/views';

/**
 * The input of the audience export state machine, built by `StepFunctionsExportRunner` and read by
 * the workflow in `lib/constructs/audience-export-workflow.ts`. Every SQL text is complete Athena SQL
 * (UNLOAD targets included); every `parameters` list is Athena `ExecutionParameters` (each value a
 * SQL string literal, see `athenaExecutionParameters`) and may be empty, in which case the workflow
 * must not pass `ExecutionParameters` at all (Athena requires at least one when the field is given).
 *
 * The workflow:
 * 1. `members`: `UNLOAD (...) TO '{membersLocation}'` (Parquet) — `StartQueryExecution.sync`.
 * 2. `audience`: for `parquet`, `UNLOAD ... TO '{audienceLocation}'`; for `csv` a SELECT whose result
 *    CSV (with header; the workgroup's result location) is then copied to `{audienceLocation}audience.csv`.
 * 3. `changes`: `UNLOAD ... TO '{changesLocation}'` (Parquet rows `profile_id, change`).
 * 4. `counts`: a SELECT of one row `member_count, added, removed` — read with `GetQueryResults`.
 * 5. The export item (`exportKey(exportId)` in the segments table) → `SUCCEEDED` with `count`, `added`,
 *    `removed`, `completedAt`, only while `RUNNING`; the segment's `lastExport` → this export unless a
 *    later export id is already there (a failed condition there is not an error).
 * 6. `Audience Export Completed` v1 on the bus (`AudienceExportCompletedDetail`).
 * Any failure: the export item → `FAILED` with `error` (the failed state's error and cause), then the
 * execution fails.
 */
export interface ExportWorkflowInput {
  readonly exportId: string;
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly format: ExportFormat;
  /** Present only when the export names one (absent keys, never null). */
  readonly destination?: string;
  readonly previousExportId?: string;
  /** `s3://bucket/exports/segment_id=S/export_id=E` (no trailing slash). */
  readonly location: string;
  /** `{location}/members/`, `{location}/audience/`, `{location}/changes/`. */
  readonly membersLocation: string;
  readonly audienceLocation: string;
  readonly changesLocation: string;
  /** For the CSV copy: the bucket and key of `{audienceLocation}audience.csv`. */
  readonly audienceCsv: { readonly bucket: string; readonly key: string };
  readonly queries: {
    readonly members: AthenaStatement;
    readonly audience: AthenaStatement;
    readonly changes: AthenaStatement;
    readonly counts: AthenaStatement;
  };
}

export interface AthenaStatement {
  readonly sql: string;
  readonly parameters: readonly string[];
}
