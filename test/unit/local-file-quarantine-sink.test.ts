import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileQuarantineSink } from '../../src/adapters/local/file-quarantine-sink';
import { ManualClock } from '../../src/ports/clock';
import { quarantinedMessage } from '../support/quarantined-messages';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mosaic-quarantine-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const message = quarantinedMessage;

async function readQuarantine(): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT source, received_at::VARCHAR AS received_at, code, reason, message_id, "index", raw, dt::VARCHAR AS dt, hour::VARCHAR AS hour
       FROM read_json($1, format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false)
       ORDER BY received_at, "index"`,
      [join(dataDir, 'lake', 'quarantine', '**', '*.ndjson')],
    );
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe('FileQuarantineSink', () => {
  it('appends one line per message in the partition of its receivedAt, readable with one read_json glob', async () => {
    const sink = new FileQuarantineSink({ dataDir, clock: new ManualClock(Date.UTC(2026, 10, 22, 17)) });
    await sink.put([
      message(),
      message({
        index: 1,
        messageId: undefined,
        raw: '{"bad":"json\\n with \\"quotes\\""}',
        code: 'message_too_large',
      }),
    ]);
    await sink.put([
      message({ receivedAt: '2026-11-22T17:00:00.000Z', source: 'ios', messageId: 'm-3', index: 4 }),
    ]);

    const partitions = await readdir(join(dataDir, 'lake', 'quarantine', 'dt=2026-11-22'));
    expect(partitions.sort()).toEqual(['hour=16', 'hour=17']);
    expect(await readdir(join(dataDir, 'lake', 'quarantine', 'dt=2026-11-22', 'hour=16'))).toEqual([
      expect.stringMatching(/^quarantine-20261122T170000Z-[0-9a-f]{8}\.ndjson$/),
    ]);

    expect(await readQuarantine()).toEqual([
      {
        source: 'web',
        received_at: '2026-11-22 16:05:12.345',
        code: 'invalid_message',
        reason: 'userId or anonymousId is required',
        message_id: 'm-1',
        index: 0n,
        raw: '{"type":"track","event":"Signed Up"}',
        dt: '2026-11-22',
        hour: '16',
      },
      {
        source: 'web',
        received_at: '2026-11-22 16:05:12.345',
        code: 'message_too_large',
        reason: 'userId or anonymousId is required',
        message_id: null,
        index: 1n,
        raw: '{"bad":"json\\n with \\"quotes\\""}',
        dt: '2026-11-22',
        hour: '16',
      },
      {
        source: 'ios',
        received_at: '2026-11-22 17:00:00',
        code: 'invalid_message',
        reason: 'userId or anonymousId is required',
        message_id: 'm-3',
        index: 4n,
        raw: '{"type":"track","event":"Signed Up"}',
        dt: '2026-11-22',
        hour: '17',
      },
    ]);
  });

  it('has the lines on disk when put resolves', async () => {
    const sink = new FileQuarantineSink({ dataDir });
    await sink.put([message({ messageId: 'durable' })]);
    const folder = join(dataDir, 'lake', 'quarantine', 'dt=2026-11-22', 'hour=16');
    const [file] = await readdir(folder);
    const lines = (await readFile(join(folder, file as string), 'utf8')).split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      message_id: 'durable',
      received_at: '2026-11-22T16:05:12.345Z',
    });
    expect(lines[1]).toBe('');
  });

  it('never interleaves lines of concurrent puts', async () => {
    const sink = new FileQuarantineSink({ dataDir });
    const big = 'x'.repeat(64 * 1024);
    await Promise.all(
      Array.from({ length: 40 }, (_, call) =>
        sink.put(
          Array.from({ length: 5 }, (_, index) =>
            message({ messageId: `${call}-${index}`, index, raw: big }),
          ),
        ),
      ),
    );
    const rows = await readQuarantine();
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((row) => row.message_id)).size).toBe(200);
    expect(rows.every((row) => row.raw === big)).toBe(true);
  });

  it('keeps each run in its own files', async () => {
    await new FileQuarantineSink({ dataDir }).put([message({ messageId: 'run-1' })]);
    await new FileQuarantineSink({ dataDir }).put([message({ messageId: 'run-2' })]);
    const files = await readdir(join(dataDir, 'lake', 'quarantine', 'dt=2026-11-22', 'hour=16'));
    expect(files).toHaveLength(2);
    expect((await readQuarantine()).map((row) => row.message_id).sort()).toEqual(['run-1', 'run-2']);
  });

  it('rejects when the lines cannot be written', async () => {
    // A file where the lake folder should be: the append cannot happen.
    await writeFile(join(dataDir, 'lake'), 'not a folder');
    const sink = new FileQuarantineSink({ dataDir });
    await expect(sink.put([message()])).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
