import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryEventStream } from '../../src/adapters/local/memory-event-stream';
import { ServiceUnavailableError, UnauthorizedError } from '../../src/core/errors';
import type { JsonObject } from '../../src/core/events/stream-record';
import { ManualClock } from '../../src/ports/clock';
import type { EventStream, PutOutcome, StreamEntry } from '../../src/ports/event-stream';
import { createIngest } from '../../src/use-cases/ingest';
import {
  BACKEND_WRITE_KEY,
  decodeJson,
  fakeIngestDeps,
  instantSleep,
  RECEIVED_AT,
  REVOKED_WRITE_KEY,
  RecordingMetrics,
  RecordingQuarantine,
  ROTATED_WRITE_KEY,
  ScriptedEventStream,
  SOURCE,
  WRITE_KEY,
} from '../support/collector-fixtures';
import { overTheWire, trackBatch, trackMessage } from '../support/segment-messages';

const batchBody = (messages: unknown[], extra: JsonObject = {}): JsonObject =>
  overTheWire({ ...extra, batch: messages });

describe('createIngest: authentication', () => {
  it.each([
    ['the active key', WRITE_KEY, SOURCE],
    ['a second key of the same source (rotation)', ROTATED_WRITE_KEY, SOURCE],
    ['the key of another source', BACKEND_WRITE_KEY, 'backend'],
  ])('accepts %s from the Authorization header and stamps its source', async (_what, key, source) => {
    const stream = new ScriptedEventStream();
    const ingest = createIngest(fakeIngestDeps({ stream }));
    const result = await ingest({ route: 'batch', body: batchBody([trackMessage()]), headerWriteKey: key });
    expect(result.source).toBe(source);
    expect(decodeJson(stream.written[0]?.data ?? new Uint8Array()).source).toBe(source);
  });

  it('accepts the write key from the body when there is no header', async () => {
    const ingest = createIngest(fakeIngestDeps());
    const result = await ingest({
      route: 'batch',
      body: batchBody([trackMessage()], { writeKey: WRITE_KEY }),
    });
    expect(result).toMatchObject({ source: SOURCE, accepted: 1 });
  });

  it('uses the header key over the body key', async () => {
    const ingest = createIngest(fakeIngestDeps());
    const result = await ingest({
      route: 'batch',
      body: batchBody([trackMessage()], { writeKey: WRITE_KEY }),
      headerWriteKey: BACKEND_WRITE_KEY,
    });
    expect(result.source).toBe('backend');
  });

  it.each([
    ['no key at all', undefined, undefined, /required/],
    ['an unknown key', 'wk_nobody', undefined, /not valid/],
    ['a revoked key', REVOKED_WRITE_KEY, undefined, /not valid/],
    ['an unknown body key', undefined, 'wk_nobody', /not valid/],
    ['a body key that is not a string', undefined, 12345, /required/],
  ])('refuses %s with UnauthorizedError and writes nothing', async (_what, header, bodyKey, message) => {
    const stream = new ScriptedEventStream();
    const quarantine = new RecordingQuarantine();
    const ingest = createIngest(fakeIngestDeps({ stream, quarantine }));
    const body = batchBody(
      [trackMessage(), trackMessage({ event: '' })],
      bodyKey === undefined ? {} : { writeKey: bodyKey },
    );
    const attempt = ingest({
      route: 'batch',
      body,
      ...(header === undefined ? {} : { headerWriteKey: header }),
    });
    await expect(attempt).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(attempt).rejects.toThrow(message);
    expect(stream.calls).toEqual([]);
    expect(quarantine.messages).toEqual([]);
  });
});

describe('createIngest: writing', () => {
  it('writes accepted messages to the stream and rejected ones to the quarantine, and reports both', async () => {
    const stream = new ScriptedEventStream();
    const quarantine = new RecordingQuarantine();
    const metrics = new RecordingMetrics();
    const clock = new ManualClock(Date.parse(RECEIVED_AT));
    const ingest = createIngest(fakeIngestDeps({ stream, quarantine, metrics, clock }));
    const bad = trackMessage({ messageId: 'bad-1', event: '', writeKey: WRITE_KEY });
    const result = await ingest({
      route: 'batch',
      body: batchBody([
        trackMessage({ messageId: 'ok-0', anonymousId: 'a-0' }),
        bad,
        trackMessage({ messageId: 'ok-2', userId: 'u-2', anonymousId: undefined }),
      ]),
      headerWriteKey: WRITE_KEY,
      ip: '198.51.100.1',
    });

    expect(result.source).toBe(SOURCE);
    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual([
      { index: 1, messageId: 'bad-1', code: 'invalid_message', reason: expect.stringContaining('event') },
    ]);
    expect(result.rejected[0]).not.toHaveProperty('raw');

    expect(stream.written.map((e) => e.partitionKey)).toEqual(['a-0', 'u-2']);
    const records = stream.written.map((e) => decodeJson(e.data));
    expect(records.map((r) => [r.messageId, r.receivedAt, r.source, (r.context as JsonObject).ip])).toEqual([
      ['ok-0', RECEIVED_AT, SOURCE, '198.51.100.1'],
      ['ok-2', RECEIVED_AT, SOURCE, '198.51.100.1'],
    ]);

    expect(quarantine.messages).toHaveLength(1);
    const [q] = quarantine.messages;
    expect(q).toMatchObject({
      source: SOURCE,
      receivedAt: RECEIVED_AT,
      code: 'invalid_message',
      index: 1,
      messageId: 'bad-1',
    });
    expect(q?.reason).toContain('event');
    const { writeKey: _secret, ...expectedRaw } = overTheWire(bad);
    expect(JSON.parse(q?.raw ?? '')).toStrictEqual(expectedRaw);

    expect(metrics.acceptedCounts).toEqual([{ source: SOURCE, count: 2 }]);
    expect(metrics.rejectedCounts).toEqual([{ source: SOURCE, code: 'invalid_message', count: 1 }]);
  });

  it.each([
    ['as text (the fast path)', (body: JsonObject) => JSON.stringify(body)],
    ['parsed (the general path)', (body: JsonObject) => body],
  ])(
    'keys an id longer than Kinesis takes by its SHA-256, and the stream takes the whole request (%s)',
    async (_how, asBody) => {
      const stream = new MemoryEventStream({ shardCount: 4 });
      const seen: Array<{ partitionKey: string; record: JsonObject }> = [];
      stream.subscribe({
        name: 'reader',
        maxBatchingWindowMs: 0,
        handler: async (event) => {
          for (const { kinesis } of event.Records)
            seen.push({
              partitionKey: kinesis.partitionKey,
              record: decodeJson(Buffer.from(kinesis.data, 'base64')),
            });
          return { batchItemFailures: [] };
        },
      });
      const ingest = createIngest(fakeIngestDeps({ stream }));
      // Accepted ids go up to limits.maxIdLength (512); a Kinesis partition key, to 256 characters.
      const longAnonymous = `anon-${'é'.repeat(295)}`;
      const longUser = `user-${'x'.repeat(507)}`;
      const result = await ingest({
        route: 'batch',
        body: asBody(
          batchBody([
            trackMessage({ messageId: 'm-0', anonymousId: longAnonymous }),
            trackMessage({ messageId: 'm-1', anonymousId: 'a-short' }),
            trackMessage({ messageId: 'm-2', anonymousId: longAnonymous }),
            trackMessage({ messageId: 'm-3', anonymousId: undefined, userId: longUser }),
          ]),
        ),
        headerWriteKey: WRITE_KEY,
      });
      await stream.drain();
      await stream.close();

      expect(result).toMatchObject({ accepted: 4, rejected: [] });
      const sha256 = (id: string) => `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
      const byMessage = new Map(seen.map((s) => [s.record.messageId, s]));
      expect([...byMessage.keys()].sort()).toEqual(['m-0', 'm-1', 'm-2', 'm-3']);
      expect(byMessage.get('m-0')?.partitionKey).toBe(sha256(longAnonymous));
      expect(byMessage.get('m-2')?.partitionKey).toBe(sha256(longAnonymous));
      expect(byMessage.get('m-1')?.partitionKey).toBe('a-short');
      expect(byMessage.get('m-3')?.partitionKey).toBe(sha256(longUser));
      // The records keep the ids as sent; only the key the stream shards by is derived.
      expect(byMessage.get('m-0')?.record.anonymousId).toBe(longAnonymous);
      expect(byMessage.get('m-3')?.record.userId).toBe(longUser);
      // One id, one shard, in the order sent.
      expect(
        seen.filter((s) => s.record.anonymousId === longAnonymous).map((s) => s.record.messageId),
      ).toEqual(['m-0', 'm-2']);
    },
  );

  it('does not call the stream when nothing is valid, nor the quarantine when nothing is invalid', async () => {
    const stream = new ScriptedEventStream();
    const quarantine = new RecordingQuarantine();
    const ingest = createIngest(fakeIngestDeps({ stream, quarantine }));
    await ingest({
      route: 'batch',
      body: batchBody([trackMessage({ event: '' })]),
      headerWriteKey: WRITE_KEY,
    });
    expect(stream.calls).toEqual([]);
    expect(quarantine.messages).toHaveLength(1);

    const quarantine2 = new RecordingQuarantine();
    const stream2 = new ScriptedEventStream();
    const ingest2 = createIngest(fakeIngestDeps({ stream: stream2, quarantine: quarantine2 }));
    await ingest2({ route: 'track', body: overTheWire(trackMessage()), headerWriteKey: WRITE_KEY });
    expect(stream2.calls).toHaveLength(1);
    expect(quarantine2.messages).toEqual([]);
  });

  it('retries only the entries the stream did not take, then reports success', async () => {
    const stream = new ScriptedEventStream([
      { fail: (e) => (e.partitionKey === 'anon-3' ? 'ProvisionedThroughputExceededException' : undefined) },
      { fail: () => undefined },
    ]);
    const metrics = new RecordingMetrics();
    const sleep = instantSleep();
    const ingest = createIngest(fakeIngestDeps({ stream, metrics, sleep }));
    const result = await ingest({
      route: 'batch',
      body: batchBody(trackBatch(10)),
      headerWriteKey: WRITE_KEY,
    });
    expect(result.accepted).toBe(10);
    expect(stream.calls.map((c) => c.length)).toEqual([10, 1]);
    expect(stream.calls[1]?.[0]?.partitionKey).toBe('anon-3');
    expect(stream.written).toHaveLength(10);
    expect(metrics.retried).toEqual([1]);
    expect(sleep.waits).toHaveLength(1);
  });

  it('throws ServiceUnavailableError and counts nothing accepted when the stream keeps failing', async () => {
    const stream = new ScriptedEventStream([{ fail: () => 'InternalFailure' }]);
    const metrics = new RecordingMetrics();
    const ingest = createIngest(
      fakeIngestDeps({ stream, metrics, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 } }),
    );
    await expect(
      ingest({ route: 'batch', body: batchBody(trackBatch(4)), headerWriteKey: WRITE_KEY }),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(stream.calls).toHaveLength(3);
    expect(metrics.acceptedCounts).toEqual([]);
  });

  it('throws ServiceUnavailableError when the stream call itself keeps throwing', async () => {
    const stream = new ScriptedEventStream([
      { throws: Object.assign(new Error('boom'), { name: 'TimeoutError' }) },
    ]);
    const ingest = createIngest(fakeIngestDeps({ stream }));
    await expect(
      ingest({ route: 'batch', body: batchBody(trackBatch(2)), headerWriteKey: WRITE_KEY }),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('throws ServiceUnavailableError when the quarantine cannot store the rejected messages', async () => {
    const quarantine = new RecordingQuarantine();
    quarantine.failWith = new Error('firehose down');
    const metrics = new RecordingMetrics();
    const ingest = createIngest(fakeIngestDeps({ quarantine, metrics }));
    const attempt = ingest({
      route: 'batch',
      body: batchBody([trackMessage(), trackMessage({ event: '' })]),
      headerWriteKey: WRITE_KEY,
    });
    await expect(attempt).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(attempt).rejects.toThrow(/quarantine/);
    expect(metrics.acceptedCounts).toEqual([]);
  });
});

/** A stream whose puts wait until `settle`, keeping the caller's entries as given (no copy). */
class HeldPutStream implements EventStream {
  readonly puts: Array<{ entries: readonly StreamEntry[]; bytesThen: string[] }> = [];
  private readonly waiting: Array<() => void> = [];

  put(entries: readonly StreamEntry[]): Promise<PutOutcome> {
    this.puts.push({ entries, bytesThen: entries.map((entry) => Buffer.from(entry.data).toString()) });
    return new Promise((resolve) => this.waiting.push(() => resolve({ failed: [] })));
  }

  settle(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

describe('createIngest: the buffer records are encoded into', () => {
  it('is lent to the next request once the put of the last one resolved', async () => {
    const stream = new ScriptedEventStream();
    const given: StreamEntry[][] = [];
    const recording: EventStream = {
      put: (entries) => {
        given.push([...entries]);
        return stream.put(entries);
      },
    };
    const ingest = createIngest(fakeIngestDeps({ stream: recording }));
    const requests = [trackBatch(3), trackBatch(3).map((message) => ({ ...message, event: 'Second' }))];
    for (const messages of requests) {
      await ingest({ route: 'batch', body: batchBody(messages), headerWriteKey: WRITE_KEY });
    }
    // The second request's records are in the first one's buffer, from its start.
    const [first, second] = given.map((entries) => entries[0]?.data);
    expect(second?.buffer).toBe(first?.buffer);
    expect(second?.byteOffset).toBe(first?.byteOffset);
    // What the stream took (it copies) is each request's own records.
    expect(stream.written.map((entry) => decodeJson(entry.data).event)).toStrictEqual(
      requests.flat().map((message) => message.event),
    );
  });

  it('is not lent again while a put of its records is still running, even when the quarantine failed first', async () => {
    const stream = new HeldPutStream();
    const quarantine = new RecordingQuarantine();
    quarantine.failWith = new Error('firehose down');
    const ingest = createIngest(fakeIngestDeps({ stream, quarantine }));
    const failing = ingest({
      route: 'batch',
      body: batchBody([trackMessage(), trackMessage({ event: '' })]),
      headerWriteKey: WRITE_KEY,
    });
    let failed = false;
    failing.catch(() => {
      failed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    // The answer waits for the put: only then may the buffer be written over.
    expect(failed).toBe(false);
    const next = ingest({ route: 'batch', body: batchBody(trackBatch(5)), headerWriteKey: WRITE_KEY });
    await new Promise((resolve) => setImmediate(resolve));
    stream.settle();
    await expect(failing).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(next).resolves.toMatchObject({ accepted: 5 });
    const [held] = stream.puts;
    expect(held?.entries.map((entry) => Buffer.from(entry.data).toString())).toStrictEqual(held?.bytesThen);
  });
});
