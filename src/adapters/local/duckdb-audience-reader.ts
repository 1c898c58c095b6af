import { availableParallelism } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import type { MemberRecord } from '../../core/activation/pii';
import { compareStrings } from '../../core/identity/identifier';
import { MAX_AUDIENCE_COLUMNS } from '../../core/segments/print-sql';
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
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize is a positive integer');
    const names = columnNames(source);
    const columns = names.map((_, i) => `c${i}`);
    // One row per profile (the export writes one; a stray duplicate must not be sent twice).
    const sql =
      `SELECT profile_id${columns.map((c) => `, any_value(${c}) AS ${c}`).join('')} ` +
      `FROM ${membersTable(source)} WHERE profile_id IS NOT NULL GROUP BY profile_id ORDER BY profile_id`;
    const connection = await this.instance.connect();
    try {
      const result = await connection.stream(sql);
      let page: MemberRecord[] = [];
      let last: string | undefined;
      for await (const rows of result.yieldRowsJs()) {
        for (const row of rows) {
          const profileId = String(row[0]);
          // DuckDB orders VARCHAR by bytes; delivery keys need code-unit order. They agree for every
          // id Mosaic makes; should one ever not, stop rather than send batches under unstable keys.
          if (last !== undefined && compareStrings(last, profileId) >= 0) {
            throw new Error('export members are not in profile-id order (code units)');
          }
          last = profileId;
          page.push(toMember(profileId, row, source));
          if (page.length === pageSize) {
            yield page;
            page = [];
          }
        }
      }
      if (page.length > 0) yield page;
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

function columnNames(source: AudienceSource): string[] {
  const names = [...source.identifiers, ...source.traits];
  if (names.length > MAX_AUDIENCE_COLUMNS) throw new RangeError('too many audience columns');
  return names;
}

function membersTable(source: AudienceSource): string {
  const location = source.membersLocation;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new RangeError('the local audience reader reads local folders only');
  }
  const folder = location.replace(/\/+$/, '');
  return `read_parquet(${sqlStringLiteral(`${escapeGlob(folder)}/*.parquet`)}, hive_partitioning = false, union_by_name = true)`;
}

function toMember(profileId: string, row: readonly unknown[], source: AudienceSource): MemberRecord {
  const identifiers: Record<string, string> = {};
  const traits: Record<string, string> = {};
  source.identifiers.forEach((name, i) => {
    const value = row[1 + i];
    if (value !== null && value !== undefined) identifiers[name] = String(value);
  });
  source.traits.forEach((name, i) => {
    const value = row[1 + source.identifiers.length + i];
    if (value !== null && value !== undefined) traits[name] = String(value);
  });
  return { profileId, identifiers, traits };
}
