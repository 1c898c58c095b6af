// The local runtime for the unify benchmark, in its own process (bundled, as `npm start` runs it;
// argv: write key, admin key): it prints where it listens and answers requests over IPC — `stats`: the
// runtime's stats and where the identity store's requests came from; `baseline`: the dynalite baseline.
//
// The breakdown is bench-only instrumentation: the store's methods and the stream's `subscribe` are
// wrapped on their prototypes before the runtime starts — on this thread and, through the runtime's
// `startResolverWorker`, on the resolver's (`unify-resolver-thread.ts`, bundled next to this server) —
// so the runtime itself is unchanged. For
// experiments, MOSAIC_BENCH_RESOLVER_BATCH_SIZE and MOSAIC_BENCH_RESOLVER_WINDOW_MS override the
// resolver subscription's `batchSize` and `maxBatchingWindowMs` (the report says when they are set).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { toAttributes } from '../src/adapters/aws/dynamodb-items';
import { consoleLogger } from '../src/adapters/local/console-logger';
import { MemoryEventStream, type SubscriptionOptions } from '../src/adapters/local/memory-event-stream';
import { hashKey } from '../src/core/auth/hashed-keys';
import { hashWriteKey } from '../src/core/collector/write-keys';
import { ensureIdentityTable, startEmbeddedDynamoDb } from '../src/local/embedded-dynamodb';
import { resolverWorkerOptions } from '../src/local/resolver-thread-protocol';
import { startLocalRuntime } from '../src/local/runtime';
import { cpuBetween, sampleCpu } from './proc-cpu';
import { ascending, nearestRank } from './stats';
import {
  addCalls,
  instrumentStore,
  noCalls,
  RESOLVER_THREAD_CHANNEL,
  type ResolverThreadCalls,
  type StoreCalls,
} from './unify-instrument';
import { unifyWorkload } from './unify-workload';

export type { StoreCalls } from './unify-instrument';

export interface ResolverBatches {
  readonly invocations: number;
  readonly records: number;
  /** Invocations by batch size: `[1, 10)`, `[10, 50)`, `[50, 100)`, `[100, ...)`. */
  readonly sizeHistogram: readonly number[];
  /** Milliseconds spent in the resolver handler, all invocations together. */
  readonly busyMs: number;
}

export interface UnifyServerStats {
  readonly runtime: ReturnType<Awaited<ReturnType<typeof startLocalRuntime>>['stats']>;
  readonly calls: StoreCalls;
  /** The main thread's calls alone: the Profile API's. */
  readonly apiCalls: StoreCalls;
  readonly batches: ResolverBatches;
  /** Messages the resolver planned again after a lost conditional write, by reason. */
  readonly replans: Readonly<Record<string, number>>;
  readonly peakRssMb: number;
}

/** This thread's identity store calls: the Profile API's (the resolver's are on its thread). */
const calls = noCalls();
const replans: Record<string, number> = {};
const batches = { invocations: 0, records: 0, sizeHistogram: [0, 0, 0, 0], busyMs: 0 };
/** Records and milliseconds of each resolver batch since the last `load` request. */
const batchLog: [number, number][] = [];
/** Milliseconds of each Profile API identity store read since the last `load` request. */
const readLog: number[] = [];
/** Milliseconds of each resolver identity store read since the last `load` request. */
const resolverReadLog: number[] = [];

function instrument(): void {
  instrumentStore(calls, readLog);

  const batchSize = process.env.MOSAIC_BENCH_RESOLVER_BATCH_SIZE;
  const windowMs = process.env.MOSAIC_BENCH_RESOLVER_WINDOW_MS;
  const subscribe = MemoryEventStream.prototype.subscribe;
  MemoryEventStream.prototype.subscribe = function (this: MemoryEventStream, options: SubscriptionOptions) {
    if (options.name !== 'resolver') return subscribe.call(this, options);
    const handler = options.handler;
    return subscribe.call(this, {
      ...options,
      ...(batchSize ? { batchSize: Number(batchSize) } : {}),
      ...(windowMs ? { maxBatchingWindowMs: Number(windowMs) } : {}),
      handler: async (event: KinesisStreamEvent) => {
        const size = event.Records.length;
        batches.invocations++;
        batches.records += size;
        (batches.sizeHistogram[size < 10 ? 0 : size < 50 ? 1 : size < 100 ? 2 : 3] as number)++;
        const start = performance.now();
        try {
          return await handler(event);
        } finally {
          const ms = performance.now() - start;
          batches.busyMs += ms;
          batchLog.push([size, ms]);
        }
      },
    });
  };
}

const resolverThread = new BroadcastChannel(RESOLVER_THREAD_CHANNEL);
resolverThread.unref();
let nextAsk = 0;
/** The resolver thread's calls so far; its reads since the last ask go to `resolverReadLog`. */
function resolverThreadCalls(): Promise<StoreCalls> {
  const id = nextAsk++;
  return new Promise<StoreCalls>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the resolver thread did not answer')), 5000);
    const listener = (message: unknown) => {
      const answer = (message as { data: ResolverThreadCalls }).data;
      if (answer.id !== id) return;
      clearTimeout(timer);
      resolverThread.removeEventListener('message', listener);
      resolverReadLog.push(...answer.reads);
      resolve(answer.calls);
    };
    resolverThread.addEventListener('message', listener);
    resolverThread.postMessage({ id });
  });
}

async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Number.isFinite(kb) ? kb / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/**
 * The least any resolver must do per event, as the baseline of events/s: one conditional put of the
 * event (as a new profile is put) through the same SDK client configuration to a dynalite on disk of
 * its own, from as many concurrent loops as the stream has shards. Measured while the runtime is idle,
 * between the phases, so it sees the machine as the phases around it do.
 */
async function startBaseline(dir: string, loops = 4) {
  const dynamo = await startEmbeddedDynamoDb({ path: join(dir, 'baseline') });
  await ensureIdentityTable(dynamo.client, 'baseline');
  const { messages } = unifyWorkload({ people: 1000, events: 2000, seed: 1 });
  let next = 0;
  const put = () => {
    const message = messages[next % messages.length] as Record<string, unknown>;
    return dynamo.client.send(
      new PutItemCommand({
        TableName: 'baseline',
        Item: toAttributes({ pk: `E#${next++}`, sk: 'E', doc: JSON.stringify(message) }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  };
  /** Puts per second over `ms`. */
  const run = async (ms: number) => {
    const start = performance.now();
    const before = next;
    await Promise.all(
      Array.from({ length: loops }, async () => {
        while (performance.now() - start < ms) await put();
      }),
    );
    return (next - before) / ((performance.now() - start) / 1000);
  };
  await run(500); // warm-up: JIT, connections
  return { run, close: () => dynamo.close() };
}

const [writeKey = '', adminKey = ''] = process.argv.slice(2);
const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-bench-unify-'));
const baseline = await startBaseline(dataDir);
instrument();
const errors = consoleLogger('mosaic', 'warn');
const runtime = await startLocalRuntime({
  port: 0,
  dataDir,
  logger: {
    ...errors,
    warn: (message, ...attributes) => {
      replans[`warn: ${message}`] = (replans[`warn: ${message}`] ?? 0) + 1;
      errors.warn(message, ...attributes);
    },
    debug: (message, ...attributes) => {
      // The resolver's re-plans, by reason (profile ids stripped so the reasons group).
      if (message !== 're-planning a message') return;
      const reason = String((attributes[0] as { reason?: unknown } | undefined)?.reason).replace(
        /p_[0-9a-f]{32}/g,
        'p_…',
      );
      replans[reason] = (replans[reason] ?? 0) + 1;
    },
  },
  sources: [{ name: 'bench', keys: [{ sha256: hashWriteKey(writeKey), revoked: false }] }],
  adminKeys: [{ name: 'bench-admin', keyHashes: [hashKey(adminKey)] }],
  startResolverWorker: (data) =>
    new Worker(new URL('./unify-resolver-thread.mjs', import.meta.url), resolverWorkerOptions(data)),
});

/** Milliseconds: median, 99th percentile, most. */
export interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** How busy the runtime was since the last `load` request. */
export interface RuntimeLoad {
  /** CPU time of the process over wall time (1 = one core all the time). */
  readonly cpu: number;
  /**
   * Time the runtime's threads were ready to run but waited for a core, over wall time (Linux's
   * per-thread scheduler figures; absent elsewhere): the main thread's, and all threads' together.
   */
  readonly coreWait?: { readonly main: number; readonly all: number };
  /** The machine's steal time over its CPU time (a virtual machine's cores running other guests). */
  readonly steal?: number;
  /** How late the event loop ran a timer (checked every 5 ms), in ms. */
  readonly loopDelay: Spread;
  /** Resolver batches: records each, and how long each took. */
  readonly batchRecords: Spread;
  readonly batchMs: Spread;
  /** The Profile API's identity store reads, each from call to answer. */
  readonly apiReadMs: Spread;
  /** The resolver's identity store reads (on its thread), each from call to answer. */
  readonly resolverReadMs: Spread;
}

const LOOP_RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();
const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
let loadSince = { wall: performance.now(), cpu: process.cpuUsage(), sched: sampleCpu(process.pid) };

function spread(values: readonly number[]): Spread {
  const sorted = ascending(values);
  const at = (q: number) => nearestRank(sorted, q) ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

process.on('message', (message: { id: number; type: 'stats' | 'baseline' | 'load'; ms?: number }) => {
  const reply = (value: unknown) => process.send?.({ id: message.id, value });
  if (message.type === 'baseline') {
    void baseline.run(message.ms ?? 2000).then(reply);
    return;
  }
  if (message.type === 'load') {
    void resolverThreadCalls().then(() => reply(takeLoad()));
    return;
  }
  void Promise.all([peakRssMb(), resolverThreadCalls()]).then(([peak, threadCalls]) => {
    const stats: UnifyServerStats = {
      runtime: runtime.stats(),
      calls: addCalls(calls, threadCalls),
      apiCalls: { ...calls },
      batches: { ...batches, sizeHistogram: [...batches.sizeHistogram] },
      replans: { ...replans },
      peakRssMb: peak,
    };
    reply(stats);
  });
});

/** How busy the runtime was since the last call (the resolver thread's reads just collected). */
function takeLoad(): RuntimeLoad {
  const cpu = process.cpuUsage(loadSince.cpu);
  const wallMs = performance.now() - loadSince.wall;
  const sched = sampleCpu(process.pid);
  const since = cpuBetween(loadSince.sched, sched);
  const load: RuntimeLoad = {
    cpu: (cpu.user + cpu.system) / 1000 / wallMs,
    ...(since === undefined
      ? {}
      : {
          coreWait: { main: since.mainThreadWaitingCores, all: since.waitingCores },
          steal: since.stealShare,
        }),
    // The histogram counts the sampling interval itself: what is beyond it is the delay.
    loopDelay: {
      p50: late(loop.percentile(50)),
      p99: late(loop.percentile(99)),
      max: late(loop.max),
    },
    batchRecords: spread(batchLog.map(([records]) => records)),
    batchMs: spread(batchLog.map(([, ms]) => ms)),
    apiReadMs: spread(readLog.splice(0)),
    resolverReadMs: spread(resolverReadLog.splice(0)),
  };
  loop.reset();
  batchLog.length = 0;
  loadSince = { wall: performance.now(), cpu: process.cpuUsage(), sched };
  return load;
}
process.on('SIGTERM', () => {
  void Promise.all([runtime.close(), baseline.close()])
    .then(() => rm(dataDir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
});
process.stdout.write(`running at ${runtime.url}\n`);
