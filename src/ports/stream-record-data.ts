import type { KinesisStreamRecordPayload } from 'aws-lambda';

/**
 * The bytes of a Kinesis record as a stream consumer reads them. Kinesis hands Lambda each record's
 * data as base64 text; the in-process stream (`MemoryEventStream`) keeps the bytes it holds beside
 * the payload instead and makes the base64 text only if something reads `data`, so the local
 * runtime's consumers neither encode nor decode base64 for every record they are given.
 */
const heldBytes = new WeakMap<KinesisStreamRecordPayload, Uint8Array>();

/** The payload's bytes: those the in-process stream attached, else `data` decoded from base64. */
export function recordData(payload: KinesisStreamRecordPayload): Buffer {
  const bytes = heldBytes.get(payload);
  if (bytes === undefined) return Buffer.from(payload.data, 'base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A Kinesis record payload carrying `bytes`, whose `data` (base64) is made on first read: it is an
 * enumerable property like any other, so the payload still serialises and compares as Kinesis's.
 */
export function payloadWithBytes(
  fields: Omit<KinesisStreamRecordPayload, 'data'>,
  bytes: Uint8Array,
): KinesisStreamRecordPayload {
  let base64: string | undefined;
  const payload: KinesisStreamRecordPayload = {
    ...fields,
    get data() {
      base64 ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
      return base64;
    },
  };
  heldBytes.set(payload, bytes);
  return payload;
}
