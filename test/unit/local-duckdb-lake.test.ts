import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbLake } from '../../src/adapters/local/duckdb-lake';
import { sqlStringLiteral } from '../../src/adapters/local/lake-sql';
import { LakeWriter } from '../../src/adapters/local/lake-writer';
import { EVENT_COLUMNS } from '../../src/core/lake/tables';
import { queryDuckDb } from '../support/duckdb-query';

/** The `events` columns a lake written before `category`, `channel` and `version` has. */
const OLD_COLUMNS = EVENT_COLUMNS.filter((c) => !['category', 'channel', 'version'].includes(c.name));

let dataDir: string;
let lake: DuckDbLake | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mosaic-view-'));
});
afterEach(async () => {
  lake?.close();
  lake = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

/** An `events` file as the lake writer wrote it before the new columns: the old columns only. */
async function writeOldFile(messageId: string): Promise<void> {
  const folder = join(dataDir, 'lake', 'events', 'dt=2026-11-21', 'hour=09');
  await mkdir(folder, { recursive: true });
  const values: Record<string, string> = {
    message_id: `'${messageId}'`,
    type: "'page'",
    name: "'Pricing'",
    anonymous_id: "'a-old'",
    timestamp: "TIMESTAMP '2026-11-21 09:00:00'",
    received_at: "TIMESTAMP '2026-11-21 09:00:01'",
    source: "'web'",
    context: `'{"ip":"203.0.113.9"}'`,
  };
  const select = OLD_COLUMNS.map(
    (c) =>
      `CAST(${values[c.name] ?? 'NULL'} AS ${c.type === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR'}) AS "${c.name}"`,
  ).join(', ');
  await queryDuckDb(
    `COPY (SELECT ${select}) TO ${sqlStringLiteral(join(folder, `events-old-${messageId}.parquet`))} ` +
      '(FORMAT parquet, COMPRESSION snappy)',
  );
  const [described] = await queryDuckDb(
    `SELECT count(*) AS n FROM parquet_schema(${sqlStringLiteral(join(folder, `events-old-${messageId}.parquet`))}) WHERE name IN ('category', 'channel', 'version')`,
  );
  expect(Number(described?.n)).toBe(0);
}

/** A page with a category and a track with a channel and version, written by today's lake writer. */
async function writeNewFile(): Promise<void> {
  const writer = await LakeWriter.open({ dataDir, flushIntervalMs: 60_000 });
  const records = [
    {
      messageId: 'new-page',
      type: 'page',
      source: 'web',
      anonymousId: 'a-new',
      name: 'Guide',
      category: 'Docs',
      timestamp: '2026-11-22T16:05:11.000Z',
      receivedAt: '2026-11-22T16:05:12.345Z',
      context: {},
    },
    {
      messageId: 'new-track',
      type: 'track',
      source: 'web',
      userId: 'u-new',
      event: 'Signed Up',
      channel: 'server',
      version: 2,
      timestamp: '2026-11-22T16:05:11.000Z',
      receivedAt: '2026-11-22T16:05:12.345Z',
      context: {},
    },
  ];
  const event: KinesisStreamEvent = {
    Records: records.map((record, i) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'k',
        sequenceNumber: String(i),
        data: Buffer.from(JSON.stringify(record)).toString('base64'),
        approximateArrivalTimestamp: 0,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${i}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    })),
  };
  await writer.handler(event);
  await writer.close();
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  lake ??= await DuckDbLake.open({ dataDir, threads: 1 });
  return lake.withConnection(async (connection) => (await connection.runAndReadAll(sql)).getRowObjectsJS());
}

/** The view's columns with DuckDB's types. */
const describeEvents = async () =>
  (await query('DESCRIBE events')).map((row) => [row.column_name, row.column_type]);

const EXPECTED_COLUMNS = [
  ...EVENT_COLUMNS.map((c) => [c.name, c.type === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR']),
  ['dt', 'VARCHAR'],
  ['hour', 'VARCHAR'],
];

describe('the local events view over a lake written before columns were added', () => {
  it('has every column of the table when only old files hold events, NULL where they lack one', async () => {
    await writeOldFile('old-1');
    await writeOldFile('old-2');
    expect(await describeEvents()).toEqual(EXPECTED_COLUMNS);
    expect(
      await query(
        'SELECT message_id, name, category, channel, version, dt, hour FROM events ORDER BY message_id',
      ),
    ).toEqual([
      {
        message_id: 'old-1',
        name: 'Pricing',
        category: null,
        channel: null,
        version: null,
        dt: '2026-11-21',
        hour: '09',
      },
      expect.objectContaining({ message_id: 'old-2', category: null }),
    ]);
    expect(await query(`SELECT count(*)::INTEGER AS n FROM events WHERE category = 'Docs'`)).toEqual([
      { n: 0 },
    ]);
  });

  it('reads old and new files together: the new columns of old rows are NULL', async () => {
    await writeOldFile('old-1');
    await writeNewFile();
    expect(await describeEvents()).toEqual(EXPECTED_COLUMNS);
    expect(
      await query('SELECT message_id, type, category, channel, version FROM events ORDER BY message_id'),
    ).toEqual([
      { message_id: 'new-page', type: 'page', category: 'Docs', channel: null, version: null },
      { message_id: 'new-track', type: 'track', category: null, channel: 'server', version: '2' },
      { message_id: 'old-1', type: 'page', category: null, channel: null, version: null },
    ]);
    // Partition and column filters still narrow the rows.
    expect(
      await query(`SELECT message_id FROM events WHERE dt = '2026-11-22' AND channel = 'server'`),
    ).toEqual([{ message_id: 'new-track' }]);
  });

  it('has every column of the table with no files at all', async () => {
    expect(await describeEvents()).toEqual(EXPECTED_COLUMNS);
    expect(await query('SELECT count(*)::INTEGER AS n FROM events')).toEqual([{ n: 0 }]);
  });
});

describe('the local export_members view', () => {
  it('has a member column no export file holds, as NULL (as the Glue table declares c0..c99)', async () => {
    const folder = join(dataDir, 'exports', 'segment_id=s', 'export_id=x1', 'members');
    await mkdir(folder, { recursive: true });
    await queryDuckDb(
      `COPY (SELECT 'p-1' AS profile_id, 'jane@example.com' AS c0) TO ` +
        `${sqlStringLiteral(join(folder, 'part-0.parquet'))} (FORMAT parquet)`,
    );
    expect(await query(`SELECT profile_id, c0, c1, c99, segment_id, export_id FROM export_members`)).toEqual([
      { profile_id: 'p-1', c0: 'jane@example.com', c1: null, c99: null, segment_id: 's', export_id: 'x1' },
    ]);
  });
});
