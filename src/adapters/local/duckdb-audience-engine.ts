import { randomUUID } from 'node:crypto';
import type { DuckDBValue } from '@duckdb/node-api';
import type { AudienceEngine, BoundQuery, PreviewOutcome } from '../../ports/audience-engine';
import type { DuckDbLake } from './duckdb-lake';

export interface DuckDbAudienceEngineOptions {
  readonly lake: DuckDbLake;
  /** How many finished previews are kept for `previewStatus`. Default 1,000. */
  readonly keep?: number;
}

/**
 * Segment previews on DuckDB over the local lake. A preview runs to the end within its request
 * (there is no API Gateway timeout to outlive locally), and its outcome is kept so that
 * `GET /v1/previews/{id}` answers as it does in AWS.
 */
export class DuckDbAudienceEngine implements AudienceEngine {
  readonly dialect = 'duckdb' as const;
  private readonly outcomes = new Map<string, PreviewOutcome>();
  private readonly keep: number;

  constructor(private readonly options: DuckDbAudienceEngineOptions) {
    this.keep = options.keep ?? 1000;
  }

  async preview(query: BoundQuery, _waitMs: number): Promise<PreviewOutcome> {
    const previewId = `p${randomUUID().replaceAll('-', '')}`;
    const started = performance.now();
    let outcome: PreviewOutcome;
    try {
      const rows = await this.options.lake.withConnection(async (connection) =>
        (await connection.runAndReadAll(query.sql, [...query.values] as DuckDBValue[])).getRowObjectsJS(),
      );
      const sample = rows.map((row) => row.profile_id).filter((id): id is string => typeof id === 'string');
      outcome = {
        status: 'SUCCEEDED',
        previewId,
        count: Number(rows[0]?.member_count ?? 0),
        sample,
        elapsedMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      outcome = {
        status: 'FAILED',
        previewId,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    this.outcomes.set(previewId, outcome);
    while (this.outcomes.size > this.keep) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest === undefined) break;
      this.outcomes.delete(oldest);
    }
    return outcome;
  }

  async previewStatus(previewId: string): Promise<PreviewOutcome | undefined> {
    return this.outcomes.get(previewId);
  }
}
