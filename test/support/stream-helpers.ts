import type { KinesisStreamRecord } from 'aws-lambda';
import type { StreamEntry } from '../../src/ports/event-stream';

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
