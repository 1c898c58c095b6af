import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EVENT_COLUMNS, IDENTITY_LINK_COLUMNS, type LakeColumnType } from '../../core/lake/tables';
import { EXPORT_MEMBER_COLUMNS } from '../../core/segments/export-plan';
import { DUCKDB_TYPES, sqlStringLiteral } from './lake-sql';

export interface DuckDbLakeOptions {
  /** The data directory: the lake under `lake/`, exports under `exports/`. */
  readonly dataDir: string;
  /** DuckDB worker threads. Default: the machine's cores. */
  readonly threads?: number;
  /** DuckDB's memory limit (spills to `tmp/` beyond it). Default 2 GiB. */
  readonly memoryLimit?: string;
}

interface ViewSpec {
  readonly name: string;
  /** The Parquet files, from the data directory. */
  readonly glob: readonly string[];
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly partitions: readonly string[];
}

const typed = (columns: readonly { name: string; type: LakeColumnType }[]) =>
  columns.map((column) => ({ name: column.name, type: DUCKDB_TYPES[column.type] }));

const VIEWS: readonly ViewSpec[] = [
  {
    name: 'events',
    glob: ['lake', 'events', '**', '*.parquet'],
    columns: typed(EVENT_COLUMNS),
    partitions: ['dt', 'hour'],
  },
  {
    name: 'identity_links',
    glob: ['lake', 'identity_links', '**', '*.parquet'],
    columns: typed(IDENTITY_LINK_COLUMNS),
    partitions: ['dt', 'hour'],
  },
  {
    name: 'export_members',
    glob: ['exports', 'segment_id=*', 'export_id=*', 'members', '*.parquet'],
    columns: [
      { name: 'profile_id', type: 'VARCHAR' },
      ...EXPORT_MEMBER_COLUMNS.map((name) => ({ name, type: 'VARCHAR' })),
    ],
    partitions: ['segment_id', 'export_id'],
  },
];

/**
 * The local lake as DuckDB sees it for segment queries: views `events`, `identity_links` and
 * `export_members` over the Parquet files under the data directory, with the columns and Hive
 * partitions of the Glue tables in AWS, so one SQL text runs on both — every column of the table
 * even where files written before it was added lack it (NULL there). Each query gets a fresh
 * connection whose views are made over the files there are right then (an empty table of the same
 * columns while there are none), so files landed since are read and no query sees half a file (the
 * lake writers rename finished files into place).
 */
export class DuckDbLake {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly dataDir: string,
  ) {}

  static async open(options: DuckDbLakeOptions): Promise<DuckDbLake> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? Math.max(1, availableParallelism())),
      memory_limit: options.memoryLimit ?? '2GiB',
      temp_directory: join(options.dataDir, 'tmp', 'duckdb-segments'),
    });
    return new DuckDbLake(instance, options.dataDir);
  }

  /** Runs `work` on a connection with the lake's views; the connection is closed afterwards. */
  async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.instance.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      await this.refreshViews(connection);
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }

  /** (Re)makes the views over the files there are now. */
  async refreshViews(connection: DuckDBConnection): Promise<void> {
    for (const view of VIEWS) await this.createView(connection, view);
  }

  close(): void {
    this.instance.closeSync();
  }

  private async createView(connection: DuckDBConnection, view: ViewSpec): Promise<void> {
    const glob = sqlStringLiteral(`${escapeGlob(this.dataDir)}/${view.glob.join('/')}`);
    const found = await connection.runAndReadAll(`SELECT count(*) AS n FROM glob(${glob})`);
    const files = Number(found.getRowObjectsJS()[0]?.n ?? 0);
    const columns = [...view.columns, ...view.partitions.map((name) => ({ name, type: 'VARCHAR' }))];
    const nulls = columns.map((column) => `CAST(NULL AS ${column.type}) AS "${column.name}"`).join(', ');
    const empty = `SELECT ${nulls} WHERE FALSE`;
    if (files === 0) {
      await connection.run(`CREATE OR REPLACE TEMP VIEW ${view.name} AS ${empty}`);
      return;
    }
    const hiveTypes = view.partitions.map((name) => `'${name}': VARCHAR`).join(', ');
    // union_by_name: files need not hold every column — export member files hold only the columns
    // their export asked for (`c0`..`cN`), and events files written before a column was added lack
    // it. A column no file holds would be missing from the view altogether (and a query naming it
    // fail), so the view is the files' rows unioned by name under an empty relation of every column:
    // each column is there, NULL where a file lacks it, as Athena reads such files. (The optimizer
    // drops the empty side; filters and projections still reach the Parquet scan.)
    await connection.run(
      `CREATE OR REPLACE TEMP VIEW ${view.name} AS ${empty} UNION ALL BY NAME SELECT * FROM ` +
        `read_parquet(${glob}, hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true)`,
    );
  }
}

/**
 * A path as literal text inside a DuckDB glob: `[`, `*` and `?` in it (a folder named `data [old]`)
 * become one-character classes, so only the pattern's own wildcards match anything but themselves.
 */
export function escapeGlob(path: string): string {
  return path.replace(/[[*?]/g, (c) => `[${c}]`);
}
