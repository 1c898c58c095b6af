import type { KinesisStreamRecordPayload } from 'aws-lambda';

/**
 * A Kinesis record payload that carries the bytes the in-process stream (`MemoryEventStream`) holds,
 * and makes its base64 `data` only if something reads it. Kinesis hands Lambda each record's data
 * as base64 text; handed over as it is held, the local runtime's consumers neither encode nor decode
 * base64 for every record they are given. `data` is an own enumerable property like any other, so
 * the payload still serialises, spreads and compares as Kinesis's.
 */
class HeldPayload implements KinesisStreamRecordPayload {
  static readonly #data: PropertyDescriptor = {
    get(this: HeldPayload) {
      return HeldPayload.#base64Of(this);
    },
    enumerable: true,
    configurable: true,
  };

  readonly kinesisSchemaVersion: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  declare readonly data: string;
  readonly approximateArrivalTimestamp: number;
  readonly #bytes: Uint8Array;
  #base64: string | undefined;

  constructor(fields: Omit<KinesisStreamRecordPayload, 'data'>, bytes: Uint8Array) {
    this.kinesisSchemaVersion = fields.kinesisSchemaVersion;
    this.partitionKey = fields.partitionKey;
    this.sequenceNumber = fields.sequenceNumber;
    // One shared accessor, defined on each payload in the order Kinesis lists `data`.
    Object.defineProperty(this, 'data', HeldPayload.#data);
    this.approximateArrivalTimestamp = fields.approximateArrivalTimestamp;
    this.#bytes = bytes;
  }

  static #base64Of(payload: HeldPayload): string {
    const bytes = payload.#bytes;
    payload.#base64 ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    return payload.#base64;
  }

  /** The bytes of a payload made here; undefined for any other (a Kinesis one). */
  static bytesOf(payload: object): Uint8Array | undefined {
    return #bytes in payload ? (payload as HeldPayload).#bytes : undefined;
  }
}

/** The payload's bytes: those the in-process stream attached, else `data` decoded from base64. */
export function recordData(payload: KinesisStreamRecordPayload): Buffer {
  const bytes = HeldPayload.bytesOf(payload);
  if (bytes === undefined) return Buffer.from(payload.data, 'base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A Kinesis record payload carrying `bytes`, whose base64 `data` is made on first read. */
export function payloadWithBytes(
  fields: Omit<KinesisStreamRecordPayload, 'data'>,
  bytes: Uint8Array,
): KinesisStreamRecordPayload {
  return new HeldPayload(fields, bytes);
}
