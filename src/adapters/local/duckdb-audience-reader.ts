import { availableParallelism } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { memberColumnNames, memberOf, memberPages } from '../../core/activation/export-members';
import type { MemberRecord } from '../../core/activation/pii';
import type { AudienceReader, AudienceSource } from '../../ports/audience-reader';
import { escapeGlob } from './duckdb-lake';
import { sqlStringLiteral } from './lake-sql';

export interface DuckDbAudienceReaderOptions {
  /** DuckDB worker threads. Default: half the machine's cores, at least 1. */
  readonly threads?: number;
  /** DuckDB's memory limit. Default 512 MiB. */
  readonly memoryLimit?: string;
}

/**
 * The local {@link AudienceReader}: DuckDB over an export's `members/*.parquet` (`profile_id`, `c0`..),
 * naming `c<i>` after the export's identifiers then traits. One streaming query per read: DuckDB sorts
 * by profile id (spilling if it must) and hands rows over chunk by chunk as pages are asked for, so
 * JavaScript holds one page at a time.
 */
export class DuckDbAudienceReader implements AudienceReader {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(options: DuckDbAudienceReaderOptions = {}): Promise<DuckDbAudienceReader> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? Math.max(1, Math.floor(availableParallelism() / 2))),
      memory_limit: options.memoryLimit ?? '512MiB',
    });
    return new DuckDbAudienceReader(instance);
  }

  async count(source: AudienceSource): Promise<number> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT count(DISTINCT profile_id) AS n FROM ${membersTable(source)}`,
      );
      return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
    } finally {
      connection.closeSync();
    }
  }

  async *pages(source: AudienceSource, pageSize: number): AsyncIterable<readonly MemberRecord[]> {
    const columns = memberColumnNames(source).map((_, i) => `c${i}`);
    // One row per profile (the export writes one; a stray duplicate must not be sent twice).
    const sql =
      `SELECT profile_id${columns.map((c) => `, any_value(${c}) AS ${c}`).join('')} ` +
      `FROM ${membersTable(source)} WHERE profile_id IS NOT NULL GROUP BY profile_id ORDER BY profile_id`;
    const connection = await this.instance.connect();
    try {
      const result = await connection.stream(sql);
      async function* members() {
        for await (const rows of result.yieldRowsJs()) {
          for (const row of rows) yield memberOf(String(row[0]), row.slice(1), source);
        }
      }
      yield* memberPages(members(), pageSize);
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

function membersTable(source: AudienceSource): string {
  const location = source.membersLocation;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new RangeError('the local audience reader reads local folders only');
  }
  const folder = location.replace(/\/+$/, '');
  return `read_parquet(${sqlStringLiteral(`${escapeGlob(folder)}/*.parquet`)}, hive_partitioning = false, union_by_name = true)`;
}
