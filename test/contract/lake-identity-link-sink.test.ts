import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeIdentityLinkSink } from '../../src/adapters/local/lake-identity-link-sink';
import { IDENTITY_LINK_COLUMNS, toIdentityLinkRow } from '../../src/core/lake/tables';
import { queryDuckDb } from '../support/duckdb-query';
import {
  describeIdentityLinkSinkContract,
  expectedRow,
  type IdentityLinkSinkHarness,
  identityLink,
  type StoredIdentityLinkRow,
} from './identity-link-sink.contract';

const query = queryDuckDb;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const tableGlob = (dataDir: string) => join(dataDir, 'lake', 'identity_links', '**', '*.parquet');

/** The table as DuckDB reads it with one `read_parquet` glob, `dt`/`hour` from the folder names. */
async function readTable(dataDir: string): Promise<StoredIdentityLinkRow[]> {
  if (!(await exists(join(dataDir, 'lake', 'identity_links')))) return [];
  const rows = await query(
    `SELECT * EXCLUDE (dt, hour) REPLACE (strftime(linked_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS linked_at),
            dt, hour
     FROM read_parquet($1, hive_partitioning = true, hive_types_autocast = false)`,
    [tableGlob(dataDir)],
  );
  return rows.map(({ dt, hour, ...row }) => ({
    row,
    partition: { dt: String(dt), hour: String(hour) },
  }));
}

/** The sink over a fresh data directory; a broken store is a staging folder turned into a regular file. */
async function lakeHarness(): Promise<IdentityLinkSinkHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-identity-links-contract-'));
  const stagingDir = join(dataDir, 'tmp', 'lake-writer-identity_links');
  const sink = await LakeIdentityLinkSink.open({ dataDir, flushIntervalMs: 60_000 });
  let broken = false;
  return {
    sink,
    readRows: async () => {
      await sink.flush();
      return readTable(dataDir);
    },
    breakStore: async () => {
      // Written out first, so the next put opens a new staging file, under a regular file (ENOTDIR).
      await sink.flush();
      await rename(stagingDir, `${stagingDir}-saved`);
      await writeFile(stagingDir, 'not a folder');
      broken = true;
    },
    repairStore: async () => {
      if (!broken) return;
      await rm(stagingDir);
      await rename(`${stagingDir}-saved`, stagingDir);
      broken = false;
    },
    close: async () => {
      await sink.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describeIdentityLinkSinkContract('LakeIdentityLinkSink', { partitionsByLinkedAt: true }, lakeHarness);

describe('LakeIdentityLinkSink: the local lake', () => {
  let dataDir: string;
  const sinks: LakeIdentityLinkSink[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-identity-links-'));
  });

  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((sink) => sink.close().catch(() => undefined)));
    await rm(dataDir, { recursive: true, force: true });
  });

  async function open(flushIntervalMs = 60_000): Promise<LakeIdentityLinkSink> {
    const sink = await LakeIdentityLinkSink.open({ dataDir, flushIntervalMs });
    sinks.push(sink);
    return sink;
  }

  it('has exactly the IDENTITY_LINK_COLUMNS: strings as VARCHAR, linked_at as TIMESTAMP; Snappy Parquet', async () => {
    const sink = await open();
    await sink.put([identityLink()]);
    await sink.flush();

    const described = await query(`DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)`, [
      tableGlob(dataDir),
    ]);
    expect(described.map((c) => [c.column_name, c.column_type])).toEqual(
      IDENTITY_LINK_COLUMNS.map((c) => [c.name, c.type === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR']),
    );
    // Snappy, as the identity-links Firehose stream converts them.
    const compressions = await query(`SELECT DISTINCT compression FROM parquet_metadata($1)`, [
      tableGlob(dataDir),
    ]);
    expect(compressions).toEqual([{ compression: 'SNAPPY' }]);
  });

  it('buffers until flush, counting rows buffered and landed, and writes on its interval', async () => {
    const sink = await open();
    await sink.put([identityLink(), identityLink()]);
    expect(sink.stats()).toMatchObject({ rowsBuffered: 2, rowsLanded: 0 });
    expect(await readTable(dataDir)).toEqual([]);

    await sink.flush();
    expect(sink.stats()).toMatchObject({ rowsBuffered: 0, rowsLanded: 2, filesWritten: 1 });

    const timed = await LakeIdentityLinkSink.open({ dataDir, flushIntervalMs: 20 });
    sinks.push(timed);
    await timed.put([identityLink()]);
    await expect.poll(() => timed.stats().rowsLanded, { timeout: 5_000 }).toBe(1);
    expect(await readTable(dataDir)).toHaveLength(3);
  });

  it('writes on close, and refuses puts after it', async () => {
    const sink = await open();
    const link = identityLink();
    await sink.put([link]);
    await sink.close();

    expect((await readTable(dataDir)).map((s) => s.row)).toEqual([expectedRow(link)]);
    await expect(sink.put([identityLink()])).rejects.toThrow(/closed/);
  });

  it('writes the links a previous run staged but did not write', async () => {
    const stagingDir = join(dataDir, 'tmp', 'lake-writer-identity_links');
    await mkdir(stagingDir, { recursive: true });
    const left = [identityLink({ messageId: 'left-1' }), identityLink({ messageId: 'left-2' })];
    await writeFile(
      join(stagingDir, 'earlier-run-000001.ndjson'),
      left.map((link) => `${JSON.stringify(toIdentityLinkRow(link))}\n`).join(''),
    );

    const sink = await open();
    expect(sink.stats().rowsBuffered).toBe(2);
    await sink.flush();

    expect((await readTable(dataDir)).map((s) => s.row.message_id).sort()).toEqual(['left-1', 'left-2']);
  });

  it('maps any link to its current profile with one query: the latest row per identifier', async () => {
    const sink = await open();
    const id = { type: 'anonymous_id', value: 'a-1' };
    await sink.put([
      identityLink({ identifier: id, profileId: 'p-new', linkedAt: '2026-11-22T16:00:00.000Z' }),
      identityLink({
        identifier: id,
        profileId: 'p-old',
        linkedAt: '2026-11-22T17:30:00.000Z',
        reason: 'merged',
      }),
    ]);
    await sink.flush();

    const current = await query(
      `SELECT id_type, id_value, arg_max(profile_id, linked_at) AS profile_id
       FROM read_parquet($1) GROUP BY ALL`,
      [tableGlob(dataDir)],
    );
    expect(current).toEqual([{ id_type: 'anonymous_id', id_value: 'a-1', profile_id: 'p-old' }]);
  });
});
