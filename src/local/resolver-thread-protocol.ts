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

/**
 * A batch of the stream as it crosses to the thread: the records without their data, and the data of
 * all of them in one buffer that is transferred, not copied. Posted as it is, each record's \`data\`
 * would be encoded to base64 here and decoded back there, and the text cloned on the way.
 */
export interface PackedBatch {
  readonly records: readonly PackedRecord[];
  /** Every record's data, one after another. */
  readonly data: ArrayBuffer;
  /** Where each record's data ends in {@link data}. */
  readonly ends: readonly number[];
}

type PackedRecord = Omit<KinesisStreamRecord, 'kinesis'> & {
  readonly kinesis: Omit<KinesisStreamRecord['kinesis'], 'data'>;
};

/** Packs a batch for {@link ToResolverThread}; post it with `transferList: [batch.data]`. */
export function packBatch(event: KinesisStreamEvent): PackedBatch {
  const bytes = event.Records.map((record) => recordData(record.kinesis));
  const data = new Uint8Array(bytes.reduce((total, b) => total + b.byteLength, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const b of bytes) {
    data.set(b, offset);
    offset += b.byteLength;
    ends.push(offset);
  }
  const records = event.Records.map(({ kinesis, ...record }): PackedRecord => {
    const { kinesisSchemaVersion, partitionKey, sequenceNumber, approximateArrivalTimestamp } = kinesis;
    return {
      ...record,
      kinesis: { kinesisSchemaVersion, partitionKey, sequenceNumber, approximateArrivalTimestamp },
    };
  });
  return { records, data: data.buffer, ends };
}

/** The batch {@link packBatch} packed, each record carrying its data as bytes again. */
export function unpackBatch(batch: PackedBatch): KinesisStreamEvent {
  return {
    Records: batch.records.map((record, i) => ({
      ...record,
      kinesis: payloadWithBytes(
        record.kinesis,
        new Uint8Array(
          batch.data,
          batch.ends[i - 1] ?? 0,
          (batch.ends[i] as number) - (batch.ends[i - 1] ?? 0),
        ),
      ),
    })),
  };
}
