import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { addRequestCounts, type StoreRequestCounts } from '../adapters/aws/dynamodb-identity-store';
import type { Logger } from '../ports/logger';
import type { ResolverEffects } from '../use-cases/resolve-identities';
import {
  packBatch,
  type ResolverThreadData,
  resolverWorkerOptions,
  type ToResolverThread,
  type ToRuntime,
} from './resolver-thread-protocol';

export interface ResolverThreadOptions {
  readonly data: ResolverThreadData;
  /** Hands a batch's links and merges on (the lake's `identity_links`, the bus). */
  readonly publish: (effects: ResolverEffects) => Promise<void>;
  readonly logger: Logger;
  /**
   * Starts the thread's worker: by default `resolver-thread.ts` (its bundle next to the runtime's).
   * Benchmarks start an instrumented entry; tests, one that misbehaves. Start it with
   * {@link resolverWorkerOptions}`(data)`, which hands over the engine's port.
   */
  readonly startWorker?: (data: ResolverThreadData) => Worker;
  /**
   * A new port to the embedded engine for each thread started (`EmbeddedDynamoDb.connect`): its SDK
   * client then reaches the engine by messages. Without it, over HTTP to `data.endpoint`.
   */
  readonly connectEngine?: () => MessagePort;
}

interface Pending {
  resolve(response: KinesisStreamBatchResponse): void;
  reject(error: Error): void;
}

/**
 * The resolver on a thread of its own, as the resolver Lambda runs apart from the APIs' Lambdas: its
 * CPU work — planning, applying events to profiles, the SDK's calls — no longer shares the event loop
 * the collector and the Profile API answer from. {@link handler} is the stream's Kinesis handler; the
 * thread resolves each batch and reports its partial batch response, its effects (published here, on
 * the thread that owns the lake and the bus) and its counters.
 *
 * If the thread dies, the batches it held fail — the stream delivers them again, as Lambda retries a
 * crashed invocation — and the next batch starts a new thread.
 */
export class ResolverThread {
  private worker: Promise<Worker> | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Workers that have exited: a batch is never handed to one (it would wait for ever). */
  private readonly exited = new WeakSet<Worker>();
  private nextId = 0;
  private closed = false;
  /** The thread's resolver metrics and store requests after its latest batch (a new thread counts on). */
  private latest = { metrics: new Map<string, number>(), requests: emptyRequests() };
  /** What threads that have died had counted. */
  private previous = { metrics: new Map<string, number>(), requests: emptyRequests() };

  private constructor(private readonly options: ResolverThreadOptions) {}

  /** Starts the thread; rejects if it cannot start (a missing bundle, a module that fails to load). */
  static async start(options: ResolverThreadOptions): Promise<ResolverThread> {
    const thread = new ResolverThread(options);
    await thread.ensureWorker();
    return thread;
  }

  /** The stream's handler: resolves a batch on the thread. */
  readonly handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    if (this.closed) throw new Error('the resolver thread is closed');
    const worker = await this.ensureWorker();
    if (this.exited.has(worker)) throw new Error('the resolver thread stopped before the batch reached it');
    const id = this.nextId++;
    return new Promise<KinesisStreamBatchResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const batch = packBatch(event);
      worker.postMessage({ type: 'batch', id, batch } satisfies ToResolverThread, [batch.data]);
    });
  };

  /** A resolver metric's count (`event.applied`, `profile_created`, ...), all threads together. */
  metric(name: string): number {
    return (this.previous.metrics.get(name) ?? 0) + (this.latest.metrics.get(name) ?? 0);
  }

  /** The resolver's identity store requests so far. */
  requests(): StoreRequestCounts {
    return addRequestCounts(this.previous.requests, this.latest.requests);
  }

  /** Stops the thread (after the stream has stopped handing it batches). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = await this.worker?.catch(() => undefined);
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Promise<Worker> {
    this.worker ??= this.spawn().catch((error: unknown) => {
      this.worker = undefined;
      throw error;
    });
    return this.worker;
  }

  private spawn(): Promise<Worker> {
    const engine = this.options.connectEngine?.();
    const data = engine === undefined ? this.options.data : { ...this.options.data, engine };
    let worker: Worker;
    try {
      worker = (this.options.startWorker ?? startThreadWorker)(data);
    } catch (error) {
      engine?.close();
      return Promise.reject(error);
    }
    return new Promise<Worker>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: ToRuntime) => {
        if (message.type === 'ready') {
          ready = true;
          resolve(worker);
          return;
        }
        this.receive(worker, message);
      });
      worker.on('error', (error) => {
        if (!ready) reject(new Error(`the resolver thread could not start: ${error.message}`));
        else this.options.logger.error('the resolver thread failed', { error: error.message });
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`the resolver thread exited with code ${code} before it started`));
        this.exited.add(worker);
        this.stopped(code);
      });
    });
  }

  private receive(worker: Worker, message: ToRuntime): void {
    switch (message.type) {
      case 'resolved': {
        this.latest = { metrics: new Map(message.metrics), requests: message.requests };
        this.settle(message.id)?.resolve(message.response);
        return;
      }
      case 'failed':
        this.settle(message.id)?.reject(new Error(message.error));
        return;
      case 'publish':
        this.options.publish(message.effects).then(
          () => this.send(worker, { type: 'published', id: message.id }),
          (error: unknown) =>
            this.send(worker, {
              type: 'published',
              id: message.id,
              error: error instanceof Error ? error.message : String(error),
            }),
        );
        return;
      case 'log':
        this.options.logger[message.level](message.message, ...message.attributes);
        return;
      case 'ready':
        return;
    }
  }

  /** A thread that exited: what it held fails (and is delivered again); its counts are kept. */
  private stopped(code: number): void {
    this.worker = undefined;
    for (const [name, count] of this.latest.metrics) {
      this.previous.metrics.set(name, (this.previous.metrics.get(name) ?? 0) + count);
    }
    this.previous.requests = this.requests();
    this.latest = { metrics: new Map(), requests: emptyRequests() };
    const held = [...this.pending.values()];
    this.pending.clear();
    if (!this.closed) {
      this.options.logger.error('the resolver thread stopped; its batches will be delivered again', {
        exitCode: code,
        batches: held.length,
      });
    }
    for (const batch of held) batch.reject(new Error(`the resolver thread stopped (exit code ${code})`));
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending;
  }

  private send(worker: Worker, message: ToResolverThread): void {
    worker.postMessage(message);
  }
}

function emptyRequests(): StoreRequestCounts {
  return { reads: 0, writes: 0, conditionFailures: 0, writeUnits: 0 };
}

/**
 * The thread's worker. Bundled (`npm start`, the benchmarks), the thread's bundle sits next to the
 * runtime's; run from the TypeScript sources (tests, `tsx`), the thread loads its sources through tsx.
 */
export function startThreadWorker(data: ResolverThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./resolver-thread.mjs', here), resolverWorkerOptions(data));
  const entry = new URL('./resolver-thread.ts', here).href;
  const boot = `import(${JSON.stringify(tsxEsmApi(here))}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}));`;
  return new Worker(boot, { eval: true, ...resolverWorkerOptions(data) });
}

/** The URL of tsx's ESM API (`tsx/esm/api`, its `import` export) as seen from `from`. */
function tsxEsmApi(from: string): string {
  const require = createRequire(from);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = manifest.exports['./esm/api']?.import.default;
  if (api === undefined)
    throw new Error('tsx does not export ./esm/api: the resolver thread cannot load its sources');
  return pathToFileURL(join(dirname(manifestPath), api)).href;
}
