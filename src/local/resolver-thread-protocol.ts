// The messages between the local runtime's main thread and its resolver thread (structured clone),
// and the data and `Worker` options the thread starts with.
import type { MessagePort, WorkerOptions } from 'node:worker_threads';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { StoreRequestCounts } from '../adapters/aws/dynamodb-identity-store';
import type { IdentityConfig } from '../core/identity/identity-config';
import { payloadWithBytes, recordData } from '../ports/stream-record-data';
import type { ResolverEffects } from '../use-cases/resolve-identities';

/** What the resolver thread starts from. */
export interface ResolverThreadData {
  /** The embedded DynamoDB's endpoint (`http://127.0.0.1:<port>`). */
  readonly endpoint: string;
  /**
   * A port to the embedded engine (`DynaliteThread.connect`): the thread's SDK client sends its
   * requests on it instead of over HTTP to `endpoint`. Transferred: see {@link resolverWorkerOptions}.
   */
  readonly engine?: MessagePort;
  readonly tableName: string;
  readonly identity: IdentityConfig;
}

/**
 * The resolver thread's young generation, in MB (V8's default lets a thread's grow to about 34 MB).
 * The resolver's batches are short-lived garbage, and with 12 MB its heap under the ingest benchmark's
 * load peaked at 40 MB instead of 68 (peak RSS about 20 MB less), with the collector's requests per
 * second, and the unify benchmark's freshness and Profile API latencies, as before.
 */
const RESOLVER_YOUNG_GENERATION_MB = 12;

/** The `Worker` options that hand a resolver thread its data (transferring the engine's port). */
export function resolverWorkerOptions(data: ResolverThreadData): WorkerOptions {
  return {
    workerData: data,
    transferList: data.engine === undefined ? [] : [data.engine],
    resourceLimits: { maxYoungGenerationSizeMb: RESOLVER_YOUNG_GENERATION_MB },
  };
}

export type ToResolverThread =
  /** Resolve a batch of the stream, as the event source mapping hands it to the Lambda. */
  | { readonly type: 'batch'; readonly id: number; readonly batch: PackedBatch }
  /** A publication is done; with `error`, it failed (the batch fails and is delivered again). */
  | { readonly type: 'published'; readonly id: number; readonly error?: string };

export type ToRuntime =
  | { readonly type: 'ready' }
  /** A batch's partial batch response, and the thread's counters after it. */
  | {
      readonly type: 'resolved';
      readonly id: number;
      readonly response: KinesisStreamBatchResponse;
      readonly metrics: readonly (readonly [string, number])[];
      readonly requests: StoreRequestCounts;
    }
  /** The handler threw: the whole batch is delivered again. */
  | { readonly type: 'failed'; readonly id: number; readonly error: string }
  /** A batch's links and merges, for the lake and the bus; the thread waits for `published`. */
  | { readonly type: 'publish'; readonly id: number; readonly effects: ResolverEffects }
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly message: string;
      readonly attributes: Record<string, unknown>[];
    };

/** The fields of a Lambda Kinesis record, and of its `kinesis` payload but `data`, in Lambda's order. */
const RECORD_FIELDS = [
  'eventSource',
  'eventVersion',
  'eventID',
  'eventName',
  'invokeIdentityArn',
  'awsRegion',
  'eventSourceARN',
] as const;
const PAYLOAD_FIELDS = [
  'kinesisSchemaVersion',
  'partitionKey',
  'sequenceNumber',
  'approximateArrivalTimestamp',
] as const;

type RecordField = (typeof RECORD_FIELDS)[number];
type PayloadField = (typeof PAYLOAD_FIELDS)[number];

/** A field's value in every record of a batch: one all of them have, or one each. */
type Column = { readonly all: unknown } | { readonly each: readonly unknown[] };

/**
 * A batch of the stream as it crosses to the thread: its records' fields by column, a field every
 * record has the same value of once (a batch comes from one shard of one stream, so its ARNs, region
 * and versions are one value each), and the data of all of them in one buffer that is transferred, not
 * copied. Posted as Lambda records, each record's `data` would be encoded to base64 here and decoded
 * back there, and a dozen strings a record cloned on the way: about 1.2 µs a record on this thread
 * and as much on the resolver's, against a quarter of that as columns (500-record batches).
 */
export interface PackedBatch {
  readonly count: number;
  readonly fields: Readonly<Record<RecordField, Column>>;
  readonly payload: Readonly<Record<PayloadField, Column>>;
  /** Every record's data, one after another. */
  readonly data: ArrayBuffer;
  /** Where each record's data ends in {@link data}. */
  readonly ends: readonly number[];
}

function columnOf<T>(items: readonly T[], value: (item: T) => unknown): Column {
  const first = items.length === 0 ? undefined : value(items[0] as T);
  for (let i = 1; i < items.length; i++) {
    if (value(items[i] as T) !== first) return { each: items.map(value) };
  }
  return { all: first };
}

function valueAt(column: Column, i: number): unknown {
  return 'all' in column ? column.all : column.each[i];
}

/** Packs a batch for {@link ToResolverThread}; post it with `transferList: [batch.data]`. */
export function packBatch(event: KinesisStreamEvent): PackedBatch {
  const records = event.Records;
  const bytes = records.map((record) => recordData(record.kinesis));
  const data = new Uint8Array(bytes.reduce((total, b) => total + b.byteLength, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const b of bytes) {
    data.set(b, offset);
    offset += b.byteLength;
    ends.push(offset);
  }
  const fields = {} as Record<RecordField, Column>;
  for (const field of RECORD_FIELDS) fields[field] = columnOf(records, (record) => record[field]);
  const payload = {} as Record<PayloadField, Column>;
  for (const field of PAYLOAD_FIELDS) payload[field] = columnOf(records, (record) => record.kinesis[field]);
  return { count: records.length, fields, payload, data: data.buffer, ends };
}

/** The batch {@link packBatch} packed, each record carrying its data as bytes again. */
export function unpackBatch(batch: PackedBatch): KinesisStreamEvent {
  const { fields, payload } = batch;
  const Records: KinesisStreamRecord[] = new Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const start = batch.ends[i - 1] ?? 0;
    Records[i] = {
      kinesis: payloadWithBytes(
        {
          kinesisSchemaVersion: valueAt(payload.kinesisSchemaVersion, i) as string,
          partitionKey: valueAt(payload.partitionKey, i) as string,
          sequenceNumber: valueAt(payload.sequenceNumber, i) as string,
          approximateArrivalTimestamp: valueAt(payload.approximateArrivalTimestamp, i) as number,
        },
        new Uint8Array(batch.data, start, (batch.ends[i] as number) - start),
      ),
      eventSource: valueAt(fields.eventSource, i) as string,
      eventVersion: valueAt(fields.eventVersion, i) as string,
      eventID: valueAt(fields.eventID, i) as string,
      eventName: valueAt(fields.eventName, i) as string,
      invokeIdentityArn: valueAt(fields.invokeIdentityArn, i) as string,
      awsRegion: valueAt(fields.awsRegion, i) as string,
      eventSourceARN: valueAt(fields.eventSourceARN, i) as string,
    };
  }
  return { Records };
}
