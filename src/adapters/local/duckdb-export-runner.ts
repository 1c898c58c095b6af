import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type {
  BoundQuery,
  ExportCompletion,
  ExportJob,
  ExportResult,
  ExportRunner,
} from '../../ports/audience-engine';
import type { DuckDbLake } from './duckdb-lake';
import { LAKE_PARQUET_COMPRESSION, sqlStringLiteral } from './lake-sql';

export interface DuckDbExportRunnerOptions {
  readonly lake: DuckDbLake;
  /** `<data dir>/exports`. */
  readonly root: string;
  /** Records the outcome (the store's export item, the bus event) as the AWS workflow does. */
  readonly completion: ExportCompletion;
  /** Reports an outcome that could not be recorded (it is retried by nothing: the export stays RUNNING). */
  readonly onError: (error: unknown, job: ExportJob) => void;
}

/**
 * The export workflow on DuckDB, in process: the same four queries as the Step Functions workflow
 * (members → audience → changes → counts), one export at a time, each file written under a hidden
 * name and renamed into place. `start` queues the job and returns; `drain` waits for the queue.
 */
export class DuckDbExportRunner implements ExportRunner {
  readonly dialect = 'duckdb' as const;
  readonly root: string;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly options: DuckDbExportRunnerOptions) {
    this.root = options.root;
  }

  async start(job: ExportJob): Promise<void> {
    this.pending += 1;
    this.queue = this.queue.then(async () => {
      try {
        await this.run(job);
      } catch (error) {
        // Only a throwing `onError` gets here: the queue must go on with the next export.
        process.emitWarning(
          `export ${job.exportId}: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        this.pending -= 1;
      }
    });
  }

  /** Exports started and not yet finished. */
  get running(): number {
    return this.pending;
  }

  /** Waits until every export started so far has finished. */
  async drain(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  private async run(job: ExportJob): Promise<void> {
    const members = join(job.location, 'members');
    const audience = join(job.location, 'audience');
    const changes = join(job.location, 'changes');
    let result: ExportResult;
    try {
      result = await this.options.lake.withConnection(async (connection) => {
        await copy(connection, job.queries.members, members, 'members.parquet', 'parquet');
        // `export_members` now has this export's members.
        await this.options.lake.refreshViews(connection);
        await copy(
          connection,
          job.queries.audience,
          audience,
          job.format === 'csv' ? 'audience.csv' : 'audience.parquet',
          job.format,
        );
        await copy(connection, job.queries.changes, changes, 'changes.parquet', 'parquet');
        const reader = await connection.runAndReadAll(job.queries.counts.sql, values(job.queries.counts));
        const row = reader.getRowObjectsJS()[0] ?? {};
        return {
          count: Number(row.member_count ?? 0),
          added: Number(row.added ?? 0),
          removed: Number(row.removed ?? 0),
          membersLocation: `${members}/`,
          audienceLocation: `${audience}/`,
          changesLocation: `${changes}/`,
        };
      });
    } catch (error) {
      await this.record(
        () => this.options.completion.failed(job, error instanceof Error ? error.message : String(error)),
        job,
      );
      return;
    }
    await this.record(() => this.options.completion.succeeded(job, result), job);
  }

  private async record(write: () => Promise<void>, job: ExportJob): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.options.onError(error, job);
    }
  }
}

const values = (query: BoundQuery) => [...query.values] as DuckDBValue[];

/** `COPY (query) TO folder/file`, through a hidden temporary name renamed into place. */
async function copy(
  connection: DuckDBConnection,
  query: BoundQuery,
  folder: string,
  file: string,
  format: 'csv' | 'parquet',
): Promise<void> {
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.${file}.tmp`);
  const options =
    format === 'csv'
      ? "(FORMAT csv, HEADER true, DELIMITER ',')"
      : `(FORMAT parquet, COMPRESSION ${LAKE_PARQUET_COMPRESSION})`;
  try {
    await connection.run(`COPY (${query.sql}) TO ${sqlStringLiteral(temporary)} ${options}`, values(query));
    await rename(temporary, join(folder, file));
  } finally {
    await rm(temporary, { force: true });
  }
}
