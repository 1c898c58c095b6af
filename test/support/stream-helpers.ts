import type { KinesisStreamRecord } from 'aws-lambda';
import type { KinesisBatchHandler } from '../../src/adapters/local/memory-event-stream';
import type { EventStream, PutOutcome, StreamEntry } from '../../src/ports/event-stream';

const encoder = new TextEncoder();

/** A put entry whose data is `text` (UTF-8). */
export function entry(partitionKey: string, text: string): StreamEntry {
  return { partitionKey, data: encoder.encode(text) };
}

/** The text a delivered Kinesis record carries. */
export function textOf(record: KinesisStreamRecord): string {
  return Buffer.from(record.kinesis.data, 'base64').toString('utf8');
}

/** A gate a handler can wait on, opened by the test. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** A handler that appends each record's text to `into`, once `wait` (when given) has settled. */
export function collect(into: string[], wait?: Promise<void>): KinesisBatchHandler {
  return async (event) => {
    await wait;
    into.push(...event.Records.map(textOf));
  };
}

/** One step of a {@link scriptedHandler}: succeed, throw, or fail from the record at this index on. */
export type BatchBehaviour = 'ok' | 'throw' | number;

/**
 * A handler that follows `script` batch after batch, cycling, with a success closing every cycle so
 * delivery always progresses; the texts of the records it processed are pushed to `processed`.
 */
export function scriptedHandler(script: readonly BatchBehaviour[], processed: string[]): KinesisBatchHandler {
  const behaviours = [...script, 'ok' as const];
  let call = 0;
  return async (event) => {
    const behaviour = behaviours[call++ % behaviours.length];
    const records = event.Records;
    if (behaviour === 'throw') throw new Error('injected');
    const failAt = typeof behaviour === 'number' ? behaviour % records.length : records.length;
    processed.push(...records.slice(0, failAt).map(textOf));
    if (failAt === records.length) return;
    return { batchItemFailures: [{ itemIdentifier: records[failAt]?.kinesis.sequenceNumber ?? '' }] };
  };
}

/**
 * Puts each list of keys as one call, records numbered `key:n` across all calls, yielding to the event
 * loop after every third call; resolves with the calls' outcomes, every text by key in put order, and
 * the number of records.
 */
export async function putNumbered(
  stream: Pick<EventStream, 'put'>,
  puts: readonly (readonly string[])[],
): Promise<{ outcomes: PutOutcome[]; expected: Map<string, string[]>; count: number }> {
  const expected = new Map<string, string[]>();
  const calls: Promise<PutOutcome>[] = [];
  let count = 0;
  for (const [i, keys] of puts.entries()) {
    const entries = keys.map((key) => {
      const text = `${key}:${count++}`;
      expected.set(key, [...(expected.get(key) ?? []), text]);
      return entry(key, text);
    });
    calls.push(stream.put(entries));
    if (i % 3 === 2) await new Promise((resolve) => setImmediate(resolve));
  }
  return { outcomes: await Promise.all(calls), expected, count };
}
