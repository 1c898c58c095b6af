import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStream, PutOutcome, StreamEntry } from '../../src/ports/event-stream';

/** A record as a reader of the stream gets it back. */
export interface WrittenRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/**
 * What an adapter supplies to run the {@link EventStream} contract: the stream, a way to read back
 * what it wrote, and a way to make the service fail.
 */
export interface EventStreamHarness {
  readonly stream: EventStream;
  /**
   * Every record the service accepted so far, each once. Records with the same partition key must be
   * in the order the service stored them (a consumer's order); other keys may interleave freely.
   */
  readWritten(): Promise<WrittenRecord[]>;
  /**
   * From now on the service refuses, individually and with an error code, every entry `select` picks
   * (for Kinesis: a PutRecords answer with `ErrorCode` on those records). `undefined` stops it.
   */
  failEntries(select: ((entry: WrittenRecord) => boolean) | undefined): void;
  /** From now on every call to the service fails as a whole (for Kinesis: `send` rejects), or stops. */
  failCalls(on: boolean): void;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function entry(partitionKey: string, text: string): StreamEntry {
  return { partitionKey, data: encoder.encode(text) };
}

function textOf(record: WrittenRecord): string {
  return decoder.decode(record.data);
}

function failedIndexes(outcome: PutOutcome): number[] {
  return outcome.failed.map((failure) => failure.index).sort((a, b) => a - b);
}

/**
 * The contract every {@link EventStream} adapter keeps: entries written are readable, each partition
 * key in put order; entries that were not written are reported by index with a reason, never silently
 * dropped; retrying just those completes the write.
 */
export function describeEventStreamContract(
  adapter: string,
  createHarness: () => Promise<EventStreamHarness>,
): void {
  describe(`EventStream contract: ${adapter}`, () => {
    let harness: EventStreamHarness;

    beforeEach(async () => {
      harness = await createHarness();
    });

    afterEach(async () => {
      await harness.close();
    });

    it('writes nothing and fails nothing for an empty put', async () => {
      await expect(harness.stream.put([])).resolves.toEqual({ failed: [] });
      expect(await harness.readWritten()).toEqual([]);
    });

    it('makes every entry readable, each partition key in put order, across calls of any size', async () => {
      const keys = ['anon-1', 'anon-2', 'user-3', 'anon-4', 'x'];
      const sent: WrittenRecord[] = [];
      // 1,234 entries in one put: more than one PutRecords call can take.
      const sizes = [1, 20, 1234, 7];
      for (const [call, size] of sizes.entries()) {
        const entries = Array.from({ length: size }, (_, i) =>
          entry(keys[(i * 3 + call) % keys.length] as string, `${call}:${i}`),
        );
        sent.push(...entries);
        expect(await harness.stream.put(entries)).toEqual({ failed: [] });
      }
      const written = await harness.readWritten();
      expect(written.map(textOf).sort()).toEqual(sent.map(textOf).sort());
      for (const key of keys) {
        const inOrder = (records: readonly WrittenRecord[]) =>
          records.filter((record) => record.partitionKey === key).map(textOf);
        expect(inOrder(written)).toEqual(inOrder(sent));
      }
    });

    it('keeps the bytes of each entry exactly', async () => {
      const binary = new Uint8Array(100_000);
      for (let i = 0; i < binary.length; i++) binary[i] = (i * 31 + 7) % 256;
      const unicode = entry('ключ-🔑', '{"name":"Zoë 😀","nested":{"a":[1,2.5,null]}}');
      expect(await harness.stream.put([{ partitionKey: 'binary', data: binary }, unicode])).toEqual({
        failed: [],
      });
      const written = await harness.readWritten();
      expect(written).toHaveLength(2);
      const byKey = new Map(written.map((record) => [record.partitionKey, record.data]));
      expect(Buffer.from(byKey.get('binary') ?? []).equals(Buffer.from(binary))).toBe(true);
      expect(decoder.decode(byKey.get('ключ-🔑'))).toBe(decoder.decode(unicode.data));
    });

    it('leaves the entries’ bytes to the caller once put resolves: writing over them changes nothing', async () => {
      // As the collector does: one buffer for a request's records, written over by the next request.
      const shared = Buffer.alloc(64);
      const texts = ['{"n":1}', '{"n":22}', '{"n":333}'];
      let used = 0;
      const entries = texts.map((text, i) => {
        const start = used;
        used += shared.write(text, start);
        return { partitionKey: `key-${i}`, data: shared.subarray(start, used) };
      });
      expect(await harness.stream.put(entries)).toEqual({ failed: [] });
      shared.fill('x');
      expect((await harness.readWritten()).map(textOf).sort()).toEqual([...texts].sort());
    });

    it('reports each entry the service refused, by index and with a reason, and writes only the others', async () => {
      const refused = new Set(['b', 'e', 'f']);
      harness.failEntries((record) => refused.has(textOf(record)));
      const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
      const outcome = await harness.stream.put(texts.map((text, i) => entry(`key-${i % 2}`, text)));
      expect(failedIndexes(outcome)).toEqual([1, 4, 5]);
      for (const failure of outcome.failed) {
        expect(typeof failure.reason).toBe('string');
        expect(failure.reason.length).toBeGreaterThan(0);
      }
      harness.failEntries(undefined);
      const written = (await harness.readWritten()).map(textOf);
      expect(written.sort()).toEqual(['a', 'c', 'd', 'g']);
    });

    it('completes the write when only the failed entries are retried, each entry written once', async () => {
      const texts = Array.from({ length: 60 }, (_, i) => `m${i}`);
      const entries = texts.map((text, i) => entry(`key-${i % 5}`, text));
      let failing = true;
      harness.failEntries((record) => failing && Number(textOf(record).slice(1)) % 7 === 0);
      const first = await harness.stream.put(entries);
      expect(first.failed.length).toBe(9);
      failing = false;
      const retry = first.failed.map((failure) => entries[failure.index] as StreamEntry);
      expect(await harness.stream.put(retry)).toEqual({ failed: [] });
      const written = (await harness.readWritten()).map(textOf);
      expect(written.sort()).toEqual([...texts].sort());
    });

    it('never reports a call that failed as a whole as written', async () => {
      harness.failCalls(true);
      const entries = ['p', 'q', 'r'].map((text) => entry('key', text));
      let outcome: PutOutcome | undefined;
      try {
        outcome = await harness.stream.put(entries);
      } catch {
        outcome = undefined;
      }
      // Either the call rejects (nothing may be assumed written) or every entry is reported failed.
      if (outcome) expect(failedIndexes(outcome)).toEqual([0, 1, 2]);
      harness.failCalls(false);
      expect(await harness.readWritten()).toEqual([]);
      expect(await harness.stream.put(entries)).toEqual({ failed: [] });
      expect((await harness.readWritten()).map(textOf)).toEqual(['p', 'q', 'r']);
    });
  });
}
