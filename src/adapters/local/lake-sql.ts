import type { LakeColumn, LakeColumnType } from '../../core/lake/tables';

/**
 * DuckDB SQL that turns staged records (one JSON object per line) into lake rows, compiled from
 * the lake's column declarations, so the local lake has exactly the columns Firehose's Parquet
 * conversion gives the AWS one. Identifiers come only from the declarations and must match an
 * allow-list pattern; values are bound parameters, except file paths in `COPY ... TO`, which DuckDB
 * does not accept as parameters and which are quoted by {@link sqlStringLiteral}.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The Parquet compression of every file the local twins write to the lake and to exports: Snappy, as
 * Firehose's record-format conversion writes the AWS lake (`lib/constructs/lake.ts`) and Athena's
 * `UNLOAD` writes exports (`export-plan.ts`), so a file read locally is the file AWS would hold.
 * (They wrote zstd before: files half the size, for the same CPU in DuckDB — a staged batch of 5,000
 * events written as Parquet in 13.7 ms with Snappy and 13.9 ms with zstd, medians of six rounds.)
 */
export const LAKE_PARQUET_COMPRESSION = 'snappy';

/** The time text a row is partitioned by (`receivedAt`, `linked_at`) must start like `2026-11-22T16`. */
export const PARTITIONABLE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}/;
const PARTITIONABLE_SQL = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}';

/** DuckDB types of the lake columns; timestamps are UTC wall-clock without a zone, as Glue's `timestamp`. */
export const DUCKDB_TYPES: Readonly<Record<LakeColumnType, string>> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  int: 'BIGINT',
};

function quoted(identifier: string): string {
  if (!IDENTIFIER.test(identifier)) throw new Error(`Not an allowed SQL identifier: ${identifier}`);
  return `"${identifier}"`;
}

/** A SQL string literal for a value that cannot be a parameter (a file path in `COPY ... TO`). */
export function sqlStringLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('A SQL string literal cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/** How a record field is read from the staged JSON: JSON columns as JSON, everything else as text. */
function readType(column: LakeColumn<string>): string {
  return column.json ? 'JSON' : 'VARCHAR';
}

/** The lake value of one column, from the field read by {@link readType}. */
function columnExpression(column: LakeColumn<string>): string {
  const field = quoted(column.field);
  switch (column.type) {
    case 'timestamp':
      // Any ISO-8601 offset is honoured, then the instant is kept as UTC wall-clock time.
      return `timezone('UTC', TRY_CAST(${field} AS TIMESTAMPTZ))`;
    case 'int':
      return `TRY_CAST(${field} AS BIGINT)`;
    case 'string':
      return column.json ? `CAST(${field} AS VARCHAR)` : field;
  }
}

/** SQL pieces for one table's columns, reading staged NDJSON bound as parameter `$1`. */
export interface LakeSql {
  /** `dt`, `hour` and row count per partition; rows that cannot be partitioned have null `dt`. */
  readonly partitions: string;
  /** The rows of the partition bound as `$2` (dt) and `$3` (hour), written as Parquet to `target`. */
  copyPartition(target: string): string;
}

/**
 * Compiles the SQL that reads staged records with the given columns, partitioned by the UTC hour of
 * the ISO-8601 text in `partitionField` (`receivedAt` for `events`, `linked_at` for `identity_links`).
 */
export function compileLakeSql(columns: readonly LakeColumn<string>[], partitionField: string): LakeSql {
  const fields = new Map<string, string>([[partitionField, 'VARCHAR']]);
  for (const column of columns) fields.set(column.field, readType(column));
  const struct = [...fields].map(([field, type]) => `${sqlStringLiteral(field)}: '${type}'`).join(', ');
  const source =
    `read_json($1, format = 'newline_delimited', records = true, maximum_object_size = 4194304, ` +
    `columns = {${struct}})`;
  const time = quoted(partitionField);
  const partitionable = `regexp_matches(${time}, '${PARTITIONABLE_SQL}')`;
  const dt = `CASE WHEN ${partitionable} THEN substr(${time}, 1, 10) END`;
  const hour = `CASE WHEN ${partitionable} THEN substr(${time}, 12, 2) END`;
  const projection = columns
    .map(
      (column) =>
        `CAST(${columnExpression(column)} AS ${DUCKDB_TYPES[column.type]}) AS ${quoted(column.name)}`,
    )
    .join(', ');
  return {
    partitions: `SELECT ${dt} AS dt, ${hour} AS hour, count(*) AS n FROM ${source} GROUP BY ALL`,
    copyPartition: (target) =>
      `COPY (SELECT ${projection} FROM ${source} WHERE ${dt} = $2 AND ${hour} = $3) ` +
      `TO ${sqlStringLiteral(target)} (FORMAT parquet, COMPRESSION ${LAKE_PARQUET_COMPRESSION})`,
  };
}
