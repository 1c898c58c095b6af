// The messages between the local runtime's main thread and its resolver thread (structured clone),
// and the data and `Worker` options the thread starts with.
import type { MessagePort, WorkerOptions } from 'node:worker_threads';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { StoreRequestCounts } from '../adapters/aws/dynamodb-identity-store';
import type { IdentityConfig } from '../core/identity/identity-config';
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

/** The `Worker` options that hand a resolver thread its data (transferring the engine's port). */
export function resolverWorkerOptions(data: ResolverThreadData): WorkerOptions {
  return { workerData: data, transferList: data.engine === undefined ? [] : [data.engine] };
}

export type ToResolverThread =
  /** Resolve a batch of the stream, as the event source mapping hands it to the Lambda. */
  | { readonly type: 'batch'; readonly id: number; readonly event: KinesisStreamEvent }
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
