import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileFailureDestination, type FailedBatch } from '../../src/adapters/local/failure-destination';
import {
  MemoryEventStream,
  type MemoryEventStreamOptions,
  THROTTLED,
} from '../../src/adapters/local/memory-event-stream';
import { ManualClock } from '../../src/ports/clock';
import type { StreamEntry } from '../../src/ports/event-stream';
import {
  collect as collectInto,
  entry,
  gate,
  putNumbered,
  scriptedHandler,
  textOf,
} from '../support/stream-helpers';

/** V8's `gc()`, for a test that measures what stays reachable. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function texts(event: KinesisStreamEvent): string[] {
  return event.Records.map(textOf);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

const streams: MemoryEventStream[] = [];
function newStream(options: MemoryEventStreamOptions = {}): MemoryEventStream {
  const stream = new MemoryEventStream(options);
  streams.push(stream);
  return stream;
}

afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.close()));
});

/** Subscribes a handler that records every batch it is given, and succeeds. */
function collect(
  stream: MemoryEventStream,
  options: { batchSize?: number; maxBatchingWindowMs?: number } = {},
) {
  const batches: KinesisStreamEvent[] = [];
  const subscription = stream.subscribe({
    name: `collector-${streams.length}-${Math.random()}`,
    maxBatchingWindowMs: 0,
    ...options,
    handler: async (event) => {
      batches.push(event);
    },
  });
  return { batches, subscription, all: () => batches.flatMap(texts) };
}

describe('MemoryEventStream', () => {
  it('keeps each partition key in put order across many concurrent puts', async () => {
    const stream = newStream();
    const { all } = collect(stream, { batchSize: 7 });
    const keys = Array.from({ length: 13 }, (_, i) => `user-${i}`);
    const expected = new Map<string, string[]>(keys.map((key) => [key, []]));
    const calls: Promise<unknown>[] = [];
    for (let call = 0; call < 60; call++) {
      const entries: StreamEntry[] = [];
      for (let i = 0; i < 20; i++) {
        const key = keys[(call * 7 + i * 3) % keys.length] as string;
        const text = `${key}#${call}-${i}`;
        expected.get(key)?.push(text);
        entries.push(entry(key, text));
      }
      calls.push(stream.put(entries));
    }
    const outcomes = await Promise.all(calls);
    expect(outcomes).toEqual(calls.map(() => ({ failed: [] })));
    await stream.drain();

    const delivered = all();
    expect(delivered).toHaveLength(60 * 20);
    for (const key of keys) {
      expect(delivered.filter((text) => text.startsWith(`${key}#`))).toEqual(expected.get(key));
    }
  });

  it('delivers records shaped like Kinesis records for Lambda', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 22, 16, 5, 12, 345));
    const stream = newStream({ clock, region: 'eu-west-1', accountId: '123456789012', streamName: 'events' });
    const { batches } = collect(stream);
    await stream.put([entry('anon-1', '{"a":1}'), entry('anon-1', '{"a":2}'), entry('anon-2', '{"b":3}')]);
    await stream.drain();

    const records = batches.flatMap((batch) => batch.Records);
    expect(records).toHaveLength(3);
    const first = records.find((record) => textOf(record) === '{"a":1}') as KinesisStreamRecord;
    expect(first).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'anon-1',
        sequenceNumber: expect.stringMatching(/^\d{56}$/),
        data: Buffer.from('{"a":1}').toString('base64'),
        approximateArrivalTimestamp: clock.now() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: expect.stringMatching(/^shardId-\d{12}:\d{56}$/),
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::123456789012:role\//),
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/events',
    });
    expect(first.eventID.endsWith(`:${first.kinesis.sequenceNumber}`)).toBe(true);

    // Same key, same shard, increasing sequence numbers.
    const [a1, a2] = records.filter((record) => record.kinesis.partitionKey === 'anon-1') as [
      KinesisStreamRecord,
      KinesisStreamRecord,
    ];
    expect(a1.eventID.split(':')[0]).toBe(a2.eventID.split(':')[0]);
    expect(BigInt(a2.kinesis.sequenceNumber) > BigInt(a1.kinesis.sequenceNumber)).toBe(true);
  });

  it('spreads partition keys over the shards by hash', async () => {
    const stream = newStream({ shardCount: 4 });
    const { batches } = collect(stream);
    await stream.put(Array.from({ length: 400 }, (_, i) => entry(`key-${i}`, `${i}`)));
    await stream.drain();
    const perShard = new Map<string, number>();
    for (const record of batches.flatMap((batch) => batch.Records)) {
      const shard = record.eventID.split(':')[0] as string;
      perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    }
    expect([...perShard.keys()].sort()).toEqual(stream.shardIds);
    for (const count of perShard.values()) expect(count).toBeGreaterThan(50);
    // Every batch comes from a single shard.
    for (const batch of batches)
      expect(new Set(batch.Records.map((r) => r.eventID.split(':')[0])).size).toBe(1);
  });

  it('keeps sending a key to the same shard however many other keys come between', async () => {
    const stream = newStream({ maxBufferedRecords: 100_000 });
    const { batches } = collect(stream, { batchSize: 1000 });
    await stream.put([entry('steady', 'first')]);
    for (let call = 0; call < 30; call++) {
      await stream.put(Array.from({ length: 1000 }, (_, i) => entry(`key-${call}-${i}`, 'filler')));
    }
    await stream.put([entry('steady', 'last')]);
    await stream.drain();
    const steady = batches
      .flatMap((batch) => batch.Records)
      .filter((r) => r.kinesis.partitionKey === 'steady');
    expect(steady.map(textOf)).toEqual(['first', 'last']);
    expect(new Set(steady.map((record) => record.eventID.split(':')[0])).size).toBe(1);
  });

  it('never invokes with more than batchSize records', async () => {
    const stream = newStream({ shardCount: 1 });
    const { batches, all } = collect(stream, { batchSize: 100 });
    await stream.put(Array.from({ length: 250 }, (_, i) => entry('one-key', `${i}`)));
    await stream.drain();
    expect(batches.map((batch) => batch.Records.length)).toEqual([100, 100, 50]);
    expect(all()).toEqual(Array.from({ length: 250 }, (_, i) => `${i}`));
  });

  it('waits up to the batching window for a batch to fill, and no longer', async () => {
    const stream = newStream({ shardCount: 1 });
    const { batches } = collect(stream, { batchSize: 100, maxBatchingWindowMs: 150 });
    const started = performance.now();
    await stream.put([entry('k', '1'), entry('k', '2')]);
    await sleep(20);
    await stream.put([entry('k', '3')]);
    await sleep(60);
    expect(batches).toHaveLength(0);
    await until(() => batches.length > 0);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1_000);
    expect(batches.map(texts)).toEqual([['1', '2', '3']]);
  });

  it('sends a full batch without waiting for the batching window', async () => {
    const stream = newStream({ shardCount: 1 });
    const { batches } = collect(stream, { batchSize: 5, maxBatchingWindowMs: 60_000 });
    await stream.put(Array.from({ length: 7 }, (_, i) => entry('k', `${i}`)));
    await until(() => batches.length > 0, 500);
    expect(batches.map(texts)).toEqual([['0', '1', '2', '3', '4']]);
  });

  it('retries a partially failed batch from the lowest failed record, without redelivering earlier ones', async () => {
    const stream = newStream({ shardCount: 1 });
    const seen: string[][] = [];
    let failed = false;
    stream.subscribe({
      name: 'partial',
      maxBatchingWindowMs: 0,
      retryBackoffMs: 1,
      handler: async (event) => {
        seen.push(texts(event));
        if (failed) return { batchItemFailures: [] };
        failed = true;
        // Report records 5 and 3 as failed: delivery resumes from 3, the lowest.
        const records = event.Records;
        return {
          batchItemFailures: [records[5], records[3]].map((record) => ({
            itemIdentifier: record?.kinesis.sequenceNumber ?? '',
          })),
        };
      },
    });
    await stream.put(Array.from({ length: 8 }, (_, i) => entry('k', `${i}`)));
    await stream.drain();
    expect(seen).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7'],
      ['3', '4', '5', '6', '7'],
    ]);
    expect(stream.stats().subscriptions.partial).toMatchObject({
      invocations: 2,
      recordsProcessed: 8,
      recordsRetried: 5,
      failedInvocations: 1,
      lag: 0,
    });
  });

  it('retries the whole batch when the handler throws', async () => {
    const stream = newStream({ shardCount: 1 });
    const seen: string[][] = [];
    stream.subscribe({
      name: 'thrower',
      maxBatchingWindowMs: 0,
      retryBackoffMs: 1,
      handler: async (event) => {
        seen.push(texts(event));
        if (seen.length < 3) throw new Error('downstream unavailable');
      },
    });
    await stream.put(Array.from({ length: 4 }, (_, i) => entry('k', `${i}`)));
    await stream.drain();
    expect(seen).toEqual([
      ['0', '1', '2', '3'],
      ['0', '1', '2', '3'],
      ['0', '1', '2', '3'],
    ]);
  });

  it('treats an item failure naming no record of the batch as a failure of the whole batch', async () => {
    const stream = newStream({ shardCount: 1 });
    const seen: string[][] = [];
    stream.subscribe({
      name: 'bad-identifier',
      maxBatchingWindowMs: 0,
      retryBackoffMs: 1,
      handler: async (event): Promise<KinesisStreamBatchResponse> => {
        seen.push(texts(event));
        return seen.length === 1
          ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] }
          : {
              batchItemFailures: [],
            };
      },
    });
    await stream.put([entry('k', 'a'), entry('k', 'b')]);
    await stream.drain();
    expect(seen).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('backs off between retries', async () => {
    const stream = newStream({ shardCount: 1 });
    const times: number[] = [];
    stream.subscribe({
      name: 'backoff',
      maxBatchingWindowMs: 0,
      retryBackoffMs: 40,
      maxRetryBackoffMs: 1_000,
      handler: async () => {
        times.push(performance.now());
        if (times.length < 3) throw new Error('fail');
      },
    });
    await stream.put([entry('k', 'x')]);
    await stream.drain();
    expect(times).toHaveLength(3);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(35);
    expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(75);
  });

  it('sends a batch that exhausts its retries, whole records included, to the failure destination and moves on', async () => {
    const stream = newStream({ shardCount: 1 });
    const failures: FailedBatch[] = [];
    const processed: string[] = [];
    let invocations = 0;
    stream.subscribe({
      name: 'poisoned',
      batchSize: 4,
      maxBatchingWindowMs: 0,
      maxRetries: 2,
      retryBackoffMs: 1,
      onFailure: (failure) => {
        failures.push(failure);
      },
      handler: async (event) => {
        invocations++;
        const poison = event.Records.findIndex((record) => textOf(record) === 'poison');
        const good = poison === -1 ? event.Records : event.Records.slice(0, poison);
        processed.push(...good.map(textOf));
        if (poison === -1) return;
        return {
          batchItemFailures: [{ itemIdentifier: event.Records[poison]?.kinesis.sequenceNumber ?? '' }],
        };
      },
    });
    await stream.put(['a', 'b', 'poison', 'c', 'd', 'e'].map((text) => entry('k', text)));
    await stream.drain();

    expect(failures).toHaveLength(1);
    const failure = failures[0] as FailedBatch;
    // The batch was [a, b, poison, c]; after a and b were checkpointed, [poison, c] kept failing.
    expect(failure.payload.Records.map(textOf)).toEqual(['poison', 'c']);
    expect(failure.payload.Records[0]).toMatchObject({
      eventSource: 'aws:kinesis',
      kinesis: { partitionKey: 'k' },
    });
    expect(failure).toMatchObject({
      subscription: 'poisoned',
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: failure.payload.Records[0]?.kinesis.sequenceNumber,
        endSequenceNumber: failure.payload.Records[1]?.kinesis.sequenceNumber,
        batchSize: 2,
        streamArn: stream.streamArn,
      },
    });
    expect(processed).toEqual(['a', 'b', 'd', 'e']);
    expect(invocations).toBe(4);
    expect(stream.stats().subscriptions.poisoned).toMatchObject({
      batchesToFailureDestination: 1,
      recordsToFailureDestination: 2,
      recordsProcessed: 4,
      lag: 0,
    });
  });

  it('keeps batches given up on in memory when no destination is configured', async () => {
    const stream = newStream({ shardCount: 1 });
    const subscription = stream.subscribe({
      name: 'no-destination',
      maxBatchingWindowMs: 0,
      maxRetries: 0,
      handler: async () => {
        throw new Error('always');
      },
    });
    await stream.put([entry('k', 'lost?')]);
    await stream.drain();
    expect(subscription.failedBatches.map((failure) => failure.payload.Records.map(textOf))).toEqual([
      ['lost?'],
    ]);
    expect(subscription.failedBatches[0]?.responseContext).toMatchObject({
      functionError: 'Unhandled',
      errorMessage: 'Error: always',
    });
  });

  it('offers a batch to a failing destination again until it accepts it', async () => {
    const stream = newStream({ shardCount: 1 });
    const stored: FailedBatch[] = [];
    let refusals = 0;
    const subscription = stream.subscribe({
      name: 'flaky-destination',
      maxBatchingWindowMs: 0,
      maxRetries: 0,
      retryBackoffMs: 1,
      onFailure: async (failure) => {
        if (refusals++ < 2) throw new Error('destination down');
        stored.push(failure);
      },
      handler: async () => {
        throw new Error('always');
      },
    });
    await stream.put([entry('k', 'kept')]);
    await stream.drain();
    expect(stored.map((failure) => failure.payload.Records.map(textOf))).toEqual([['kept']]);
    expect(subscription.stats()).toMatchObject({
      failureDestinationErrors: 2,
      batchesToFailureDestination: 1,
    });
  });

  it('writes failed batches as JSON files with the file destination', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mosaic-failures-'));
    try {
      const stream = newStream({ shardCount: 1 });
      stream.subscribe({
        name: 'resolver',
        maxBatchingWindowMs: 0,
        maxRetries: 0,
        onFailure: createFileFailureDestination(dir),
        handler: async () => {
          throw new Error('always');
        },
      });
      await stream.put([entry('k', '{"messageId":"m1"}'), entry('k', '{"messageId":"m2"}')]);
      await stream.drain();
      const folder = join(dir, 'resolver', 'shardId-000000000000');
      const files = await readdir(folder);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.json$/);
      const failure = JSON.parse(await readFile(join(folder, files[0] as string), 'utf8')) as FailedBatch;
      expect(failure.payload.Records.map(textOf)).toEqual(['{"messageId":"m1"}', '{"messageId":"m2"}']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives each subscription every record, independently of the others', async () => {
    const stream = newStream();
    const fast = collect(stream);
    const slowSeen: string[] = [];
    let slowCalls = 0;
    stream.subscribe({
      name: 'slow-and-flaky',
      maxBatchingWindowMs: 0,
      retryBackoffMs: 1,
      handler: async (event) => {
        await sleep(5);
        if (slowCalls++ % 2 === 0) throw new Error('flaky');
        slowSeen.push(...texts(event));
      },
    });
    const sent = Array.from({ length: 200 }, (_, i) => `${i}`);
    await stream.put(sent.map((text, i) => entry(`k${i % 9}`, text)));
    await stream.drain();
    expect(fast.all().sort()).toEqual([...sent].sort());
    expect(slowSeen.sort()).toEqual([...sent].sort());
  });

  it('throttles puts with ProvisionedThroughputExceededException while full, and recovers once records are consumed', async () => {
    const stream = newStream({ maxBufferedRecords: 10 });
    const blocked = gate();
    const seen: string[] = [];
    stream.subscribe({
      name: 'blocked',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        await blocked.wait;
        seen.push(...texts(event));
      },
    });
    const first = await stream.put(Array.from({ length: 15 }, (_, i) => entry(`k${i}`, `${i}`)));
    expect(first.failed).toEqual([10, 11, 12, 13, 14].map((index) => ({ index, reason: THROTTLED })));
    const whileFull = await stream.put([entry('k', 'more')]);
    expect(whileFull.failed).toEqual([{ index: 0, reason: THROTTLED }]);
    expect(stream.stats()).toMatchObject({ bufferedRecords: 10, entriesThrottled: 6 });

    blocked.open();
    await stream.drain();
    expect(stream.stats().bufferedRecords).toBe(0);
    const after = await stream.put([entry('k', 'again')]);
    expect(after.failed).toEqual([]);
    await stream.drain();
    expect(seen).toHaveLength(11);
  });

  it('throttles on held bytes too', async () => {
    const stream = newStream({ maxBufferedBytes: 100 });
    const blocked = gate();
    stream.subscribe({ name: 'blocked', maxBatchingWindowMs: 0, handler: () => blocked.wait });
    const outcome = await stream.put([entry('a', 'x'.repeat(60)), entry('b', 'y'.repeat(60))]);
    expect(outcome.failed).toEqual([{ index: 1, reason: THROTTLED }]);
    blocked.open();
  });

  it('releases records once every subscription has processed them', async () => {
    const stream = newStream({ maxBufferedRecords: 5 });
    collect(stream);
    for (let round = 0; round < 10; round++) {
      const outcome = await stream.put(Array.from({ length: 5 }, (_, i) => entry(`k${i}`, `${round}-${i}`)));
      expect(outcome.failed).toEqual([]);
      await stream.drain();
      expect(stream.stats().bufferedRecords).toBe(0);
    }
  });

  it('keeps its own copy of each partition key, not the text it was cut from', async () => {
    // V8 keeps a substring of 13 or more characters as a view of the string it was cut from. A key the
    // collector cut from a request's body (a 36-character anonymousId) must not keep that body alive
    // while the stream holds the record or remembers the key.
    const collectGarbage = exposedGc();
    const stream = newStream();
    const { wait, open } = gate();
    const delivered: string[] = [];
    stream.subscribe({ name: 'held', handler: collectInto(delivered, wait), maxBatchingWindowMs: 0 });
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) {
      // A body of about 256 KB, flattened by the slice that cuts the key from its end.
      const body = `{"batch":[],"pad":"${'x'.repeat(256 * 1024)}","anonymousId":"${randomUUID()}"}`;
      expect((await stream.put([entry(body.slice(-38, -2), `record-${i}`)])).failed).toEqual([]);
    }
    collectGarbage();
    const grown = process.memoryUsage().heapUsed - before;
    const held = stream.stats().bufferedRecords;
    open();
    // Kept whole, the bodies would be 25 MB; the keys and the records held are a few hundred KB.
    expect(grown).toBeLessThan(5 * 1024 * 1024);
    expect(held).toBe(100);
    await stream.drain();
    expect(delivered.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `record-${i}`).sort());
  });

  it('handles at most maxConcurrency batches at once, every shard in its turn', async () => {
    const stream = newStream({ shardCount: 4 });
    let running = 0;
    let most = 0;
    const shardsInOrder: string[] = [];
    const seen: string[] = [];
    stream.subscribe({
      name: 'limited',
      maxBatchingWindowMs: 0,
      batchSize: 5,
      maxConcurrency: 2,
      handler: async (event) => {
        running++;
        most = Math.max(most, running);
        shardsInOrder.push((event.Records[0] as KinesisStreamRecord).eventID.split(':')[0] as string);
        await sleep(2);
        seen.push(...texts(event));
        running--;
      },
    });
    const sent = Array.from({ length: 200 }, (_, i) => `${i}`);
    await stream.put(sent.map((text, i) => entry(`k${i % 16}`, text)));
    await stream.drain();
    expect(most).toBe(2);
    expect(seen.sort()).toEqual([...sent].sort());
    // First come, first served: while the others wait, no shard runs three batches in a row.
    const shards = new Set(shardsInOrder);
    expect(shards.size).toBe(4);
    const firstTurns = shardsInOrder.slice(0, 8);
    for (const shard of shards) expect(firstTurns.filter((s) => s === shard).length).toBe(2);
  });

  it('serves two busy shards in turn with a concurrency of one', async () => {
    const stream = newStream({ shardCount: 2 });
    const order: string[] = [];
    stream.subscribe({
      name: 'one-at-a-time',
      maxBatchingWindowMs: 0,
      batchSize: 1,
      maxConcurrency: 1,
      handler: async (event) => {
        order.push((event.Records[0] as KinesisStreamRecord).eventID.split(':')[0] as string);
        await sleep(1);
      },
    });
    await stream.put(Array.from({ length: 40 }, (_, i) => entry(`key-${i % 8}`, `${i}`)));
    await stream.drain();
    expect(order).toHaveLength(40);
    const perShard = new Map<string, number>();
    for (const shard of order) perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    // Alternating until the shard with fewer records runs out.
    const fewer = Math.min(...perShard.values());
    for (let i = 1; i < 2 * fewer; i++) expect(order[i]).not.toBe(order[i - 1]);
  });

  it('refuses a maxConcurrency below 1', () => {
    const stream = newStream();
    expect(() => stream.subscribe({ name: 'none', maxConcurrency: 0, handler: async () => {} })).toThrow(
      /maxConcurrency/,
    );
  });

  it('drain and close wait for batches in flight', async () => {
    const stream = new MemoryEventStream();
    let finished = 0;
    stream.subscribe({
      name: 'slow',
      maxBatchingWindowMs: 10_000,
      handler: async (event) => {
        await sleep(50);
        finished += event.Records.length;
      },
    });
    await stream.put([entry('a', '1'), entry('b', '2'), entry('c', '3')]);
    await stream.drain();
    expect(finished).toBe(3);
    await stream.put([entry('a', '4')]);
    await stream.close();
    expect(finished).toBe(4);
    await expect(stream.put([entry('a', '5')])).rejects.toThrow(/closed/);
  });

  it('fails the entries an injected fault selects, and only those', async () => {
    const stream = newStream();
    const { all } = collect(stream);
    stream.injectFaults({ failEntry: (_entry, index) => (index % 2 === 1 ? 'InternalFailure' : undefined) });
    const outcome = await stream.put(['a', 'b', 'c', 'd'].map((text) => entry(text, text)));
    expect(outcome.failed).toEqual([
      { index: 1, reason: 'InternalFailure' },
      { index: 3, reason: 'InternalFailure' },
    ]);
    stream.injectFaults(undefined);
    await stream.drain();
    expect(all().sort()).toEqual(['a', 'c']);
    expect(stream.stats().faultsInjected).toBe(2);
  });

  it('rejects a whole put when an injected fault fails the call, writing nothing', async () => {
    const stream = newStream();
    const { all } = collect(stream);
    stream.injectFaults({ failCall: () => new Error('connection reset') });
    await expect(stream.put([entry('a', 'a')])).rejects.toThrow('connection reset');
    stream.injectFaults(undefined);
    await stream.put([entry('b', 'b')]);
    await stream.drain();
    expect(all()).toEqual(['b']);
  });

  it('rejects a put with an invalid entry as a whole, like Kinesis', async () => {
    const stream = newStream();
    const { all } = collect(stream);
    await expect(stream.put([entry('ok', 'ok'), entry('', 'empty key')])).rejects.toThrow(/partition key/);
    await expect(stream.put([entry('k'.repeat(257), 'long key')])).rejects.toThrow(/partition key/);
    await stream.drain();
    expect(all()).toEqual([]);
  });

  it('starts a late subscription at the oldest record held, or at the end with LATEST', async () => {
    const stream = newStream();
    await stream.put([entry('a', 'before')]);
    const horizon = collect(stream);
    const latestSeen: string[] = [];
    stream.subscribe({
      name: 'latest',
      startingPosition: 'LATEST',
      maxBatchingWindowMs: 0,
      handler: async (event) => {
        latestSeen.push(...texts(event));
      },
    });
    await stream.put([entry('a', 'after')]);
    await stream.drain();
    expect(horizon.all()).toEqual(['before', 'after']);
    expect(latestSeen).toEqual(['after']);
  });

  it('delivers every record once, in per-key order, whatever the puts and failures (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { minLength: 1, maxLength: 12 }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        fc.array(fc.oneof(fc.constant<'ok'>('ok'), fc.constant<'throw'>('throw'), fc.nat(20)), {
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        async (puts, script, batchSize, shardCount) => {
          const stream = new MemoryEventStream({ shardCount });
          const processed: string[] = [];
          const subscription = stream.subscribe({
            name: 'property',
            batchSize,
            maxBatchingWindowMs: 0,
            maxRetries: 10_000,
            retryBackoffMs: 0,
            handler: scriptedHandler(script, processed),
          });
          const { expected, count: n } = await putNumbered(stream, puts);
          await stream.close();

          expect(subscription.failedBatches).toEqual([]);
          expect(processed).toHaveLength(n);
          for (const [key, texts] of expected) {
            expect(processed.filter((text) => text.startsWith(`${key}:`))).toEqual(texts);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
