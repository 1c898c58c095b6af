import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KinesisEventStream } from '../../src/adapters/aws/kinesis-event-stream';
import type { StreamEntry } from '../../src/ports/event-stream';
import { describeEventStreamContract, type EventStreamHarness } from './event-stream.contract';
import { internalFailure, KINESIS_LIMITS, KinesisEmulator } from './kinesis-emulator';

const STREAM = 'mosaic-events';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The adapter over an emulated Kinesis stream; every test also checks no call broke a Kinesis limit. */
async function kinesisHarness(): Promise<EventStreamHarness> {
  const kinesis = new KinesisEmulator({ streamName: STREAM });
  return {
    stream: new KinesisEventStream(kinesis.client, STREAM),
    readWritten: async () => kinesis.stored().map(({ partitionKey, data }) => ({ partitionKey, data })),
    failEntries: (select) =>
      kinesis.failRecords(
        select && ((record) => (select(record) ? 'ProvisionedThroughputExceededException' : undefined)),
      ),
    failCalls: (on) => kinesis.failCalls(on ? () => internalFailure() : undefined),
    close: async () => {
      kinesis.restore();
      expect(kinesis.limitViolations).toEqual([]);
    },
  };
}

describeEventStreamContract('KinesisEventStream (emulated Kinesis)', kinesisHarness);

/** Entry `seq` as JSON text of about `bytes` bytes, so the test can tell entries apart when read back. */
function entry(partitionKey: string, seq: number, bytes = 0): StreamEntry {
  const head = `{"seq":${seq},"pad":"`;
  const pad = 'x'.repeat(Math.max(0, bytes - head.length - 2));
  return { partitionKey, data: encoder.encode(`${head}${pad}"}`) };
}

function seqOf(data: Uint8Array): number {
  return (JSON.parse(decoder.decode(data)) as { seq: number }).seq;
}

/** Sequence numbers per partition key, in the order given. */
function byKey(records: ReadonlyArray<{ partitionKey: string; data: Uint8Array }>): Map<string, number[]> {
  const keys = new Map<string, number[]>();
  for (const record of records) {
    const list = keys.get(record.partitionKey) ?? [];
    list.push(seqOf(record.data));
    keys.set(record.partitionKey, list);
  }
  return keys;
}

describe('KinesisEventStream: calls within the Kinesis limits', () => {
  let kinesis: KinesisEmulator;
  let stream: KinesisEventStream;

  beforeEach(() => {
    kinesis = new KinesisEmulator({ streamName: STREAM });
    stream = new KinesisEventStream(kinesis.client, STREAM);
  });

  afterEach(() => {
    kinesis.restore();
  });

  it('splits a put of 2,500 records into calls of at most 500 and reads all back, each key in put order', async () => {
    // A burst as a busy source sends it: the first records are larger (1 KiB) than the rest (60 B).
    const keys = ['anon-1', 'anon-2', 'user-3', 'anon-4', 'user-5', 'anon-6', 'user-7'];
    const entries = Array.from({ length: 2500 }, (_, i) =>
      entry(keys[i % keys.length] as string, i, i < 500 ? 1024 : 60),
    );

    expect(await stream.put(entries)).toEqual({ failed: [] });

    expect(kinesis.limitViolations).toEqual([]);
    expect(kinesis.calls.length).toBeGreaterThanOrEqual(5);
    for (const call of kinesis.calls) expect(call.records).toBeLessThanOrEqual(KINESIS_LIMITS.recordsPerCall);
    const stored = kinesis.stored();
    expect(stored.map((r) => seqOf(r.data)).sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
    expect(byKey(stored)).toEqual(byKey(entries));
  });

  it('splits records totalling more than 5 MiB (partition keys counted) into calls within 5 MiB and reads all back in order', async () => {
    // 13 records of the largest data Kinesis takes (1 MiB): 13 MiB in all, one partition key.
    const entries = Array.from({ length: 13 }, (_, i) => entry('big-key', i, KINESIS_LIMITS.bytesPerRecord));
    for (const e of entries) expect(e.data.byteLength).toBe(KINESIS_LIMITS.bytesPerRecord);

    expect(await stream.put(entries)).toEqual({ failed: [] });

    expect(kinesis.limitViolations).toEqual([]);
    for (const call of kinesis.calls) expect(call.bytes).toBeLessThanOrEqual(KINESIS_LIMITS.bytesPerCall);
    expect(kinesis.calls.reduce((sum, call) => sum + call.records, 0)).toBe(13);
    expect(kinesis.stored().map((r) => seqOf(r.data))).toEqual(entries.map((_, i) => i));
  });

  it('reports entries refused in a call by their index in the whole put, and sends no later call', async () => {
    // Refusals in the second call (entries 500..999): the first call is stored whole, the second
    // stores what it did not refuse, and the third is not sent, so a retry keeps each key's order.
    const refused = new Set([500, 777, 999]);
    kinesis.failRecords((record) => (refused.has(seqOf(record.data)) ? 'InternalFailure' : undefined));
    const entries = Array.from({ length: 1300 }, (_, i) => entry(`key-${i % 9}`, i));

    const outcome = await stream.put(entries);

    expect(kinesis.calls).toHaveLength(2);
    const notSent = entries.map((_, i) => i).filter((i) => i >= 1000);
    expect(outcome.failed.map((f) => f.index).sort((a, b) => a - b)).toEqual([...refused, ...notSent]);
    for (const failure of outcome.failed) {
      expect(failure.reason).toBe(
        refused.has(failure.index) ? 'InternalFailure' : 'NotAttemptedAfterEarlierFailure',
      );
    }
    const stored = kinesis.stored().map((r) => seqOf(r.data));
    expect(stored.sort((a, b) => a - b)).toEqual(
      entries.map((_, i) => i).filter((i) => i < 1000 && !refused.has(i)),
    );
  });

  it('reports every entry of a call rejected as a whole, and every later entry unsent, by index in the whole put', async () => {
    kinesis.failCalls((_, callIndex) => (callIndex === 1 ? internalFailure() : undefined));
    const entries = Array.from({ length: 1200 }, (_, i) => entry(`key-${i % 4}`, i));

    const outcome = await stream.put(entries);

    expect(kinesis.calls).toHaveLength(2);
    const rejectedCall = kinesis.calls[1];
    expect(rejectedCall?.rejectedWith).toBe('InternalFailure');
    const firstCallRecords = kinesis.calls[0]?.records ?? 0;
    const rejected = Array.from({ length: rejectedCall?.records ?? 0 }, (_, i) => firstCallRecords + i);
    expect(rejected.length).toBeGreaterThan(0);
    const unsent = entries.map((_, i) => i).filter((i) => i >= firstCallRecords + rejected.length);
    expect(outcome.failed.map((f) => f.index).sort((a, b) => a - b)).toEqual([...rejected, ...unsent]);
    for (const failure of outcome.failed) {
      expect(failure.reason).toBe(
        rejected.includes(failure.index) ? 'InternalFailure' : 'NotAttemptedAfterEarlierFailure',
      );
    }
    const stored = kinesis.stored().map((r) => seqOf(r.data));
    expect(stored.sort((a, b) => a - b)).toEqual(
      entries.map((_, i) => i).filter((i) => i < firstCallRecords),
    );
  });

  it('reports an entry over the 1 MiB record limit as failed, and every entry it did not write, never dropping one', async () => {
    const entries = [entry('k', 0), entry('k', 1, KINESIS_LIMITS.bytesPerRecord + 1), entry('k', 2)];

    const outcome = await stream.put(entries);

    const failed = outcome.failed.map((f) => f.index);
    expect(failed).toContain(1);
    const stored = kinesis.stored().map((r) => seqOf(r.data));
    expect(stored).not.toContain(1);
    // Each entry is either written or reported failed, never both, never neither.
    expect([...failed, ...stored].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });
});
