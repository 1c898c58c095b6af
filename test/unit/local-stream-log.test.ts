import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fnvShardIndexOf,
  type Partitioning,
  shardIdOf,
  shardIndexOf,
} from '../../src/adapters/local/kinesis-shape';
import {
  INTERNAL_FAILURE,
  MemoryEventStream,
  type MemoryEventStreamOptions,
  THROTTLED,
} from '../../src/adapters/local/memory-event-stream';
import { type LogFiles, NODE_LOG_FILES, ShardLog } from '../../src/adapters/local/stream-log';
import type { StreamEntry } from '../../src/ports/event-stream';
import { collect, entry, gate, putNumbered, scriptedHandler, textOf } from '../support/stream-helpers';

const encoder = new TextEncoder();

let dir: string;
const streams: MemoryEventStream[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mosaic-stream-log-'));
});

afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.close()));
  await rm(dir, { recursive: true, force: true });
});

function newStream(options: MemoryEventStreamOptions = {}): MemoryEventStream {
  const stream = new MemoryEventStream({ logDir: join(dir, 'stream'), ...options });
  streams.push(stream);
  return stream;
}

/** The log's file I/O, whose writes fail as on a full disk while `full` is set. */
function fillableDisk(): { files: LogFiles; full: boolean } {
  const disk = {
    full: false,
    files: {
      read: NODE_LOG_FILES.read,
      writev: (...args: Parameters<LogFiles['writev']>) => {
        if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return NODE_LOG_FILES.writev(...args);
      },
    },
  };
  return disk;
}

/** The log's file I/O, telling `seen` of every write (its buffers and position) as it passes it on. */
function watchedDisk(seen: (buffers: readonly Buffer[], position: number) => void): LogFiles {
  return {
    read: NODE_LOG_FILES.read,
    writev: (fd, buffers, position) => {
      const bytes = NODE_LOG_FILES.writev(fd, buffers, position);
      seen(buffers, position);
      return bytes;
    },
  };
}

/**
 * The data of each frame in what one write took (whole frames: `[crc32][data length][key length]
 * [arrival][key][data]`, as the log writes them).
 */
function framedData(buffers: readonly Buffer[]): string[] {
  const bytes = Buffer.concat(buffers);
  const texts: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const dataLength = bytes.readUInt32LE(at + 4);
    const dataStart = at + 18 + bytes.readUInt16LE(at + 8);
    texts.push(bytes.toString('utf8', dataStart, dataStart + dataLength));
    at = dataStart + dataLength;
  }
  return texts;
}

/** The log's segment files in the stream's folder (beside them: the checkpoints). */
async function logFiles(folder = join(dir, 'stream')): Promise<string[]> {
  return existsSync(folder) ? (await readdir(folder)).filter((file) => file.endsWith('.log')) : [];
}

function openLog(name: string, start: number, segmentBytes?: number, files?: LogFiles): ShardLog {
  return ShardLog.open(dir, name, start, segmentBytes, files).log;
}

describe('ShardLog', () => {
  it('reads back by position what it appended, across segments, and deletes segments once passed', async () => {
    const log = openLog('shard', 100, 64);
    const texts = Array.from({ length: 30 }, (_, i) => `record-${i}-${'x'.repeat(i % 7)}`);
    texts.forEach((text, i) => {
      log.append(`key-${i % 3}`, encoder.encode(text), 1_700_000_000 + i, 500 + i);
    });
    log.flush();
    expect(log.start).toBe(100);
    expect(log.end).toBe(130);
    const segments = await readdir(dir);
    expect(segments.length).toBeGreaterThan(3);

    const all = log.read(100, 130);
    expect(all.map((record) => Buffer.from(record.data).toString())).toEqual(texts);
    expect(all.map((record) => record.partitionKey)).toEqual(texts.map((_, i) => `key-${i % 3}`));
    expect(all.map((record) => record.arrivalSeconds)).toEqual(texts.map((_, i) => 1_700_000_000 + i));
    expect(log.read(117, 121).map((record) => Buffer.from(record.data).toString())).toEqual(
      texts.slice(17, 21),
    );
    expect(log.dataBytesAt(112)).toBe(encoder.encode(texts[12] as string).byteLength);
    expect(log.arrivedAt(112)).toBe(512);

    const bytes = log.bytes;
    log.releaseBefore(115);
    expect((await readdir(dir)).length).toBeLessThan(segments.length);
    expect(log.bytes).toBeLessThan(bytes);
    // What is left still reads; what was released is gone.
    expect(log.read(115, 130).map((record) => Buffer.from(record.data).toString())).toEqual(texts.slice(15));
    expect(() => log.read(100, 101)).toThrow(/not in shard's log \[115, 130\)/);
    expect(() => log.read(130, 131)).toThrow(RangeError);

    // The segment appends go to stays open for them; clear() deletes it too.
    log.releaseBefore(130);
    expect(await readdir(dir)).toHaveLength(1);
    expect(log.start).toBe(130);
    log.clear();
    expect(await readdir(dir)).toEqual([]);
    expect(log.bytes).toBe(0);
    log.close();
  });

  it('takes back what a failed write left unwritten, and writes the next records where they belong', () => {
    let failNext = false;
    const files: LogFiles = {
      read: NODE_LOG_FILES.read,
      // A full disk: part of the bytes are written, then the write fails.
      writev: (fd, buffers, position) => {
        if (!failNext) return NODE_LOG_FILES.writev(fd, buffers, position);
        failNext = false;
        NODE_LOG_FILES.writev(fd, [(buffers[0] as Buffer).subarray(0, 5)], position);
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const log = openLog('shard', 10, 1024, files);
    log.append('k', encoder.encode('kept'), 1, 1);
    log.flush();
    const bytes = log.bytes;
    log.append('k', encoder.encode('lost-1'), 1, 1);
    log.append('k', encoder.encode('lost-2'), 1, 1);
    failNext = true;
    expect(() => log.flush()).toThrow(/ENOSPC/);
    expect(log.end).toBe(11);
    expect(log.bytes).toBe(bytes);
    expect(log.pendingRecords).toBe(0);
    log.append('k', encoder.encode('again'), 1, 1);
    log.flush();
    expect(log.read(10, 12).map((record) => Buffer.from(record.data).toString())).toEqual(['kept', 'again']);
    log.close();
  });

  it('carries on a short write where it stopped, across the pieces of the records', () => {
    // A file system that takes at most 7 bytes a call.
    const files: LogFiles = {
      read: NODE_LOG_FILES.read,
      writev: (fd, buffers, position) => {
        const all = Buffer.concat(buffers as Buffer[]);
        return NODE_LOG_FILES.writev(fd, [all.subarray(0, 7)], position);
      },
    };
    const log = openLog('short', 0, 1024, files);
    const texts = ['', 'one', 'a longer record than seven bytes', 'x'];
    texts.forEach((text, i) => {
      log.append(`key-${i}`, encoder.encode(text), i, i);
    });
    log.flush();
    expect(log.read(0, 4).map((record) => Buffer.from(record.data).toString())).toEqual(texts);
    log.close();
    const { log: reopened, recovery } = ShardLog.open(dir, 'short', 0);
    expect(recovery).toEqual({ records: 4, discardedBytes: 0, keysFit: true });
    expect(reopened.read(0, 4).map((record) => record.partitionKey)).toEqual([
      'key-0',
      'key-1',
      'key-2',
      'key-3',
    ]);
    reopened.close();
  });

  it('reads only records already written: appends wait for the flush, and a read never writes them', () => {
    const writes: number[] = [];
    const log = openLog(
      'shard',
      0,
      undefined,
      watchedDisk((_, position) => writes.push(position)),
    );
    log.append('k', encoder.encode('written'), 1, 1);
    log.flush();
    log.append('k', encoder.encode('unflushed'), 1, 1);
    expect(log.end).toBe(2);
    expect(log.writtenEnd).toBe(1);
    expect(Buffer.from((log.read(0, 1)[0] as { data: Uint8Array }).data).toString()).toBe('written');
    expect(() => log.read(0, 2)).toThrow(/not all written to shard's log \(written up to 1\)/);
    expect(writes).toHaveLength(1);
    log.flush();
    expect(log.writtenEnd).toBe(2);
    expect(Buffer.from((log.read(1, 2)[0] as { data: Uint8Array }).data).toString()).toBe('unflushed');
    log.close();
  });

  it('keeps any record, key and data byte for byte (multi-byte keys, binary data)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
            data: fc.uint8Array({ maxLength: 300 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 16, max: 2048 }),
        (records, segmentBytes) => {
          const log = openLog(`p${Math.random().toString(36).slice(2)}`, 7, segmentBytes);
          try {
            for (const record of records) log.append(record.key, record.data, 1, 1);
            log.flush();
            const back = log.read(7, 7 + records.length);
            expect(back.map((record) => record.partitionKey)).toEqual(records.map((record) => record.key));
            expect(back.map((record) => Buffer.from(record.data).toString('hex'))).toEqual(
              records.map((record) => Buffer.from(record.data).toString('hex')),
            );
          } finally {
            log.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('MemoryEventStream with a log folder', () => {
  it('keeps taking records past its memory budget while a consumer lags, then delivers them all in order', async () => {
    const stream = newStream({ maxBufferedRecords: 10, shardCount: 2, logSegmentBytes: 256 });
    const stalled = gate();
    const delivered: string[] = [];
    stream.subscribe({
      name: 'slow',
      batchSize: 7,
      maxBatchingWindowMs: 0,
      handler: collect(delivered, stalled.wait),
    });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const expected: string[] = [];
    for (let call = 0; call < 40; call++) {
      const entries = keys.map((key) => entry(key, `${key}#${call}`));
      expected.push(...entries.map((e) => Buffer.from(e.data).toString()));
      expect(await stream.put(entries)).toEqual({ failed: [] });
    }
    const stats = stream.stats();
    expect(stats.bufferedRecords).toBeLessThanOrEqual(10);
    expect(stats.spilledRecords + stats.bufferedRecords).toBe(200);
    expect(stats.loggedBytes).toBeGreaterThan(0);
    expect(stats.entriesThrottled).toBe(0);
    expect((await logFiles()).length).toBeGreaterThan(2);

    stalled.open();
    await stream.drain();
    expect(delivered).toHaveLength(200);
    expect(new Set(delivered).size).toBe(200);
    for (const key of keys) {
      expect(delivered.filter((text) => text.startsWith(`${key}#`))).toEqual(
        expected.filter((text) => text.startsWith(`${key}#`)),
      );
    }
    // Caught up: the files passed are gone (each shard keeps the one it appends to) and the shards
    // hold new records in memory again.
    expect((await logFiles()).length).toBeLessThanOrEqual(2);
    expect(stream.stats()).toMatchObject({ spilledRecords: 0, bufferedRecords: 0 });
    expect(stream.stats().loggedBytes).toBe(0);
    await stream.put([entry('a', 'after')]);
    expect(stream.stats()).toMatchObject({ spilledRecords: 0, bufferedRecords: 1 });
    await stream.drain();
    expect(delivered.at(-1)).toBe('after');
    await stream.close();
    expect(await logFiles()).toEqual([]);
  });

  it('delivers spilled records exactly as it delivers held ones (Kinesis shape, sequence numbers, arrival)', async () => {
    const stream = newStream({ maxBufferedRecords: 2, shardCount: 1 });
    const stalled = gate();
    const records: KinesisStreamRecord[] = [];
    stream.subscribe({
      name: 'shape',
      batchSize: 100,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        await stalled.wait;
        records.push(...event.Records);
      },
    });
    await stream.put([entry('k-1', 'held-1'), entry('k-1', 'held-2'), entry('k-1', 'spilled-1')]);
    await stream.put([entry('k-2', 'spilled-2')]);
    expect(stream.stats().spilledRecords).toBe(2);
    stalled.open();
    await stream.drain();
    const texts = records.map(textOf);
    expect(texts).toEqual(['held-1', 'held-2', 'spilled-1', 'spilled-2']);
    const [held, , spilled] = records as [KinesisStreamRecord, KinesisStreamRecord, KinesisStreamRecord];
    expect(Object.keys(spilled).sort()).toEqual(Object.keys(held).sort());
    expect(spilled.kinesis.partitionKey).toBe('k-1');
    expect(spilled.kinesis.approximateArrivalTimestamp).toBeCloseTo(
      held.kinesis.approximateArrivalTimestamp,
      0,
    );
    const sequence = records.map((record) => BigInt(record.kinesis.sequenceNumber));
    expect([...sequence].sort((x, y) => (x < y ? -1 : 1))).toEqual(sequence);
    expect(new Set(records.map((record) => record.eventID)).size).toBe(4);
  });

  it('retries a spilled record that failed from where it failed, and hands exhausted ones to the failure destination', async () => {
    const stream = newStream({ maxBufferedRecords: 3, shardCount: 1 });
    const stalled = gate();
    const seen: string[] = [];
    let failOnce = true;
    stream.subscribe({
      name: 'flaky',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      retryBackoffMs: 1,
      maxRetries: 2,
      handler: async (event): Promise<KinesisStreamBatchResponse> => {
        await stalled.wait;
        const failures: string[] = [];
        for (const record of event.Records) {
          const text = textOf(record);
          seen.push(text);
          if ((text === 'r5' && failOnce) || text === 'poison') failures.push(record.kinesis.sequenceNumber);
        }
        if (failures.length > 0 && seen.includes('r5')) failOnce = false;
        return { batchItemFailures: failures.slice(0, 1).map((itemIdentifier) => ({ itemIdentifier })) };
      },
    });
    await stream.put(Array.from({ length: 8 }, (_, i) => entry('k', `r${i}`)));
    await stream.put([entry('k', 'poison'), entry('k', 'r8')]);
    expect(stream.stats().spilledRecords).toBeGreaterThan(0);
    stalled.open();
    await stream.drain();
    const stats = stream.stats().subscriptions.flaky;
    expect(stats?.recordsToFailureDestination).toBe(2); // poison and r8, the rest of its batch
    // r5 failed once and was delivered again with what followed it; nothing before it was.
    expect(seen.filter((text) => text === 'r5')).toHaveLength(2);
    expect(seen.filter((text) => text === 'r4')).toHaveLength(1);
    expect((await logFiles()).length).toBeLessThanOrEqual(1);
  });

  it('lets a fast consumer read spilled records while a slow one holds them, and frees a file once both have passed it', async () => {
    const stream = newStream({ maxBufferedRecords: 5, shardCount: 1, logSegmentBytes: 200 });
    const slowGate = gate();
    const fast: string[] = [];
    const slow: string[] = [];
    stream.subscribe({
      name: 'fast',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      handler: collect(fast),
    });
    stream.subscribe({
      name: 'slow',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      handler: collect(slow, slowGate.wait),
    });
    const texts = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (const text of texts) await stream.put([entry('k', text)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fast).toEqual(texts);
    expect(slow).toEqual([]);
    const files = await logFiles();
    expect(files.length).toBeGreaterThan(2);
    slowGate.open();
    await stream.drain();
    expect(slow).toEqual(texts);
    expect(await logFiles()).toEqual([files.at(-1)]);
  });

  it('throttles once its files hold maxLogBytes, and takes records again as consumers catch up', async () => {
    const stream = newStream({ maxBufferedRecords: 2, shardCount: 1, maxLogBytes: 200 });
    const stalled = gate();
    stream.subscribe({
      name: 'stalled',
      batchSize: 100,
      maxBatchingWindowMs: 0,
      handler: async () => {
        await stalled.wait;
      },
    });
    const outcome = await stream.put(Array.from({ length: 30 }, (_, i) => entry('k', `record-${i}`)));
    expect(outcome.failed.length).toBeGreaterThan(0);
    const firstFailed = (outcome.failed[0] as { index: number }).index;
    // Everything from the first refusal on is refused, so a retry keeps the key's order.
    expect(outcome.failed).toEqual(
      Array.from({ length: 30 - firstFailed }, (_, i) => ({ index: firstFailed + i, reason: THROTTLED })),
    );
    expect(stream.stats().loggedBytes).toBeLessThanOrEqual(200);
    stalled.open();
    await stream.drain();
    expect(await stream.put([entry('k', 'again')])).toEqual({ failed: [] });
  });

  it('reports the entries a failed log write did not store as InternalFailure, holds none of them, and takes them when put again', async () => {
    const disk = fillableDisk();
    const stream = newStream({ maxBufferedRecords: 2, shardCount: 1 });
    stream.injectFaults({ logFiles: disk.files });
    const stalled = gate();
    const delivered: string[] = [];
    stream.subscribe({
      name: 'stalled',
      batchSize: 100,
      maxBatchingWindowMs: 0,
      handler: collect(delivered, stalled.wait),
    });
    disk.full = true;
    const entries = ['m0', 'm1', 'm2', 'm3', 'm4'].map((text) => entry('k', text));
    const outcome = await stream.put(entries);
    // Nothing is acknowledged that is not in the log: not m0 and m1, which memory would have held too,
    // nor the ones past the budget.
    expect(outcome.failed).toEqual([0, 1, 2, 3, 4].map((index) => ({ index, reason: INTERNAL_FAILURE })));
    expect(stream.stats()).toMatchObject({
      recordsPut: 0,
      bufferedRecords: 0,
      spilledRecords: 0,
      loggedBytes: 0,
      logErrors: 1,
    });
    disk.full = false;
    expect(await stream.put(outcome.failed.map(({ index }) => entries[index] as StreamEntry))).toEqual({
      failed: [],
    });
    stalled.open();
    await stream.drain();
    expect(delivered).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('writes the puts of one turn together, one write per shard, and delivers records only once written', async () => {
    const stream = newStream({ shardCount: 2 });
    const writes: number[] = [];
    const framed: string[] = [];
    stream.injectFaults({
      logFiles: watchedDisk((buffers) => {
        writes.push(buffers.length);
        framed.push(...framedData(buffers));
      }),
    });
    const delivered: string[] = [];
    let writesAtFirstDelivery: number | undefined;
    stream.subscribe({
      name: 'reader',
      batchSize: 1000,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        writesAtFirstDelivery ??= writes.length;
        delivered.push(...event.Records.map(textOf));
      },
    });
    const keys = Array.from({ length: 8 }, (_, i) => `person-${i}`);
    const puts = Array.from({ length: 25 }, (_, call) =>
      stream.put(keys.map((key) => entry(key, `${key}#${call}`))),
    );
    // Appended, not written yet: the turn's puts are written together once its callbacks have run.
    expect(writes).toEqual([]);
    expect(stream.stats().recordsPut).toBe(200);
    expect(await Promise.all(puts)).toEqual(puts.map(() => ({ failed: [] })));
    // Both shards written, each with one write of all 25 puts' frames, one after another in one buffer.
    expect(writes).toEqual([1, 1]);
    expect(framed.sort()).toEqual(
      keys.flatMap((key) => Array.from({ length: 25 }, (_, call) => `${key}#${call}`)).sort(),
    );
    await stream.drain();
    expect(writesAtFirstDelivery).toBe(2);
    for (const key of keys) {
      expect(delivered.filter((text) => text.startsWith(`${key}#`))).toEqual(
        Array.from({ length: 25 }, (_, call) => `${key}#${call}`),
      );
    }
  });

  it('fails the entries of every put of a turn whose write fails, delivers none of them, and takes them again', async () => {
    const disk = fillableDisk();
    const stream = newStream({ shardCount: 1 });
    stream.injectFaults({ logFiles: disk.files });
    const delivered: string[] = [];
    stream.subscribe({ name: 'reader', batchSize: 100, maxBatchingWindowMs: 0, handler: collect(delivered) });
    expect(await stream.put([entry('k', 'before')])).toEqual({ failed: [] });
    disk.full = true;
    const first = [entry('k', 'a0'), entry('j', 'a1')];
    const second = [entry('k', 'b0'), entry('k', 'b1'), entry('j', 'b2')];
    const outcomes = await Promise.all([stream.put(first), stream.put(second)]);
    expect(outcomes).toEqual([
      { failed: [0, 1].map((index) => ({ index, reason: INTERNAL_FAILURE })) },
      { failed: [0, 1, 2].map((index) => ({ index, reason: INTERNAL_FAILURE })) },
    ]);
    expect(stream.stats()).toMatchObject({ recordsPut: 1, bufferedRecords: 0, logErrors: 1 });
    await stream.drain();
    expect(delivered).toEqual(['before']);
    disk.full = false;
    expect(await Promise.all([stream.put(first), stream.put(second)])).toEqual([
      { failed: [] },
      { failed: [] },
    ]);
    await stream.drain();
    expect(delivered).toEqual(['before', 'a0', 'a1', 'b0', 'b1', 'b2']);
  });

  it('tries a batch again later when its spilled records cannot be read, and loses none', async () => {
    let readFailures = 2;
    const stream = newStream({ maxBufferedRecords: 1, shardCount: 1 });
    stream.injectFaults({
      logFiles: {
        writev: NODE_LOG_FILES.writev,
        read: (...args) => {
          if (readFailures > 0) {
            readFailures--;
            throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
          }
          return NODE_LOG_FILES.read(...args);
        },
      },
    });
    const stalled = gate();
    const delivered: string[] = [];
    stream.subscribe({
      name: 'reader',
      batchSize: 100,
      maxBatchingWindowMs: 0,
      maxRetryBackoffMs: 20,
      handler: collect(delivered, stalled.wait),
    });
    await stream.put([entry('k', 'held')]);
    await stream.put(['s1', 's2', 's3'].map((text) => entry('k', text)));
    const opened = performance.now();
    stalled.open();
    await stream.drain();
    expect(delivered).toEqual(['held', 's1', 's2', 's3']);
    expect(stream.stats().logErrors).toBe(2);
    // Each failed read waited out maxRetryBackoffMs (20 ms) before the next try.
    expect(performance.now() - opened).toBeGreaterThanOrEqual(35);
    expect(stream.stats().subscriptions.reader).toMatchObject({ failedInvocations: 0, recordsProcessed: 4 });
  });

  it('delivers every record once, in per-key order, to each consumer, whatever the budget, puts and failures (property)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1, maxLength: 10 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.oneof(fc.constant<'ok'>('ok'), fc.constant<'throw'>('throw'), fc.nat(20)), {
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 20, max: 400 }),
        async (puts, script, batchSize, shardCount, maxBufferedRecords, logSegmentBytes) => {
          const stream = new MemoryEventStream({
            logDir: join(dir, `property-${++runs}`),
            shardCount,
            maxBufferedRecords,
            logSegmentBytes,
          });
          // What reached the files: no record is delivered before it is written.
          const written = new Set<string>();
          stream.injectFaults({
            logFiles: watchedDisk((buffers) => {
              for (const text of framedData(buffers)) written.add(text);
            }),
          });
          const unwrittenDeliveries: string[] = [];
          const flaky: string[] = [];
          const steady: string[] = [];
          stream.subscribe({
            name: 'flaky',
            batchSize,
            maxBatchingWindowMs: 0,
            maxRetries: 10_000,
            retryBackoffMs: 0,
            handler: scriptedHandler(script, flaky),
          });
          stream.subscribe({
            name: 'steady',
            batchSize: 3,
            maxBatchingWindowMs: 0,
            handler: async (event) => {
              const texts = event.Records.map(textOf);
              unwrittenDeliveries.push(...texts.filter((text) => !written.has(text)));
              steady.push(...texts);
            },
          });
          const { outcomes, expected, count: n } = await putNumbered(stream, puts);
          expect(outcomes.every((outcome) => outcome.failed.length === 0)).toBe(true);
          await stream.close();
          for (const processed of [flaky, steady]) {
            expect(processed).toHaveLength(n);
            for (const [key, texts] of expected) {
              expect(processed.filter((text) => text.startsWith(`${key}:`))).toEqual(texts);
            }
          }
          expect(unwrittenDeliveries).toEqual([]);
          expect(await logFiles(join(dir, `property-${runs}`))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('MemoryEventStream started again on its log folder', () => {
  /** A subscription that records what it is given and, after `succeed` batches, never finishes another (the process stopped there). */
  function stoppingHandler(into: string[], succeed: number) {
    let calls = 0;
    return async (event: KinesisStreamEvent) => {
      calls++;
      if (calls > succeed) return new Promise<void>(() => {});
      into.push(...event.Records.map(textOf));
    };
  }

  const turns = async (n = 3) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('delivers to each subscription, once and in order, what it had not processed when the last run stopped, and carries on its sequence numbers', async () => {
    const logDir = join(dir, 'stream');
    // The run that stops abruptly: never closed, a batch of `slow` left hanging.
    const first = new MemoryEventStream({ logDir, shardCount: 2, maxBufferedRecords: 3 });
    const fastBefore: string[] = [];
    const slowBefore: string[] = [];
    /** Per shard, the highest sequence number the first run delivered. */
    const highest = new Map<string, bigint>();
    first.subscribe({
      name: 'fast',
      batchSize: 4,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        fastBefore.push(...event.Records.map(textOf));
        for (const record of event.Records)
          highest.set(shardOf(record), BigInt(record.kinesis.sequenceNumber));
      },
    });
    first.subscribe({
      name: 'slow',
      batchSize: 4,
      maxBatchingWindowMs: 0,
      handler: stoppingHandler(slowBefore, 1),
    });
    const { expected, count } = await putNumbered(first, [
      ['a', 'b', 'c', 'a'],
      ['b', 'b', 'c', 'a', 'c'],
      ['a', 'c', 'b', 'a', 'b', 'c', 'a'],
    ]);
    await vi.waitFor(() => expect(fastBefore).toHaveLength(count));
    await turns();
    expect(slowBefore.length).toBeGreaterThan(0);
    expect(slowBefore.length).toBeLessThan(count);
    // The positions are written without blocking the event loop, a moment after they move: the run
    // stops once they are on disk (a crash before would deliver those records again, at least once).
    await vi.waitFor(async () => {
      const written = JSON.parse(await readFile(join(logDir, 'checkpoints.json'), 'utf8'));
      const processed = (positions: number[]) => positions.reduce((sum, position) => sum + position, 0);
      expect(processed(written.subscriptions.fast)).toBe(count);
      expect(processed(written.subscriptions.slow)).toBe(slowBefore.length);
    });

    const second = newStream({ shardCount: 2, maxBufferedRecords: 3 });
    expect(second.stats().recoveredRecords).toBe(count - slowBefore.length);
    const fastAfter: KinesisStreamRecord[] = [];
    const slowAfter: string[] = [];
    second.subscribe({
      name: 'fast',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        fastAfter.push(...event.Records);
      },
    });
    second.subscribe({
      name: 'slow',
      maxBatchingWindowMs: 0,
      handler: collect(slowAfter),
    });
    await second.drain();
    expect(fastAfter).toEqual([]);
    expect(slowAfter).toHaveLength(count - slowBefore.length);
    for (const [key, texts] of expected) {
      const ofKey = (list: string[]) => list.filter((text) => text.startsWith(`${key}:`));
      expect([...ofKey(slowBefore), ...ofKey(slowAfter)]).toEqual(texts);
    }
    await second.put([entry('a', 'after'), entry('b', 'after'), entry('c', 'after')]);
    await second.drain();
    expect(fastAfter.map(textOf)).toEqual(['after', 'after', 'after']);
    expect(highest.size).toBe(2);
    for (const record of fastAfter) {
      expect(BigInt(record.kinesis.sequenceNumber) > (highest.get(shardOf(record)) ?? 0n)).toBe(true);
    }
  });

  it('lets a subscription new to the folder start with the oldest record still held', async () => {
    const logDir = join(dir, 'stream');
    const first = new MemoryEventStream({ logDir, shardCount: 1 });
    first.subscribe({ name: 'stuck', maxBatchingWindowMs: 0, handler: stoppingHandler([], 0) });
    await first.put(['1', '2', '3'].map((text) => entry('k', text)));
    await turns();
    const second = newStream({ shardCount: 1 });
    const seen: string[] = [];
    second.subscribe({
      name: 'new',
      maxBatchingWindowMs: 0,
      handler: collect(seen),
    });
    await vi.waitFor(() => expect(seen).toEqual(['1', '2', '3']));
  });

  it('deletes its files on a clean close once everything is processed, and the next run carries on its positions', async () => {
    const first = newStream({ shardCount: 1 });
    const firstRun: KinesisStreamRecord[] = [];
    first.subscribe({
      name: 's',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        firstRun.push(...event.Records);
      },
    });
    await first.put(['1', '2', '3'].map((text) => entry('k', text)));
    await first.close();
    expect(await logFiles()).toEqual([]);
    expect(await readdir(join(dir, 'stream'))).toEqual(['checkpoints.json']);

    const second = newStream({ shardCount: 1 });
    expect(second.stats().recoveredRecords).toBe(0);
    const secondRun: KinesisStreamRecord[] = [];
    second.subscribe({
      name: 's',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        secondRun.push(...event.Records);
      },
    });
    await second.put([entry('k', '4')]);
    await second.drain();
    expect(secondRun.map(textOf)).toEqual(['4']);
    const last = BigInt((firstRun.at(-1) as KinesisStreamRecord).kinesis.sequenceNumber);
    expect(BigInt((secondRun[0] as KinesisStreamRecord).kinesis.sequenceNumber) > last).toBe(true);
  });

  it('deletes the spill files versions before the log left behind (they were never read back)', async () => {
    await mkdir(join(dir, 'stream'), { recursive: true });
    await writeFile(join(dir, 'stream', 'shardId-000000000000-000000000120.spill'), 'old backlog');
    const stream = newStream({ shardCount: 1 });
    expect(stream.stats().recoveredRecords).toBe(0);
    expect(await readdir(join(dir, 'stream'))).toEqual(['checkpoints.json']);
  });

  it('keeps the records of a stream closed with nobody subscribed for the next run', async () => {
    const first = newStream({ shardCount: 1 });
    await first.put(['1', '2'].map((text) => entry('k', text)));
    await first.close();
    const second = newStream({ shardCount: 1 });
    expect(second.stats().recoveredRecords).toBe(2);
    const seen: string[] = [];
    second.subscribe({
      name: 's',
      maxBatchingWindowMs: 0,
      handler: collect(seen),
    });
    await second.drain();
    expect(seen).toEqual(['1', '2']);
  });

  it('refuses a folder written with another shard count, or a checkpoint file it cannot read, saying what to do', async () => {
    const first = newStream({ shardCount: 2 });
    first.subscribe({ name: 's', maxBatchingWindowMs: 0, handler: async () => {} });
    await first.put([entry('k', '1')]);
    await first.close();
    expect(() => new MemoryEventStream({ logDir: join(dir, 'stream'), shardCount: 4 })).toThrow(
      /written with 2 shards, not 4\. Start it with 2 shards, or remove the folder/,
    );
    await writeFile(join(dir, 'stream', 'checkpoints.json'), '{"version":1,"shards":');
    expect(() => new MemoryEventStream({ logDir: join(dir, 'stream'), shardCount: 2 })).toThrow(
      /checkpoints\.json is not a stream checkpoint file.*Remove it to have every record the log beside it still holds delivered again/,
    );
  });

  describe('partitioning', () => {
    const SHARDS = 4;
    /** Keys that MD5 (Kinesis's mapping) and FNV-1a put on different shards. */
    const keys = Array.from({ length: 200 }, (_, i) => `anon-${i}`)
      .filter((key) => shardIndexOf(key, SHARDS) !== fnvShardIndexOf(key, SHARDS))
      .slice(0, 8);
    const shardOfRecord = (record: KinesisStreamRecord) => record.eventID.split(':')[0] as string;
    const checkpointsFile = async () =>
      JSON.parse(await readFile(join(dir, 'stream', 'checkpoints.json'), 'utf8')) as Record<string, unknown>;

    /**
     * A log as an older version left it: two records of each key on the shard `shardOf` gives (MD5's
     * unless told), not yet processed by subscription `s`, with version 1 checkpoints (no partitioning
     * named), or none.
     */
    function olderVersionLog(
      checkpoints: boolean,
      shardOf: (key: string) => number = (key) => shardIndexOf(key, SHARDS),
    ) {
      const folder = join(dir, 'stream');
      mkdirSync(folder, { recursive: true });
      const logs = Array.from({ length: SHARDS }, (_, i) => ShardLog.open(folder, shardIdOf(i), 0).log);
      for (const n of [1, 2]) {
        for (const key of keys)
          (logs[shardOf(key)] as ShardLog).append(key, encoder.encode(`${key}#${n}`), 1, 1);
      }
      for (const log of logs) log.flush();
      const ends = logs.map((log) => log.end);
      for (const log of logs) log.close();
      if (checkpoints) {
        const file = { version: 1, shards: SHARDS, ends, subscriptions: { s: ends.map(() => 0) } };
        writeFileSync(join(folder, 'checkpoints.json'), JSON.stringify(file));
      }
    }

    /** Puts `#3` of each key and delivers everything to `s`: per key, its records and their shards. */
    async function deliverAll(stream: MemoryEventStream) {
      const byKey = new Map<string, { texts: string[]; shards: Set<string> }>();
      stream.subscribe({
        name: 's',
        maxBatchingWindowMs: 0,
        handler: async (event) => {
          for (const record of event.Records) {
            const seen = byKey.get(record.kinesis.partitionKey) ?? { texts: [], shards: new Set<string>() };
            seen.texts.push(textOf(record));
            seen.shards.add(shardOfRecord(record));
            byKey.set(record.kinesis.partitionKey, seen);
          }
        },
      });
      await stream.put(keys.map((key) => entry(key, `${key}#3`)));
      await stream.drain();
      return byKey;
    }

    it('names FNV-1a in the checkpoints of a new folder before the first put, and puts each key where FNV-1a maps it', async () => {
      expect(keys).toHaveLength(8);
      const stream = newStream({ shardCount: SHARDS });
      expect(stream.partitioning).toBe('fnv1a');
      expect(await checkpointsFile()).toMatchObject({ version: 2, partitioning: 'fnv1a', shards: SHARDS });
      const byKey = await deliverAll(stream);
      for (const key of keys) {
        expect([...(byKey.get(key)?.shards ?? [])]).toEqual([shardIdOf(fnvShardIndexOf(key, SHARDS))]);
      }
    });

    it.each([
      ['version 1 checkpoints', true],
      ['no checkpoints', false],
    ])(
      "keeps MD5 for an older version's log with %s while it holds records, then moves to FNV-1a",
      async (_, checkpoints) => {
        olderVersionLog(checkpoints);
        const second = newStream({ shardCount: SHARDS });
        expect(second.partitioning).toBe('md5');
        const byKey = await deliverAll(second);
        // Each key's new record goes to the shard of its old ones, so it comes after them.
        for (const key of keys) {
          expect(byKey.get(key)?.texts).toEqual([`${key}#1`, `${key}#2`, `${key}#3`]);
          expect([...(byKey.get(key)?.shards ?? [])]).toEqual([shardIdOf(shardIndexOf(key, SHARDS))]);
        }
        await second.close();
        expect(await checkpointsFile()).toMatchObject({ version: 2, partitioning: 'md5' });
        // Everything processed: nothing is left that MD5 put, so the next run maps with FNV-1a.
        const third = newStream({ shardCount: SHARDS });
        expect(third.partitioning).toBe('fnv1a');
        expect(await checkpointsFile()).toMatchObject({ version: 2, partitioning: 'fnv1a' });
        const after = await deliverAll(third);
        for (const key of keys) {
          expect(after.get(key)?.texts).toEqual([`${key}#3`]);
          expect([...(after.get(key)?.shards ?? [])]).toEqual([shardIdOf(fnvShardIndexOf(key, SHARDS))]);
        }
      },
    );

    it('reads a log whose checkpoints are gone with FNV-1a when every record it holds is where FNV-1a puts its key', async () => {
      olderVersionLog(false, (key) => fnvShardIndexOf(key, SHARDS));
      const stream = newStream({ shardCount: SHARDS });
      expect(stream.partitioning).toBe('fnv1a');
      const byKey = await deliverAll(stream);
      for (const key of keys) {
        expect(byKey.get(key)?.texts).toEqual([`${key}#1`, `${key}#2`, `${key}#3`]);
        expect(byKey.get(key)?.shards.size).toBe(1);
      }
    });

    it('keeps the partitioning its checkpoints name while records are left, whatever their keys suggest', async () => {
      olderVersionLog(true, (key) => fnvShardIndexOf(key, SHARDS));
      const file = await checkpointsFile();
      await writeFile(
        join(dir, 'stream', 'checkpoints.json'),
        JSON.stringify({ ...file, version: 2, partitioning: 'md5' satisfies Partitioning }),
      );
      expect(newStream({ shardCount: SHARDS }).partitioning).toBe('md5');
    });

    it('refuses checkpoints naming a partitioning it does not know', async () => {
      olderVersionLog(true);
      const file = await checkpointsFile();
      await writeFile(
        join(dir, 'stream', 'checkpoints.json'),
        JSON.stringify({ ...file, version: 2, partitioning: 'crc' }),
      );
      expect(() => newStream({ shardCount: SHARDS })).toThrow(
        /checkpoints\.json is not a stream checkpoint file/,
      );
    });
  });

  it('delivers every record its log holds again when the checkpoints are gone (at least once)', async () => {
    const first = new MemoryEventStream({ logDir: join(dir, 'stream'), shardCount: 1 });
    const before: string[] = [];
    first.subscribe({ name: 's', batchSize: 1, maxBatchingWindowMs: 0, handler: stoppingHandler(before, 1) });
    await first.put(['1', '2', '3'].map((text) => entry('k', text)));
    await vi.waitFor(() => expect(before).toEqual(['1']));
    await turns();
    await rm(join(dir, 'stream', 'checkpoints.json'));
    const second = newStream({ shardCount: 1 });
    expect(second.stats().recoveredRecords).toBe(3);
    const after: string[] = [];
    second.subscribe({
      name: 's',
      maxBatchingWindowMs: 0,
      handler: collect(after),
    });
    await second.drain();
    expect(after).toEqual(['1', '2', '3']);
  });
});

describe('ShardLog read back from its files', () => {
  const texts = Array.from({ length: 12 }, (_, i) => `record-${i}`);

  function written(name: string): ShardLog {
    const log = openLog(name, 40, 100);
    for (const text of texts) log.append('key', encoder.encode(text), 1_700_000_000, 1);
    log.flush();
    log.close();
    return log;
  }

  function reopen(name: string) {
    return ShardLog.open(dir, name, 0, 100);
  }

  const read = (log: ShardLog) =>
    log.read(log.start, log.end).map((record) => Buffer.from(record.data).toString());

  it('reads every record back in place, with its key and arrival, and appends after them', async () => {
    written('whole');
    const { log, recovery } = reopen('whole');
    expect(recovery).toEqual({ records: 12, discardedBytes: 0, keysFit: true });
    expect([log.start, log.end]).toEqual([40, 52]);
    expect(read(log)).toEqual(texts);
    expect(log.read(45, 46)[0]).toMatchObject({ partitionKey: 'key', arrivalSeconds: 1_700_000_000 });
    log.append('key', encoder.encode('next'), 1, 1);
    log.flush();
    expect(log.read(52, 53).map((record) => Buffer.from(record.data).toString())).toEqual(['next']);
    log.close();
    expect(read(reopen('whole').log)).toEqual([...texts, 'next']);
  });

  it('copies what it appends: the caller may reuse its buffer before the flush, for frames of any size', () => {
    const log = openLog('copied', 0, 64 * 1024 * 1024);
    const sizes = [10, 900, 200_000, 5, 150_000, 700_000, 40];
    const texts = sizes.map((size, i) => String(i).repeat(size));
    // More than the staging buffer takes in one flush, and a frame too large for it.
    const reused = Buffer.alloc(800_000);
    for (const text of texts) {
      const length = reused.write(text);
      log.append(`key-${text.length}`, reused.subarray(0, length), 1, 1);
      reused.fill('x');
    }
    log.flush();
    for (const text of texts.slice(0, 3)) log.append('again', encoder.encode(text), 2, 2);
    log.flush();
    expect(read(log)).toEqual([...texts, ...texts.slice(0, 3)]);
    log.close();
    expect(read(reopen('copied').log)).toEqual([...texts, ...texts.slice(0, 3)]);
  });

  it('cuts the log off where a write was cut short, keeping every whole record before it', async () => {
    written('torn');
    const files = (await readdir(dir)).sort();
    const last = join(dir, files.at(-1) as string);
    const size = (await stat(last)).size;
    await truncate(last, size - 3);
    const { log, recovery } = reopen('torn');
    expect(recovery.records).toBe(11);
    expect(recovery.discardedBytes).toBe(size - 3 - (await stat(last)).size);
    expect(read(log)).toEqual(texts.slice(0, 11));
    log.close();
  });

  it('ends the log at a damaged record (its CRC does not match) and drops the files after it', async () => {
    written('damaged');
    const files = (await readdir(dir)).sort();
    expect(files.length).toBeGreaterThan(3);
    const second = join(dir, files[1] as string);
    const bytes = await readFile(second);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0xff, bytes.length - 2);
    await writeFile(second, bytes);
    const { log, recovery } = reopen('damaged');
    expect(recovery.discardedBytes).toBeGreaterThan(0);
    expect(read(log)).toEqual(texts.slice(0, recovery.records));
    expect(recovery.records).toBeLessThan(texts.length);
    expect((await readdir(dir)).length).toBe(2);
    log.close();
  });
});

/** The shard a delivered record came from (its event id is `<shard id>:<sequence number>`). */
function shardOf(record: KinesisStreamRecord): string {
  return record.eventID.split(':')[0] as string;
}
