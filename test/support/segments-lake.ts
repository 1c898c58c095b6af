import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { compileLakeSql, sqlStringLiteral } from '../../src/adapters/local/lake-sql';
import { EVENT_COLUMNS, IDENTITY_LINK_COLUMNS, type IdentityLinkRow } from '../../src/core/lake/tables';

/** A lake event as a test writes it: the stream record fields the segment SQL reads. */
export interface LakeEvent {
  readonly messageId: string;
  readonly type: 'track' | 'identify' | 'page' | 'group';
  readonly event?: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly timestamp: string;
  /** Defaults to `timestamp`. */
  readonly receivedAt?: string;
  readonly source?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
}

/** An identity link as a test writes it (`source`, `message_id`, `reason` filled in). */
export type LakeLink = Pick<IdentityLinkRow, 'id_type' | 'id_value' | 'profile_id' | 'linked_at'>;

export interface TestLake {
  readonly dir: string;
  readonly connection: DuckDBConnection;
  /** Runs a query and returns its rows as objects. */
  rows(sql: string, values?: readonly DuckDBValue[]): Promise<Record<string, DuckDBValue>[]>;
  close(): Promise<void>;
}

/**
 * Writes a tiny lake in a temporary folder with the local lake's layout and Parquet columns
 * (`events/dt=.../hour=.../*.parquet`, `identity_links/dt=.../hour=.../*.parquet`, through the same
 * SQL as the local lake writer) and opens DuckDB on it with views `events` and `identity_links`.
 */
export async function writeTestLake(
  events: readonly LakeEvent[],
  links: readonly LakeLink[],
): Promise<TestLake> {
  const dir = await mkdtemp(join(tmpdir(), 'mosaic-segments-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const records = events.map((event) => ({
    source: 'test',
    receivedAt: event.timestamp,
    context: {},
    ...event,
  }));
  const linkRows: IdentityLinkRow[] = links.map((row, i) => ({
    ...row,
    source: 'test',
    message_id: `link-${i}`,
    reason: 'linked',
  }));
  await writeTable(connection, dir, 'events', records, compileLakeSql(EVENT_COLUMNS, 'receivedAt'));
  await writeTable(
    connection,
    dir,
    'identity_links',
    linkRows,
    compileLakeSql(IDENTITY_LINK_COLUMNS, 'linked_at'),
  );
  await connection.run("SET TimeZone = 'UTC'");
  for (const table of ['events', 'identity_links']) {
    const glob = sqlStringLiteral(join(dir, table, '**', '*.parquet'));
    await connection.run(
      `CREATE VIEW ${table} AS SELECT * FROM read_parquet(${glob}, hive_partitioning = true, ` +
        `hive_types = {'dt': VARCHAR, 'hour': VARCHAR})`,
    );
  }
  return {
    dir,
    connection,
    async rows(sql, values = []) {
      const reader = await connection.runAndReadAll(sql, [...values]);
      return reader.getRowObjects();
    },
    async close() {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function writeTable(
  connection: DuckDBConnection,
  dir: string,
  table: string,
  rows: readonly object[],
  sql: ReturnType<typeof compileLakeSql>,
): Promise<void> {
  if (rows.length === 0) {
    // An empty table still needs one file so that the view has its columns: a row without a partition time is skipped.
    rows = [];
  }
  const staged = join(dir, `${table}.ndjson`);
  await writeFile(staged, rows.map((row) => JSON.stringify(row)).join('\n'));
  const partitions = (await connection.runAndReadAll(sql.partitions, [staged])).getRowObjects();
  for (const { dt, hour } of partitions) {
    if (dt === null || hour === null) continue;
    const target = join(dir, table, `dt=${String(dt)}`, `hour=${String(hour)}`);
    await mkdir(target, { recursive: true });
    await connection.run(sql.copyPartition(join(target, 'part-0.parquet')), [
      staged,
      String(dt),
      String(hour),
    ]);
  }
  await rm(staged);
}
