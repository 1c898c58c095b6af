import type { DialectName } from '../core/segments/dialects';
import type { ExportPlan } from '../core/segments/export-plan';
import type { BoundValue } from '../core/segments/params';
import type { CompiledQuery } from '../core/segments/print-sql';
import type { ExportFormat } from '../core/segments/views';

/** A compiled query with its parameters bound for one run (see `bindParams`). */
export interface BoundQuery {
  readonly sql: string;
  readonly values: readonly BoundValue[];
}

export type PreviewOutcome =
  | {
      readonly status: 'SUCCEEDED';
      readonly previewId: string;
      readonly count: number;
      readonly sample: readonly string[];
      readonly bytesScanned?: number;
      readonly elapsedMs: number;
    }
  | { readonly status: 'RUNNING'; readonly previewId: string }
  | { readonly status: 'FAILED'; readonly previewId: string; readonly error: string };

/**
 * Runs segment queries over the lake: Athena in AWS, DuckDB over the local lake. Queries come
 * compiled for the engine's {@link dialect} with their parameters bound (`bindParams`).
 */
export interface AudienceEngine {
  readonly dialect: DialectName;
  /**
   * Runs a preview query (`printPreviewQuery`: `member_count`, `profile_id` rows). Answers when it is
   * done, or after `waitMs` with `RUNNING` when it is still going (Athena); the id polls it.
   * A query the engine refuses or that fails → `FAILED` with the engine's reason.
   */
  preview(query: BoundQuery, waitMs: number): Promise<PreviewOutcome>;
  /** The outcome of a preview started earlier; `undefined` for an id the engine does not know. */
  previewStatus(previewId: string): Promise<PreviewOutcome | undefined>;
}

/** What an export runs: the plan's queries for the runner's dialect, with the values bound. */
export interface ExportJob {
  readonly exportId: string;
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly format: ExportFormat;
  readonly destination?: string;
  readonly previousExportId?: string;
  /** The export's folder (`exportFolder`). */
  readonly location: string;
  readonly queries: {
    readonly members: BoundQuery;
    readonly audience: BoundQuery;
    readonly changes: BoundQuery;
    readonly counts: BoundQuery;
  };
}

/**
 * Runs exports in the background: a Step Functions workflow in AWS (Athena `.sync`, the store's
 * export item and segment `lastExport` updated, `Audience Export Completed` on the bus), the same
 * steps on DuckDB in process locally. `start` returns once the run is durably started.
 */
export interface ExportRunner {
  readonly dialect: DialectName;
  /** The root the export folders live under (`s3://bucket/exports`, `<data dir>/exports`). */
  readonly root: string;
  start(job: ExportJob): Promise<void>;
}

/** What an export produced: its counts and where its files are (folders). */
export interface ExportResult {
  readonly count: number;
  readonly added: number;
  readonly removed: number;
  readonly membersLocation: string;
  readonly audienceLocation: string;
  readonly changesLocation: string;
}

/**
 * Records an export's outcome — the store's export item and segment `lastExport`, and
 * `Audience Export Completed` on the bus — for runners that do not do it themselves (the local one;
 * the AWS workflow does the same in its own states).
 */
export interface ExportCompletion {
  succeeded(job: ExportJob, result: ExportResult): Promise<void>;
  failed(job: ExportJob, error: string): Promise<void>;
}

export type { CompiledQuery, ExportPlan };
