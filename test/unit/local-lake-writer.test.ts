import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeWriter, type LakeWriterOptions } from '../../src/adapters/local/lake-writer';
import { MemoryEventStream } from '../../src/adapters/local/memory-event-stream';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { EVENT_COLUMNS, toEventRow } from '../../src/core/lake/tables';
import { queryDuckDb } from '../support/duckdb-query';

let dataDir: string;
const writers: LakeWriter[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mosaic-lake-'));
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.close().catch(() => undefined)));
  await rm(dataDir, { recursive: true, force: true });
});

async function openWriter(options: Partial<LakeWriterOptions> = {}): Promise<LakeWriter> {
  const writer = await LakeWriter.open({ dataDir, flushIntervalMs: 60_000, ...options });
  writers.push(writer);
  return writer;
}

let counter = 0;
function streamRecord(overrides: Partial<Record<keyof StreamRecord, unknown>> = {}): StreamRecord {
  counter++;
  return {
    messageId: `m-${String(counter).padStart(5, '0')}`,
    type: 'track',
    source: 'web',
    event: 'Order Completed',
    anonymousId: `anon-${counter}`,
    timestamp: '2026-11-22T16:05:11.000Z',
    receivedAt: '2026-11-22T16:05:12.345Z',
    properties: { total: 12.5, currency: 'EUR' },
    context: { ip: '203.0.113.9', library: { name: 'analytics.js' } },
    ...overrides,
  } as StreamRecord;
}

function kinesisRecord(data: string | Uint8Array, sequence = counter): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: 'k',
      sequenceNumber: String(sequence),
      data: Buffer.from(data).toString('base64'),
      approximateArrivalTimestamp: 0,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${sequence}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
  };
}

function eventOf(records: readonly StreamRecord[]): KinesisStreamEvent {
  return { Records: records.map((record) => kinesisRecord(JSON.stringify(record))) };
}

const eventsGlob = () => join(dataDir, 'lake', 'events', '**', '*.parquet');

const query = queryDuckDb;

/** Every row of the lake, timestamps as ISO text, ordered by message id. */
async function readLake(): Promise<Record<string, unknown>[]> {
  const timestampColumns = EVENT_COLUMNS.filter((column) => column.type === 'timestamp').map((c) => c.name);
  const select = EVENT_COLUMNS.map((column) =>
    timestampColumns.includes(column.name)
      ? `strftime("${column.name}", '%Y-%m-%dT%H:%M:%S.%gZ') AS "${column.name}"`
      : `"${column.name}"`,
  ).join(', ');
  return query(
    `SELECT ${select}, dt::VARCHAR AS dt, hour::VARCHAR AS hour
     FROM read_parquet($1, hive_partitioning = true, hive_types_autocast = false) ORDER BY message_id`,
    [eventsGlob()],
  );
}

async function parquetFiles(): Promise<string[]> {
  const root = join(dataDir, 'lake', 'events');
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith('.parquet')).sort();
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LakeWriter', () => {
  it('writes records as Parquet in the dt/hour folder of their receivedAt, read back with one glob', async () => {
    const writer = await openWriter();
    const records = [
      streamRecord({ messageId: 'a', userId: 'u-1', traits: { plan: 'pro', tags: ['x', 'y'] } }),
      streamRecord({ messageId: 'b', receivedAt: '2026-11-22T17:00:00.000Z', integrations: { All: false } }),
      streamRecord({
        messageId: 'c',
        type: 'identify',
        event: undefined,
        receivedAt: '2026-11-23T00:59:59.999Z',
        originalTimestamp: '2026-11-23T02:59:58.5+02:00',
        sentAt: '2026-11-23T00:59:59Z',
        properties: undefined,
        context: { text: 'quote " backslash \\ newline \n unicode é 😀' },
      }),
      streamRecord({
        messageId: 'd',
        type: 'page',
        event: undefined,
        name: 'Pricing',
        category: 'Docs',
        channel: 'web',
        version: 2,
      }),
    ];
    await expect(writer.handler(eventOf(records))).resolves.toEqual({ batchItemFailures: [] });
    await writer.flush();

    expect(await parquetFiles()).toEqual([
      expect.stringMatching(/^dt=2026-11-22\/hour=16\/events-\d{8}T\d{6}Z-[0-9a-f]{8}-\d{6}\.parquet$/),
      expect.stringMatching(/^dt=2026-11-22\/hour=17\/events-.*\.parquet$/),
      expect.stringMatching(/^dt=2026-11-23\/hour=00\/events-.*\.parquet$/),
    ]);
    const rows = await readLake();
    expect(rows).toEqual([
      {
        message_id: 'a',
        type: 'track',
        event: 'Order Completed',
        name: null,
        user_id: 'u-1',
        anonymous_id: records[0]?.anonymousId,
        group_id: null,
        previous_id: null,
        timestamp: '2026-11-22T16:05:11.000Z',
        original_timestamp: null,
        sent_at: null,
        received_at: '2026-11-22T16:05:12.345Z',
        source: 'web',
        properties: '{"total":12.5,"currency":"EUR"}',
        traits: '{"plan":"pro","tags":["x","y"]}',
        context: '{"ip":"203.0.113.9","library":{"name":"analytics.js"}}',
        integrations: null,
        category: null,
        channel: null,
        version: null,
        dt: '2026-11-22',
        hour: '16',
      },
      expect.objectContaining({
        message_id: 'b',
        received_at: '2026-11-22T17:00:00.000Z',
        integrations: '{"All":false}',
        traits: null,
        dt: '2026-11-22',
        hour: '17',
      }),
      expect.objectContaining({
        message_id: 'c',
        type: 'identify',
        event: null,
        // The sender's offset is honoured; the lake keeps UTC wall-clock time.
        original_timestamp: '2026-11-23T00:59:58.500Z',
        sent_at: '2026-11-23T00:59:59.000Z',
        received_at: '2026-11-23T00:59:59.999Z',
        properties: null,
        dt: '2026-11-23',
        hour: '00',
      }),
      expect.objectContaining({
        message_id: 'd',
        type: 'page',
        name: 'Pricing',
        category: 'Docs',
        channel: 'web',
        // Not checked by the collector: kept as text whatever its type.
        version: '2',
      }),
    ]);
    expect(JSON.parse(rows[2]?.context as string)).toEqual(records[2]?.context);
  });

  it('has exactly the EVENT_COLUMNS, strings as VARCHAR and timestamps as TIMESTAMP without a time zone', async () => {
    const writer = await openWriter();
    await writer.handler(eventOf([streamRecord()]));
    await writer.flush();
    const described = await query(`DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)`, [
      eventsGlob(),
    ]);
    expect(described.map((row) => [row.column_name, row.column_type])).toEqual(
      EVENT_COLUMNS.map((column) => [column.name, column.type === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR']),
    );
    const [file] = await parquetFiles();
    const schema = await query(
      `SELECT name, logical_type FROM parquet_schema($1) WHERE name = 'received_at'`,
      [join(dataDir, 'lake', 'events', file as string)],
    );
    expect(String(schema[0]?.logical_type)).toMatch(/TimestampType\(isAdjustedToUTC=0/);
  });

  it("compresses every column chunk with Snappy, as Firehose's Parquet conversion does", async () => {
    const writer = await openWriter();
    await writer.handler(eventOf([streamRecord(), streamRecord({ type: 'identify', event: undefined })]));
    await writer.flush();
    const [file] = await parquetFiles();
    const chunks = await query(`SELECT DISTINCT compression FROM parquet_metadata($1)`, [
      join(dataDir, 'lake', 'events', file as string),
    ]);
    expect(chunks).toEqual([{ compression: 'SNAPPY' }]);
  });

  it('maps every record as toEventRow does (property)', async () => {
    const writer = await openWriter();
    const isoDate = fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((date) => date.toISOString());
    const json = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    const text = fc.string({ maxLength: 20, unit: 'grapheme' });
    // Fields the collector does not check the type of: any JSON value, kept as text.
    const anyValue = fc.oneof(text, fc.jsonValue({ maxDepth: 2 }));
    const recordArb = fc.record(
      {
        messageId: fc.uuid(),
        type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias'),
        source: fc.constantFrom('web', 'ios'),
        userId: text,
        anonymousId: text,
        groupId: text,
        previousId: text,
        event: text,
        name: text,
        category: text,
        channel: anyValue,
        version: anyValue,
        timestamp: isoDate,
        originalTimestamp: isoDate,
        sentAt: isoDate,
        receivedAt: isoDate,
        properties: json,
        traits: json,
        context: json,
        integrations: json,
      },
      { requiredKeys: ['messageId', 'type', 'source', 'timestamp', 'receivedAt', 'context'] },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 20 }), async (generated) => {
        run++;
        const records = generated.map((record) => ({ ...record, messageId: `${run}-${record.messageId}` }));
        await writer.handler(eventOf(records as StreamRecord[]));
        await writer.flush();
        const rows = await query(
          `SELECT * EXCLUDE (dt, hour) FROM read_parquet($1, hive_partitioning = true) WHERE message_id LIKE $2`,
          [eventsGlob(), `${run}-%`],
        );
        expect(rows).toHaveLength(records.length);
        const byId = new Map(rows.map((row) => [row.message_id, row]));
        for (const record of records) {
          const expected = toEventRow(record as StreamRecord);
          const row = byId.get(record.messageId) as Record<string, unknown>;
          for (const column of EVENT_COLUMNS) {
            const value = row[column.name];
            const want = expected[column.name] ?? null;
            if (want === null) expect(value, column.name).toBeNull();
            else if (column.type === 'timestamp')
              expect((value as Date).getTime(), column.name).toBe(Date.parse(want));
            else if (column.json) expect(JSON.parse(value as string), column.name).toEqual(JSON.parse(want));
            else if (typeof (record as Record<string, unknown>)[column.field] !== 'string')
              // JSON text of a value that is not a string: the same value (DuckDB writes 1e-7 as 1e-07).
              expect(JSON.parse(value as string), column.name).toEqual(JSON.parse(want));
            else expect(value, column.name).toBe(want);
          }
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('writes buffered records on its own once flushIntervalMs has passed', async () => {
    const writer = await openWriter({ flushIntervalMs: 150 });
    const started = Date.now();
    await writer.handler(eventOf([streamRecord()]));
    expect(await parquetFiles()).toEqual([]);
    await until(() => writer.stats().rowsLanded === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await parquetFiles()).toHaveLength(1);
    expect(writer.stats()).toMatchObject({ rowsLanded: 1, filesWritten: 1 });
  });

  it('writes a buffer as soon as it holds maxFileRows records', async () => {
    const writer = await openWriter({ maxFileRows: 10 });
    for (let i = 0; i < 25; i++) await writer.handler(eventOf([streamRecord()]));
    await until(() => writer.stats().rowsLanded === 20);
    expect(await parquetFiles()).toHaveLength(2);
    expect(writer.stats().rowsBuffered).toBe(5);
    await writer.close();
    expect(await parquetFiles()).toHaveLength(3);
    expect(await readLake()).toHaveLength(25);
  });

  it('writes what is buffered when it closes', async () => {
    const writer = await openWriter();
    await writer.handler(eventOf([streamRecord(), streamRecord()]));
    expect(writer.stats().rowsBuffered).toBe(2);
    await writer.close();
    expect(await readLake()).toHaveLength(2);
    await expect(writer.handler(eventOf([streamRecord()]))).rejects.toThrow(/closed/);
  });

  it('never shows a partial file: every visible file is complete Parquet while writes go on', async () => {
    const writer = await openWriter({ maxFileRows: 200 });
    let writing = true;
    const seen = new Set<string>();
    const watcher = (async () => {
      while (writing) {
        for (const file of await parquetFiles()) {
          if (seen.has(file)) continue;
          const rows = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet($1)`, [
            join(dataDir, 'lake', 'events', file),
          ]);
          expect(rows[0]?.n).toBeGreaterThan(0);
          seen.add(file);
        }
      }
    })();
    for (let i = 0; i < 20; i++) {
      await writer.handler(eventOf(Array.from({ length: 100 }, () => streamRecord())));
      await writer.flush();
    }
    writing = false;
    await watcher;
    expect(seen.size).toBeGreaterThan(0);
    const hidden = (await readdir(join(dataDir, 'lake', 'events'), { recursive: true })).filter((f) =>
      f.endsWith('.tmp'),
    );
    expect(hidden).toEqual([]);
  });

  it('writes each record exactly once across many flushes', async () => {
    const writer = await openWriter({ maxFileRows: 37 });
    const ids: string[] = [];
    for (let round = 0; round < 30; round++) {
      const records = Array.from({ length: 1 + (round % 7) * 9 }, () => streamRecord());
      ids.push(...records.map((record) => record.messageId));
      await writer.handler(eventOf(records));
      if (round % 3 === 0) await writer.flush();
    }
    await writer.flush();
    const rows = await query(`SELECT message_id FROM read_parquet($1) ORDER BY message_id`, [eventsGlob()]);
    expect(rows.map((row) => row.message_id)).toEqual([...ids].sort());
    expect(writer.stats()).toMatchObject({ rowsLanded: ids.length, rowsBuffered: 0 });
  });

  it('keeps records when a write fails, writes them once it can, and never writes a partition twice', async () => {
    const errors: unknown[] = [];
    const writer = await openWriter({ onWriteError: (error) => errors.push(error) });
    // A file where the partition folder should be: writing dt=2026-11-22 fails until it is removed.
    await mkdir(join(dataDir, 'lake', 'events'), { recursive: true });
    const blocker = join(dataDir, 'lake', 'events', 'dt=2026-11-22');
    await writeFile(blocker, 'not a folder');
    await writer.handler(
      eventOf([
        streamRecord({ messageId: 'early', receivedAt: '2026-11-21T23:59:59.000Z' }),
        streamRecord({ messageId: 'blocked-1' }),
        streamRecord({ messageId: 'blocked-2' }),
      ]),
    );
    await expect(writer.flush()).rejects.toThrow();
    expect(errors).toHaveLength(1);
    expect(writer.stats()).toMatchObject({ rowsBuffered: 3, writeFailures: 1 });

    await rm(blocker);
    await writer.flush();
    const rows = await readLake();
    expect(rows.map((row) => row.message_id)).toEqual(['blocked-1', 'blocked-2', 'early']);
    expect(await parquetFiles()).toHaveLength(2);
    expect(writer.stats()).toMatchObject({ rowsBuffered: 0, rowsLanded: 3, filesWritten: 2 });
  });

  it('fails batches for the stream to retry once it is backed up with records it cannot write', async () => {
    const writer = await openWriter({ maxBufferedBytes: 2_000 });
    await mkdir(join(dataDir, 'lake'), { recursive: true });
    await writeFile(join(dataDir, 'lake', 'events'), 'not a folder');
    await writer.handler(eventOf(Array.from({ length: 10 }, () => streamRecord())));
    await expect(writer.handler(eventOf([streamRecord({ messageId: 'refused' })]))).rejects.toThrow(
      /backed up/,
    );
    expect(writer.stats().rowsBuffered).toBe(10);

    await rm(join(dataDir, 'lake', 'events'));
    await writer.handler(eventOf([streamRecord({ messageId: 'retried' })]));
    await writer.flush();
    const ids = (await readLake()).map((row) => row.message_id);
    expect(ids).toHaveLength(11);
    expect(ids).toContain('retried');
    expect(ids).not.toContain('refused');
  });

  it("sends records it cannot convert to the lake's errors/ and lands the rest", async () => {
    const writer = await openWriter();
    const good = streamRecord({ messageId: 'good' });
    const surrogate = streamRecord({ messageId: 'lone-surrogate', event: 'a\ud800b' });
    const badLines = ['{"messageId":"x", broken', '[1,2,3]', JSON.stringify({ messageId: 'no-received-at' })];
    await writer.handler({
      Records: [
        kinesisRecord(JSON.stringify(good)),
        ...badLines.map((line) => kinesisRecord(line)),
        kinesisRecord(JSON.stringify(surrogate)),
        kinesisRecord(JSON.stringify(streamRecord({ messageId: 'pretty' }), null, 2)),
      ],
    });
    await writer.flush();

    const rows = await readLake();
    expect(rows.map((row) => row.message_id)).toEqual(['good', 'lone-surrogate', 'pretty']);
    expect(rows[1]?.event).toBe('a\ufffdb');
    expect(writer.stats()).toMatchObject({ rowsLanded: 3, rowsToErrors: 3, rowsBuffered: 0 });

    const errorFiles = (await readdir(join(dataDir, 'lake', 'errors'), { recursive: true })).filter((f) =>
      f.endsWith('.ndjson'),
    );
    expect(errorFiles).toEqual([
      expect.stringMatching(/^dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/events-format-conversion-failed-/),
    ]);
    const lines = (await readFile(join(dataDir, 'lake', 'errors', errorFiles[0] as string), 'utf8'))
      .trim()
      .split('\n');
    const failures = lines.map((line) => JSON.parse(line) as { rawData: string; lastErrorCode: string });
    expect(failures.map((failure) => Buffer.from(failure.rawData, 'base64').toString('utf8'))).toEqual(
      badLines,
    );
    expect(failures.every((failure) => failure.lastErrorCode === 'DataFormatConversion.MalformedData')).toBe(
      true,
    );
  });

  it('writes records a previous run staged but did not write', async () => {
    const stagingDir = join(dataDir, 'tmp', 'lake-writer');
    await mkdir(stagingDir, { recursive: true });
    const left = [streamRecord({ messageId: 'left-1' }), streamRecord({ messageId: 'left-2' })];
    await writeFile(
      join(stagingDir, 'earlier-run-000001.ndjson'),
      left.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
    const writer = await openWriter();
    expect(writer.stats().rowsBuffered).toBe(2);
    await writer.flush();
    expect((await readLake()).map((row) => row.message_id)).toEqual(['left-1', 'left-2']);
    expect(await readdir(stagingDir)).toEqual([]);
  });

  it('lands every record put on the stream when subscribed to it', async () => {
    const stream = new MemoryEventStream();
    const writer = await openWriter({ maxFileRows: 500 });
    stream.subscribe({ name: 'lake', handler: writer.handler, maxBatchingWindowMs: 5 });
    const records = Array.from({ length: 2_000 }, (_, i) =>
      streamRecord({ anonymousId: `anon-${i % 50}`, receivedAt: `2026-11-22T1${i % 3}:00:00.000Z` }),
    );
    const encoder = new TextEncoder();
    for (let i = 0; i < records.length; i += 20) {
      const outcome = await stream.put(
        records.slice(i, i + 20).map((record) => ({
          partitionKey: record.anonymousId as string,
          data: encoder.encode(JSON.stringify(record)),
        })),
      );
      expect(outcome.failed).toEqual([]);
    }
    await stream.close();
    await writer.close();
    const counts = await query(
      `SELECT hour::VARCHAR AS hour, count(*)::INTEGER AS n, count(DISTINCT message_id)::INTEGER AS d
       FROM read_parquet($1, hive_partitioning = true, hive_types_autocast = false) GROUP BY ALL ORDER BY hour`,
      [eventsGlob()],
    );
    expect(counts).toEqual([
      { hour: '10', n: 667, d: 667 },
      { hour: '11', n: 667, d: 667 },
      { hour: '12', n: 666, d: 666 },
    ]);
  });
});
