import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createAdminAuthorizerHandler } from '../../functions/admin-authorizer/handler';
import { createCollectorHandler } from '../../functions/collector/handler';
import { createDestinationsApiHandler } from '../../functions/destinations-api/handler';
import { createProfileApiHandler } from '../../functions/profile-api/handler';
import { createSegmentsApiHandler } from '../../functions/segments-api/handler';
import {
  addRequestCounts,
  DynamoDbIdentityStore,
  type StoreRequestCounts,
} from '../adapters/aws/dynamodb-identity-store';
import { DynamoDbSegmentStore } from '../adapters/aws/dynamodb-segment-store';
import { consoleLogger } from '../adapters/local/console-logger';
import { CountingIngestMetrics } from '../adapters/local/counting-ingest-metrics';
import { type LocalDestinations, startLocalDestinations } from '../adapters/local/destination-workers';
import { DuckDbAudienceEngine } from '../adapters/local/duckdb-audience-engine';
import { DuckDbExportRunner } from '../adapters/local/duckdb-export-runner';
import { DuckDbLake } from '../adapters/local/duckdb-lake';
import { createFileFailureDestination } from '../adapters/local/failure-destination';
import { FileQuarantineSink } from '../adapters/local/file-quarantine-sink';
import { LakeIdentityLinkSink } from '../adapters/local/lake-identity-link-sink';
import { LakeWriter } from '../adapters/local/lake-writer';
import { MemoryEventBus } from '../adapters/local/memory-event-bus';
import { MemoryEventStream } from '../adapters/local/memory-event-stream';
import { destinationColumnsByName, parseDestinationsConfig } from '../core/activation/destination-config';
import { AdminKeyRegistry, AdminKeysConfig, type AdminKeysConfigInput } from '../core/auth/admin-keys';
import { WriteKeyRegistry } from '../core/collector/write-keys';
import { type CollectorLimits, DEFAULT_LIMITS } from '../core/config/limits';
import type { SourcesConfig } from '../core/config/sources';
import { DEFAULT_IDENTITY_CONFIG, type IdentityConfig } from '../core/identity/identity-config';
import { randomIds, realSleep, systemClock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { createDestinations } from '../use-cases/destinations';
import { createIngest } from '../use-cases/ingest';
import { createProfileQuery } from '../use-cases/profile-query';
import { publishResolverEffects } from '../use-cases/publish-resolver-effects';
import { createExportCompletion, createSegments } from '../use-cases/segments';
import { ApiGatewayServer } from './api-gateway-server';
import { lockDataDir } from './data-dir-lock';
import { ensureIdentityTable, ensureSegmentTable, startEmbeddedDynamoDb } from './embedded-dynamodb';
import { ResolverThread, type ResolverThreadOptions } from './resolver-thread-client';

/** The identity table's name in the embedded DynamoDB. */
const IDENTITY_TABLE_NAME = 'mosaic-identity';
/** The segments table's name in the embedded DynamoDB. */
const SEGMENT_TABLE_NAME = 'mosaic-segments';

/** The stream's default backlog on disk before it throttles: see `streamBacklogBytes`. */
export const DEFAULT_STREAM_BACKLOG_BYTES = 4 * 1024 ** 3;

export interface LocalRuntimeOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly host?: string;
  /** Everything the runtime keeps: the lake, quarantine, failed batches. */
  readonly dataDir: string;
  /** Sources and their write-key hashes, as in the AWS configuration. */
  readonly sources: SourcesConfig;
  /** Who may read profiles: admin keys by SHA-256 hash, as in the AWS configuration. */
  readonly adminKeys: AdminKeysConfigInput;
  readonly limits?: Partial<CollectorLimits>;
  /** How often the lake writers land what they hold. Default 2 s. */
  readonly lakeFlushIntervalMs?: number;
  /** Identity resolution rules; the defaults of `DEFAULT_IDENTITY_CONFIG` otherwise. */
  readonly identity?: IdentityConfig;
  /**
   * Where audiences go (`{ destinations: [...] }`, `src/core/activation/destination-config.ts`):
   * webhooks and file drops are delivered from this process. None by default.
   */
  readonly destinations?: unknown;
  /** Destination secrets by name; default `MOSAIC_DESTINATION_SECRETS` (JSON) from the environment. */
  readonly destinationSecrets?: Readonly<Record<string, string>>;
  /**
   * Records the in-process stream holds in memory before a shard's further records go to files under
   * `dataDir/stream` until its consumers catch up. Default 20,000.
   */
  readonly streamMemoryRecords?: number;
  /**
   * Most bytes of backlog the stream's files under `dataDir/stream` hold (records a consumer has not
   * processed yet); past it the collector answers 503 until consumers catch up. Default 4 GiB: about
   * forty seconds of the collector's top rate on a two-core machine while the resolver is far behind.
   */
  readonly streamBacklogBytes?: number;
  /** Keep the embedded DynamoDB in memory instead of under `dataDir/dynamodb` (tests). */
  readonly inMemoryDynamoDb?: boolean;
  readonly logger?: Logger;
  /** How the resolver's thread is started (benchmarks instrument it); `resolver-thread.ts` by default. */
  readonly startResolverWorker?: ResolverThreadOptions['startWorker'];
}

export interface LocalRuntimeStats {
  readonly accepted: number;
  readonly rejected: number;
  /** Rows written to the lake's `events` table. */
  readonly landed: number;
  /** Accepted records not yet landed: in the stream or buffered by the lake writer. */
  readonly inFlight: number;
  /** Events the resolver applied to a profile. */
  readonly resolved: number;
  readonly profilesCreated: number;
  readonly profilesMerged: number;
  /** Records the resolver has not processed yet. */
  readonly resolverLag: number;
  /** Accepted records some consumer has not processed yet that wait on disk, past the stream's memory budget. */
  readonly spilled: number;
  /** Records a previous run on the same data directory accepted and had not processed, found at start. */
  readonly recovered: number;
  /** DynamoDB requests of the identity store so far (reads: Get/BatchGet/Query; writes: Put/Update). */
  readonly identityStore: Readonly<StoreRequestCounts>;
}

export interface LocalRuntime {
  readonly url: string;
  readonly dataDir: string;
  stats(): LocalRuntimeStats;
  /** Waits until everything accepted so far is resolved into profiles and in the lake, and the bus is idle. */
  flush(): Promise<void>;
  /** Stops taking requests, lands everything accepted, and releases every resource. */
  close(): Promise<void>;
}

/**
 * The whole CDP in one process: the collector and the Profile API (behind its admin-key authorizer)
 * on a local API Gateway, the in-process stream in place of Kinesis feeding the resolver (over
 * dynalite, through the DynamoDB adapter) and the lake writers in place of Firehose → S3, the
 * in-process bus in place of EventBridge — the same handlers and use cases as in AWS, with the
 * local adapters.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // One runtime per data directory: its log, staging files and database each assume one writer.
  const unlock = await lockDataDir(dataDir);
  try {
    return await startIn(dataDir, options, unlock);
  } catch (error) {
    await unlock();
    throw error;
  }
}

async function startIn(
  dataDir: string,
  options: LocalRuntimeOptions,
  unlock: () => Promise<void>,
): Promise<LocalRuntime> {
  const logger = options.logger ?? consoleLogger('mosaic');
  const limits: CollectorLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new CountingIngestMetrics();

  // Kinesis keeps what it acknowledged, however far a consumer lags; so does its twin: every record is
  // logged under dataDir/stream before the collector answers, consumers' positions are checkpointed
  // there, and a runtime started again on the same data directory — after Ctrl+C or a crash — delivers
  // what its consumers had not processed. Past the memory budget, consumers read records from the log.
  const stream = new MemoryEventStream({
    streamName: 'mosaic-events',
    logDir: resolve(dataDir, 'stream'),
    ...(options.streamMemoryRecords === undefined ? {} : { maxBufferedRecords: options.streamMemoryRecords }),
    maxLogBytes: options.streamBacklogBytes ?? DEFAULT_STREAM_BACKLOG_BYTES,
  });
  const lake = await LakeWriter.open({
    dataDir,
    flushIntervalMs: options.lakeFlushIntervalMs ?? 2000,
    onWriteError: (error) =>
      logger.error('lake write failed; the records stay buffered and are retried', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  const dynamo = await startEmbeddedDynamoDb(
    options.inMemoryDynamoDb ? {} : { path: resolve(dataDir, 'dynamodb') },
  );
  await ensureIdentityTable(dynamo.client, IDENTITY_TABLE_NAME);
  const store = new DynamoDbIdentityStore({ client: dynamo.client, tableName: IDENTITY_TABLE_NAME });
  const links = await LakeIdentityLinkSink.open({
    dataDir,
    flushIntervalMs: options.lakeFlushIntervalMs ?? 2000,
    onWriteError: (error) =>
      logger.error('identity_links write failed; the rows stay staged and are retried', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  // EventBridge's twin: `Profile Merged` and later events, logged under dataDir/bus/.
  const bus = new MemoryEventBus({ dataDir });
  // The resolver on a thread of its own, as its Lambda runs apart from the APIs' (see ResolverThread).
  const resolver = await ResolverThread.start({
    data: {
      endpoint: dynamo.endpoint,
      tableName: IDENTITY_TABLE_NAME,
      identity: options.identity ?? DEFAULT_IDENTITY_CONFIG,
    },
    // Its SDK client reaches dynalite's thread by messages, not over a loopback socket.
    connectEngine: () => dynamo.connect(),
    publish: publishResolverEffects({ links, bus }),
    logger,
    ...(options.startResolverWorker === undefined ? {} : { startWorker: options.startResolverWorker }),
  });
  stream.subscribe({
    name: 'resolver',
    handler: resolver.handler,
    // Up to 500 records a batch: under load the resolver coalesces more writes per profile (a busy
    // person's events land in one write per batch); at low load batches stay small, as the 20 ms
    // window sends what there is (a value the CDK's `resolver.batchSize` accepts: 1 to 10,000).
    batchSize: 500,
    maxBatchingWindowMs: 20,
    // Two batches at a time, not one per shard: the resolver has a thread of its own, but shares the
    // embedded engine's one thread with the Profile API, and four shards' bursts queue their requests
    // ahead of the API's reads there. One batch at a time cost about a fifth of the throughput for no
    // clear gain in the API's tail (`npm run bench -- unify`).
    maxConcurrency: 2,
    onFailure: createFileFailureDestination(resolve(dataDir, 'failed')),
  });

  stream.subscribe({
    name: 'lake',
    handler: lake.handler,
    // The writer gathers batches until its flush interval, so a batch's size only sets how much each
    // call decodes at once: 250, not 1,000, keeps peak memory under a flood about 45 MB lower (four
    // shards' batches of records and their staged lines at a time; `npm run bench -- ingest`).
    batchSize: 250,
    maxBatchingWindowMs: 100,
    onFailure: createFileFailureDestination(resolve(dataDir, 'failed')),
  });

  const keys = new WriteKeyRegistry(options.sources);
  const ingest = createIngest({
    stream,
    quarantine: new FileQuarantineSink({ dataDir }),
    keys,
    limits,
    clock: systemClock,
    newId: randomIds,
    sleep: realSleep,
    metrics,
  });
  const collector = createCollectorHandler({ ingest, keys, limits, logger });

  // Segments: definitions in the embedded DynamoDB, previews and exports on DuckDB over the lake.
  await ensureSegmentTable(dynamo.client, SEGMENT_TABLE_NAME);
  const segmentStore = new DynamoDbSegmentStore({ client: dynamo.client, tableName: SEGMENT_TABLE_NAME });
  const segmentLake = await DuckDbLake.open({ dataDir });
  const exports = new DuckDbExportRunner({
    lake: segmentLake,
    root: resolve(dataDir, 'exports'),
    completion: createExportCompletion({ store: segmentStore, bus, clock: systemClock, logger }),
    onError: (error, job) =>
      logger.error('an export outcome could not be recorded; the export stays RUNNING', {
        exportId: job.exportId,
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  const identity = options.identity ?? DEFAULT_IDENTITY_CONFIG;
  const destinationsConfig = parseDestinationsConfig(options.destinations ?? {}, {
    identifierTypes: identity.types.map((type) => type.name),
  });
  const segmentsApi = createSegmentsApiHandler({
    segments: createSegments({
      store: segmentStore,
      engine: new DuckDbAudienceEngine({ lake: segmentLake }),
      runner: exports,
      clock: systemClock,
      random: () => randomBytes(8).toString('hex'),
      identity,
      destinationColumns: destinationColumnsByName(destinationsConfig.destinations),
      previewWaitMs: 0,
      logger,
    }),
    logger,
  });
  // Activation: each destination its own queue and concurrency, fed by `Audience Export Completed`.
  const destinations: LocalDestinations = await startLocalDestinations({
    bus,
    store,
    segments: segmentStore,
    dataDir,
    destinations: destinationsConfig,
    ...(options.destinationSecrets === undefined ? {} : { secrets: options.destinationSecrets }),
    identity,
    logger,
  });
  // `mosaic destinations list | test NAME`: the same destinations, tested through the workers' senders.
  const destinationsApi = createDestinationsApiHandler({
    destinations: createDestinations({
      destinations: destinationsConfig.destinations,
      senderOf: (destination) => destinations.senderFor(destination),
      localWorkers: destinations.names,
      clock: systemClock,
      random: () => randomBytes(8).toString('hex'),
      logger,
    }),
    logger,
  });
  const adminAuthorizer = {
    handler: createAdminAuthorizerHandler({
      keys: new AdminKeyRegistry(AdminKeysConfig.parse(options.adminKeys)),
      logger,
    }),
  };

  let ready = false;
  const server = new ApiGatewayServer({
    // The first matching prefix wins: the admin APIs before the collector.
    routes: [
      {
        prefix: '/v1/profiles/',
        handler: createProfileApiHandler({
          query: createProfileQuery({ store, identity: options.identity ?? DEFAULT_IDENTITY_CONFIG }),
          logger,
        }),
        authorizer: adminAuthorizer,
      },
      { prefix: '/v1/segments', handler: segmentsApi, authorizer: adminAuthorizer },
      { prefix: '/v1/previews/', handler: segmentsApi, authorizer: adminAuthorizer },
      { prefix: '/v1/exports/', handler: segmentsApi, authorizer: adminAuthorizer },
      { prefix: '/v1/destinations', handler: destinationsApi, authorizer: adminAuthorizer },
      { prefix: '/v1/', handler: collector },
      // What browser SDKs ask besides /v1/: RudderStack's source config and its beacon batches.
      { prefix: '/sourceConfig', handler: collector },
      { prefix: '/beacon/v1/', handler: collector },
    ],
    logger,
    ready: () => ready,
  });
  const url = await server.listen(options.port, options.host ?? '127.0.0.1');
  ready = true;

  const stats = (): LocalRuntimeStats => {
    const lakeStats = lake.stats();
    const streamStats = stream.stats();
    return {
      accepted: metrics.acceptedTotal,
      rejected: metrics.rejectedTotal,
      landed: lakeStats.rowsLanded,
      inFlight: (streamStats.subscriptions.lake?.lag ?? 0) + lakeStats.rowsBuffered,
      resolved: resolver.metric('event.applied'),
      profilesCreated: resolver.metric('profile_created'),
      profilesMerged: resolver.metric('profile_merged'),
      resolverLag: streamStats.subscriptions.resolver?.lag ?? 0,
      spilled: streamStats.spilledRecords,
      recovered: streamStats.recoveredRecords,
      identityStore: addRequestCounts(store.requests, resolver.requests()),
    };
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    dataDir,
    stats,
    async flush() {
      await stream.drain();
      await Promise.all([lake.flush(), links.flush()]);
      await exports.drain();
      await bus.drain();
      await destinations.drain();
    },
    close() {
      closing ??= (async () => {
        ready = false;
        await server.close();
        await stream.close();
        await resolver.close();
        await exports.drain();
        segmentLake.close();
        await Promise.all([lake.close(), links.close(), bus.close()]);
        await destinations.close();
        await dynamo.close();
        await unlock();
      })();
      return closing;
    },
  };
}
