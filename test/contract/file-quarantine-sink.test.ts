import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileQuarantineSink } from '../../src/adapters/local/file-quarantine-sink';
import { ManualClock } from '../../src/ports/clock';
import {
  describeQuarantineSinkContract,
  escapeHeavyRaw,
  type QuarantineSinkHarness,
  type StoredQuarantineRow,
} from './quarantine-sink.contract';

/** The sink's run started in an hour no test message is received in, so a misfiled row shows. */
const STARTED = Date.UTC(2026, 10, 22, 18, 30);
const PARTITION_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/[^/]+\.ndjson$/;

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function ndjsonFiles(dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ndjson'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every line of every `.ndjson` file under the quarantine folder (what DuckDB's glob reads), with its partition. */
async function readQuarantine(quarantineDir: string): Promise<StoredQuarantineRow[]> {
  const rows: StoredQuarantineRow[] = [];
  for (const file of await ndjsonFiles(quarantineDir)) {
    const match = PARTITION_FILE.exec(relative(quarantineDir, file).split(sep).join('/'));
    const partition = match ? { dt: match[1] as string, hour: match[2] as string } : undefined;
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n'), `${file} ends with a newline`).toBe(true);
    for (const line of text.slice(0, -1).split('\n')) {
      rows.push({
        row: JSON.parse(line) as Record<string, unknown>,
        lineBytes: Buffer.byteLength(line) + 1,
        partition,
      });
    }
  }
  return rows;
}

/** The sink over a fresh data directory; failures are folders the sink needs turned into regular files. */
async function fileHarness(): Promise<QuarantineSinkHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-quarantine-contract-'));
  const lakeDir = join(dataDir, 'lake');
  const savedLakeDir = join(dataDir, 'lake-while-broken');
  const sink = new FileQuarantineSink({ dataDir, clock: new ManualClock(STARTED) });
  const repairs: Array<() => Promise<void>> = [];
  return {
    sink,
    readRows: async () =>
      readQuarantine(join((await isDirectory(lakeDir)) ? lakeDir : savedLakeDir, 'quarantine')),
    breakStore: async () => {
      // Everything the sink writes is then under a regular file (ENOTDIR), whether or not it exists yet.
      const existed = await isDirectory(lakeDir);
      if (existed) await rename(lakeDir, savedLakeDir);
      await writeFile(lakeDir, 'not a folder');
      repairs.push(async () => {
        await rm(lakeDir);
        if (existed) await rename(savedLakeDir, lakeDir);
      });
    },
    refuseHour: async (hour) => {
      const folder = join(lakeDir, 'quarantine', `dt=${hour.slice(0, 10)}`, `hour=${hour.slice(11, 13)}`);
      await mkdir(dirname(folder), { recursive: true });
      await writeFile(folder, 'not a folder');
      repairs.push(() => rm(folder));
    },
    repairStore: async () => {
      for (const repair of repairs.splice(0).reverse()) await repair();
    },
    close: async () => {
      await sink.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describeQuarantineSinkContract(
  'FileQuarantineSink',
  { partitionsByReceivedAt: true, maxLineBytes: undefined },
  fileHarness,
);

describe('FileQuarantineSink: the local lake reads it', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-quarantine-duckdb-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function queryQuarantine(): Promise<Record<string, unknown>[]> {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await db.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT source, received_at::VARCHAR AS received_at, code, reason, message_id, "index", raw, route, batch,
                dt::VARCHAR AS dt, hour::VARCHAR AS hour
         FROM read_json($1, format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false)
         ORDER BY "index"`,
        [join(dataDir, 'lake', 'quarantine', '**', '*.ndjson')],
      );
      return reader.getRowObjectsJS();
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  }

  it('is one read_json glob away from the quarantine table, a 500 KiB escape-heavy raw kept whole', async () => {
    const sink = new FileQuarantineSink({ dataDir, clock: new ManualClock(STARTED) });
    const raw = escapeHeavyRaw();
    await sink.put([
      {
        source: 'web',
        receivedAt: '2026-11-22T16:05:12.345Z',
        reason: 'message is larger than 32 KB',
        code: 'message_too_large',
        messageId: 'huge',
        index: 0,
        raw,
        route: 'track',
      },
      {
        source: 'ios',
        receivedAt: '2026-11-22T17:00:00.000Z',
        reason: 'userId or anonymousId is required',
        code: 'invalid_message',
        index: 1,
        raw: '{"type":"track"}',
        route: 'batch',
        batch: '{"context":{"library":{"name":"analytics-ios"}},"sentAt":"2026-11-22T17:00:00.000Z"}',
      },
    ]);
    await sink.close();

    expect(await queryQuarantine()).toEqual([
      {
        source: 'web',
        received_at: '2026-11-22 16:05:12.345',
        code: 'message_too_large',
        reason: 'message is larger than 32 KB',
        message_id: 'huge',
        index: 0n,
        raw,
        route: 'track',
        batch: null,
        dt: '2026-11-22',
        hour: '16',
      },
      {
        source: 'ios',
        received_at: '2026-11-22 17:00:00',
        code: 'invalid_message',
        reason: 'userId or anonymousId is required',
        message_id: null,
        index: 1n,
        raw: '{"type":"track"}',
        route: 'batch',
        batch: '{"context":{"library":{"name":"analytics-ios"}},"sentAt":"2026-11-22T17:00:00.000Z"}',
        dt: '2026-11-22',
        hour: '17',
      },
    ]);
  });
});
