import type { SegmentAst } from './ast';
import { DIALECTS, type DialectName } from './dialects';
import { SEGMENT_ID } from './names';
import type { QueryParam } from './params';
import {
  type AudienceColumn,
  type CompiledQuery,
  MAX_AUDIENCE_COLUMNS,
  type PrintOptions,
  printAudienceQuery,
  type TableName,
} from './print-sql';

/**
 * An audience export as queries, the same for Athena and DuckDB (only the dialect differs):
 *
 * 1. `members` — the segment's members with their columns (`profile_id`, `c0`, `c1`, ...): the one
 *    expensive query. The engine writes its rows as Parquet into the export's `members/` folder, which
 *    the `export_members` table reads (partitioned by `segment_id` and `export_id`; columns `c0`..`c99`,
 *    so one table serves every export whatever its columns).
 * 2. `audience` — the export's file for people: `profile_id` and the columns under their own names
 *    (`email`, `plan`), read back from `export_members`, written as CSV (with a header) or Parquet
 *    into `audience/`.
 * 3. `changes` — who entered (`added`) and who left (`removed`) since the previous export of the
 *    segment (all members are `added` on a first export), written as Parquet into `changes/`.
 * 4. `counts` — one row: `member_count`, `added`, `removed`.
 *
 * Steps 2–4 read only the small member files of two exports, never the lake.
 */
export interface ExportPlan {
  readonly members: CompiledQuery;
  readonly audience: CompiledQuery;
  readonly changes: CompiledQuery;
  readonly counts: CompiledQuery;
  /** The audience's columns after `profile_id`, in file order. */
  readonly columns: readonly AudienceColumn[];
}

export interface ExportPlanRequest {
  readonly segmentId: string;
  readonly exportId: string;
  /** The last successful export of the segment, if any. */
  readonly previousExportId?: string;
  readonly identifiers: readonly string[];
  readonly traits: readonly string[];
}

export interface ExportPlanOptions extends PrintOptions {
  /** The `export_members` table (Glue in AWS, a DuckDB view locally). Default `export_members`. */
  readonly exportMembers?: TableName;
}

/** Export ids: time-ordered, safe in S3 keys, file paths and Hive partition values. */
export const EXPORT_ID = /^x[0-9a-z]{8,40}$/;

/** A column name of the audience file: the identifier type or trait name, which must be distinct. */
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function planExport(
  ast: SegmentAst,
  dialect: DialectName,
  request: ExportPlanRequest,
  options: ExportPlanOptions = {},
): ExportPlan {
  if (!SEGMENT_ID.test(request.segmentId)) throw new RangeError('bad segment id');
  for (const id of [request.exportId, request.previousExportId]) {
    if (id !== undefined && !EXPORT_ID.test(id)) throw new RangeError(`bad export id ${JSON.stringify(id)}`);
  }
  const columns = audienceColumns(request.identifiers, request.traits);
  const table = quoteTable(options.exportMembers ?? { table: 'export_members' });
  const d = DIALECTS[dialect];
  const place = (params: QueryParam[], value: string) => {
    params.push({ type: 'varchar', value });
    return d.placeholder(params.length);
  };
  const of = (params: QueryParam[], exportId: string) =>
    `segment_id = ${place(params, request.segmentId)} AND export_id = ${place(params, exportId)}`;

  const audienceParams: QueryParam[] = [];
  const named = columns.map((column, i) => `c${i} AS "${column.name}"`);
  const audience: CompiledQuery = {
    dialect,
    sql:
      `SELECT ${['profile_id', ...named].join(', ')}\n` +
      `FROM ${table}\nWHERE ${of(audienceParams, request.exportId)}\nORDER BY profile_id`,
    params: audienceParams,
  };

  // A first export compares with no export: the empty id matches no partition.
  const previous = request.previousExportId ?? '';
  const changeParams: QueryParam[] = [];
  const diff = (params: QueryParam[]) =>
    `  (SELECT profile_id FROM ${table} WHERE ${of(params, request.exportId)}) c\n` +
    `  FULL OUTER JOIN (SELECT profile_id FROM ${table} WHERE ${of(params, previous)}) p\n` +
    '  ON c.profile_id = p.profile_id\n';
  const changes: CompiledQuery = {
    dialect,
    sql:
      "SELECT coalesce(c.profile_id, p.profile_id) AS profile_id, CASE WHEN p.profile_id IS NULL THEN 'added' ELSE 'removed' END AS change\n" +
      `FROM\n${diff(changeParams)}WHERE c.profile_id IS NULL OR p.profile_id IS NULL\nORDER BY change, profile_id`,
    params: changeParams,
  };
  const countParams: QueryParam[] = [];
  const counts: CompiledQuery = {
    dialect,
    sql:
      'SELECT count(c.profile_id) AS member_count,\n' +
      '  sum(CASE WHEN p.profile_id IS NULL THEN 1 ELSE 0 END) AS added,\n' +
      '  sum(CASE WHEN c.profile_id IS NULL THEN 1 ELSE 0 END) AS removed\n' +
      `FROM\n${diff(countParams)}`,
    params: countParams,
  };
  return {
    members: printAudienceQuery(ast, dialect, columns, options),
    audience,
    changes,
    counts,
    columns,
  };
}

/** The identifier columns then the trait columns; every name distinct and a plain SQL name. */
export function audienceColumns(identifiers: readonly string[], traits: readonly string[]): AudienceColumn[] {
  const columns: AudienceColumn[] = [
    ...identifiers.map((name) => ({ kind: 'identifier' as const, name })),
    ...traits.map((name) => ({ kind: 'trait' as const, name })),
  ];
  if (columns.length > MAX_AUDIENCE_COLUMNS) {
    throw new RangeError(`an export has at most ${MAX_AUDIENCE_COLUMNS} columns`);
  }
  const seen = new Set<string>(['profile_id']);
  for (const column of columns) {
    if (!COLUMN_NAME.test(column.name)) {
      throw new RangeError(`${column.kind} ${JSON.stringify(column.name)} is not a column name`);
    }
    if (seen.has(column.name.toLowerCase())) {
      throw new RangeError(`column ${JSON.stringify(column.name)} appears twice`);
    }
    seen.add(column.name.toLowerCase());
  }
  return columns;
}

/** The generic member columns `c0`..`c99` of the `export_members` table, after `profile_id`. */
export const EXPORT_MEMBER_COLUMNS: readonly string[] = Array.from(
  { length: MAX_AUDIENCE_COLUMNS },
  (_, i) => `c${i}`,
);

const TABLE_PART = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
function quoteTable(name: TableName): string {
  for (const part of [name.database, name.table]) {
    if (part !== undefined && !TABLE_PART.test(part)) throw new RangeError(`bad table name ${part}`);
  }
  return name.database === undefined ? `"${name.table}"` : `"${name.database}"."${name.table}"`;
}

/**
 * Where an export's files are under the exports root (`s3://bucket/exports` or `<data dir>/exports`):
 * Hive-style, so `export_members` finds `members/` by partition.
 */
export function exportFolder(root: string, segmentId: string, exportId: string): string {
  if (!SEGMENT_ID.test(segmentId) || !EXPORT_ID.test(exportId)) throw new RangeError('bad export path');
  return `${root.replace(/\/+$/, '')}/segment_id=${segmentId}/export_id=${exportId}`;
}

const S3_FOLDER = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9_=/.-]*\/$/;

/**
 * Athena's `UNLOAD` of a query into an S3 folder as Snappy Parquet. The folder is the only text that
 * is not a parameter (Athena takes none there): it must be an `s3://bucket/.../` folder of plain
 * characters, which the export's ids guarantee.
 */
export function athenaUnload(sql: string, folder: string): string {
  if (!S3_FOLDER.test(folder)) throw new RangeError(`not a plain S3 folder: ${JSON.stringify(folder)}`);
  return `UNLOAD (\n${sql}\n) TO '${folder}' WITH (format = 'PARQUET', compression = 'SNAPPY')`;
}
