import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  INTERNAL_FAILURE,
  MemoryEventStream,
  type MemoryEventStreamOptions,
  THROTTLED,
} from '../../src/adapters/local/memory-event-stream';
import { NODE_SPILL_FILES, ShardSpill, type SpillFiles } from '../../src/adapters/local/stream-spill';
import type { StreamEntry } from '../../src/ports/event-stream';
import { entry, gate, putNumbered, scriptedHandler, textOf } from '../support/stream-helpers';

const encoder = new TextEncoder();

let dir: string;
const streams: MemoryEventStream[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mosaic-spill-'));
});

afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.close()));
  await rm(dir, { recursive: true, force: true });
});

function newStream(options: MemoryEventStreamOptions = {}): MemoryEventStream {
  const stream = new MemoryEventStream({ spillDir: join(dir, 'stream'), ...options });
  streams.push(stream);
  return stream;
}

async function spillFiles(): Promise<string[]> {
  return existsSync(join(dir, 'stream')) ? readdir(join(dir, 'stream')) : [];
}

describe('ShardSpill', () => {
  it('reads back by position what it appended, across segments, and deletes segments once passed', async () => {
    const spill = new ShardSpill(dir, 'shard', 100, 64);
    const texts = Array.from({ length: 30 }, (_, i) => `record-${i}-${'x'.repeat(i % 7)}`);
    texts.forEach((text, i) => {
      spill.append(`key-${i % 3}`, encoder.encode(text), 1_700_000_000 + i, 500 + i);
    });
    spill.flush();
    expect(spill.start).toBe(100);
    expect(spill.end).toBe(130);
    const segments = await readdir(dir);
    expect(segments.length).toBeGreaterThan(3);

    const all = spill.read(100, 130);
    expect(all.map((record) => Buffer.from(record.data).toString())).toEqual(texts);
    expect(all.map((record) => record.partitionKey)).toEqual(texts.map((_, i) => `key-${i % 3}`));
    expect(all.map((record) => record.arrivalSeconds)).toEqual(texts.map((_, i) => 1_700_000_000 + i));
    expect(spill.read(117, 121).map((record) => Buffer.from(record.data).toString())).toEqual(
      texts.slice(17, 21),
    );
    expect(spill.dataBytesAt(112)).toBe(encoder.encode(texts[12] as string).byteLength);
    expect(spill.arrivedAt(112)).toBe(512);

    const bytes = spill.bytes;
    spill.releaseBefore(115);
    expect((await readdir(dir)).length).toBeLessThan(segments.length);
    expect(spill.bytes).toBeLessThan(bytes);
    // What is left still reads; what was released is gone.
    expect(spill.read(115, 130).map((record) => Buffer.from(record.data).toString())).toEqual(
      texts.slice(15),
    );
    expect(() => spill.read(100, 101)).toThrow(/released/);
    expect(() => spill.read(130, 131)).toThrow(RangeError);

    spill.releaseBefore(130);
    expect(await readdir(dir)).toEqual([]);
    expect(spill.bytes).toBe(0);
    spill.close();
  });

  it('takes back what a failed write left unwritten, and writes the next records where they belong', () => {
    let failNext = false;
    const files: SpillFiles = {
      read: NODE_SPILL_FILES.read,
      // A full disk: part of the bytes are written, then the write fails.
      write: (fd, buffer, offset, length, position) => {
        if (!failNext) return NODE_SPILL_FILES.write(fd, buffer, offset, length, position);
        failNext = false;
        NODE_SPILL_FILES.write(fd, buffer, offset, Math.min(5, length), position);
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const spill = new ShardSpill(dir, 'shard', 10, 1024, files);
    spill.append('k', encoder.encode('kept'), 1, 1);
    spill.flush();
    const bytes = spill.bytes;
    spill.append('k', encoder.encode('lost-1'), 1, 1);
    spill.append('k', encoder.encode('lost-2'), 1, 1);
    failNext = true;
    expect(() => spill.flush()).toThrow(/ENOSPC/);
    expect(spill.end).toBe(11);
    expect(spill.bytes).toBe(bytes);
    expect(spill.pendingRecords).toBe(0);
    spill.append('k', encoder.encode('again'), 1, 1);
    spill.flush();
    expect(spill.read(10, 12).map((record) => Buffer.from(record.data).toString())).toEqual([
      'kept',
      'again',
    ]);
    spill.close();
  });

  it('reads records appended but not yet flushed', () => {
    const spill = new ShardSpill(dir, 'shard', 0);
    spill.append('k', encoder.encode('unflushed'), 1, 1);
    expect(Buffer.from((spill.read(0, 1)[0] as { data: Uint8Array }).data).toString()).toBe('unflushed');
    spill.close();
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
          const spill = new ShardSpill(dir, `p${Math.random().toString(36).slice(2)}`, 7, segmentBytes);
          try {
            for (const record of records) spill.append(record.key, record.data, 1, 1);
            const back = spill.read(7, 7 + records.length);
            expect(back.map((record) => record.partitionKey)).toEqual(records.map((record) => record.key));
            expect(back.map((record) => Buffer.from(record.data).toString('hex'))).toEqual(
              records.map((record) => Buffer.from(record.data).toString('hex')),
            );
          } finally {
            spill.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('MemoryEventStream with a spill folder', () => {
  it('keeps taking records past its memory budget while a consumer lags, then delivers them all in order', async () => {
    const stream = newStream({ maxBufferedRecords: 10, shardCount: 2, spillSegmentBytes: 256 });
    const stalled = gate();
    const delivered: string[] = [];
    stream.subscribe({
      name: 'slow',
      batchSize: 7,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        await stalled.wait;
        delivered.push(...event.Records.map(textOf));
      },
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
    expect(stats.spilledBytes).toBeGreaterThan(0);
    expect(stats.entriesThrottled).toBe(0);
    expect((await spillFiles()).length).toBeGreaterThan(1);

    stalled.open();
    await stream.drain();
    expect(delivered).toHaveLength(200);
    expect(new Set(delivered).size).toBe(200);
    for (const key of keys) {
      expect(delivered.filter((text) => text.startsWith(`${key}#`))).toEqual(
        expected.filter((text) => text.startsWith(`${key}#`)),
      );
    }
    // Caught up: the files are gone and the shards take records in memory again.
    expect(await spillFiles()).toEqual([]);
    expect(stream.stats()).toMatchObject({ spilledRecords: 0, spilledBytes: 0, bufferedRecords: 0 });
    await stream.put([entry('a', 'after')]);
    expect(stream.stats()).toMatchObject({ spilledRecords: 0 });
    await stream.drain();
    expect(delivered.at(-1)).toBe('after');
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
    expect(await spillFiles()).toEqual([]);
  });

  it('lets a fast consumer read spilled records while a slow one holds them, and frees a file once both have passed it', async () => {
    const stream = newStream({ maxBufferedRecords: 5, shardCount: 1, spillSegmentBytes: 200 });
    const slowGate = gate();
    const fast: string[] = [];
    const slow: string[] = [];
    stream.subscribe({
      name: 'fast',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        fast.push(...event.Records.map(textOf));
      },
    });
    stream.subscribe({
      name: 'slow',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        await slowGate.wait;
        slow.push(...event.Records.map(textOf));
      },
    });
    const texts = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (const text of texts) await stream.put([entry('k', text)]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fast).toEqual(texts);
    expect(slow).toEqual([]);
    const files = await spillFiles();
    expect(files.length).toBeGreaterThan(1);
    slowGate.open();
    await stream.drain();
    expect(slow).toEqual(texts);
    expect(await spillFiles()).toEqual([]);
  });

  it('throttles once its files hold maxSpilledBytes, and takes records again as consumers catch up', async () => {
    const stream = newStream({ maxBufferedRecords: 2, shardCount: 1, maxSpilledBytes: 200 });
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
    expect(stream.stats().spilledBytes).toBeLessThanOrEqual(200);
    stalled.open();
    await stream.drain();
    expect(await stream.put([entry('k', 'again')])).toEqual({ failed: [] });
  });

  it('empties its folder when created (a backlog is not recovered) and when closed', async () => {
    const first = newStream({ maxBufferedRecords: 1, shardCount: 1 });
    const stalled = gate();
    first.subscribe({ name: 's', maxBatchingWindowMs: 0, handler: () => stalled.wait });
    await first.put([entry('k', '1'), entry('k', '2'), entry('k', '3')]);
    expect((await spillFiles()).length).toBe(1);
    const second = newStream({ maxBufferedRecords: 1, shardCount: 1 });
    expect(await spillFiles()).toEqual([]);
    stalled.open();
    await second.close();
    const third = new MemoryEventStream({
      spillDir: join(dir, 'third'),
      maxBufferedRecords: 1,
      shardCount: 1,
    });
    const done: KinesisStreamEvent[] = [];
    third.subscribe({
      name: 's',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        done.push(event);
      },
    });
    await third.put([entry('k', '1'), entry('k', '2'), entry('k', '3')]);
    await third.close();
    expect(done.flatMap((event) => event.Records.map(textOf))).toEqual(['1', '2', '3']);
    expect(await readdir(join(dir, 'third'))).toEqual([]);
  });

  it('reports the entries a failed spill write did not store as InternalFailure, and takes them when put again', async () => {
    let full = false;
    const stream = newStream({ maxBufferedRecords: 2, shardCount: 1 });
    stream.injectFaults({
      spillFiles: {
        read: NODE_SPILL_FILES.read,
        write: (...args) => {
          if (full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          return NODE_SPILL_FILES.write(...args);
        },
      },
    });
    const stalled = gate();
    const delivered: string[] = [];
    stream.subscribe({
      name: 'stalled',
      batchSize: 100,
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        await stalled.wait;
        delivered.push(...event.Records.map(textOf));
      },
    });
    full = true;
    const entries = ['m0', 'm1', 'm2', 'm3', 'm4'].map((text) => entry('k', text));
    const outcome = await stream.put(entries);
    // m0 and m1 fit in memory; the rest were to be spilled.
    expect(outcome.failed).toEqual([2, 3, 4].map((index) => ({ index, reason: INTERNAL_FAILURE })));
    expect(stream.stats()).toMatchObject({
      recordsPut: 2,
      spilledRecords: 0,
      spilledBytes: 0,
      spillErrors: 1,
    });
    full = false;
    expect(await stream.put(outcome.failed.map(({ index }) => entries[index] as StreamEntry))).toEqual({
      failed: [],
    });
    stalled.open();
    await stream.drain();
    expect(delivered).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('tries a batch again later when its spilled records cannot be read, and loses none', async () => {
    let readFailures = 2;
    const stream = newStream({ maxBufferedRecords: 1, shardCount: 1 });
    stream.injectFaults({
      spillFiles: {
        write: NODE_SPILL_FILES.write,
        read: (...args) => {
          if (readFailures > 0) {
            readFailures--;
            throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
          }
          return NODE_SPILL_FILES.read(...args);
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
      handler: async (event) => {
        await stalled.wait;
        delivered.push(...event.Records.map(textOf));
      },
    });
    await stream.put([entry('k', 'held')]);
    await stream.put(['s1', 's2', 's3'].map((text) => entry('k', text)));
    const opened = performance.now();
    stalled.open();
    await stream.drain();
    expect(delivered).toEqual(['held', 's1', 's2', 's3']);
    expect(stream.stats().spillErrors).toBe(2);
    // Each failed read waited out maxRetryBackoffMs (20 ms) before the next try.
    expect(performance.now() - opened).toBeGreaterThanOrEqual(35);
    expect(stream.stats().subscriptions.reader).toMatchObject({ failedInvocations: 0, recordsProcessed: 4 });
  });

  it('delivers every record once, in per-key order, to each consumer, whatever the budget, puts and failures (property)', async () => {
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
        async (puts, script, batchSize, shardCount, maxBufferedRecords, spillSegmentBytes) => {
          const stream = new MemoryEventStream({
            spillDir: join(dir, 'property'),
            shardCount,
            maxBufferedRecords,
            spillSegmentBytes,
          });
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
              steady.push(...event.Records.map(textOf));
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
          expect(await readdir(join(dir, 'property'))).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
