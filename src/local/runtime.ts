import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createCollectorHandler } from '../../functions/collector/handler';
import { consoleLogger } from '../adapters/local/console-logger';
import { CountingIngestMetrics } from '../adapters/local/counting-ingest-metrics';
import { createFileFailureDestination } from '../adapters/local/failure-destination';
import { FileQuarantineSink } from '../adapters/local/file-quarantine-sink';
import { LakeWriter } from '../adapters/local/lake-writer';
import { MemoryEventStream } from '../adapters/local/memory-event-stream';
import { WriteKeyRegistry } from '../core/collector/write-keys';
import { type CollectorLimits, DEFAULT_LIMITS } from '../core/config/limits';
import type { SourcesConfig } from '../core/config/sources';
import { randomIds, realSleep, systemClock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { createIngest } from '../use-cases/ingest';
import { ApiGatewayServer } from './api-gateway-server';

export interface LocalRuntimeOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  /** Everything the runtime keeps: the lake, quarantine, failed batches. */
  readonly dataDir: string;
  /** Sources and their write-key hashes, as in the AWS configuration. */
  readonly sources: SourcesConfig;
  readonly limits?: Partial<CollectorLimits>;
  /** How often the lake writer lands what it holds. Default 2 s. */
  readonly lakeFlushIntervalMs?: number;
  readonly logger?: Logger;
}

export interface LocalRuntimeStats {
  readonly accepted: number;
  readonly rejected: number;
  /** Rows written to the lake's `events` table. */
  readonly landed: number;
  /** Accepted records not yet landed: in the stream or buffered by the lake writer. */
  readonly inFlight: number;
}

export interface LocalRuntime {
  readonly url: string;
  readonly dataDir: string;
  stats(): LocalRuntimeStats;
  /** Waits until everything accepted so far is in the lake. */
  flush(): Promise<void>;
  /** Stops taking requests, lands everything accepted, and releases every resource. */
  close(): Promise<void>;
}

/**
 * The whole CDP in one process: the collector handler behind a local API Gateway, the in-process
 * stream in place of Kinesis, and the lake writer in place of Firehose → S3 — the same handlers and
 * use cases as in AWS, with the local adapters.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const logger = options.logger ?? consoleLogger('mosaic');
  const limits: CollectorLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new CountingIngestMetrics();

  const stream = new MemoryEventStream({ streamName: 'mosaic-events' });
  const lake = await LakeWriter.open({
    dataDir,
    flushIntervalMs: options.lakeFlushIntervalMs ?? 2000,
    onWriteError: (error) =>
      logger.error('lake write failed; the records stay buffered and are retried', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  stream.subscribe({
    name: 'lake',
    handler: lake.handler,
    batchSize: 1000,
    maxBatchingWindowMs: 100,
    onFailure: createFileFailureDestination(resolve(dataDir, 'failed')),
  });

  const ingest = createIngest({
    stream,
    quarantine: new FileQuarantineSink({ dataDir }),
    keys: new WriteKeyRegistry(options.sources),
    limits,
    clock: systemClock,
    newId: randomIds,
    sleep: realSleep,
    metrics,
  });
  const collector = createCollectorHandler({ ingest, limits, logger });

  let ready = false;
  const server = new ApiGatewayServer({
    routes: [{ prefix: '/v1/', handler: collector }],
    logger,
    ready: () => ready,
  });
  const url = await server.listen(options.port, options.host ?? '127.0.0.1');
  ready = true;

  const stats = (): LocalRuntimeStats => {
    const lakeStats = lake.stats();
    return {
      accepted: metrics.acceptedTotal,
      rejected: metrics.rejectedTotal,
      landed: lakeStats.rowsLanded,
      inFlight: (stream.stats().subscriptions.lake?.lag ?? 0) + lakeStats.rowsBuffered,
    };
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    dataDir,
    stats,
    async flush() {
      await stream.drain();
      await lake.flush();
    },
    close() {
      closing ??= (async () => {
        ready = false;
        await server.close();
        await stream.close();
        await lake.close();
      })();
      return closing;
    },
  };
}
