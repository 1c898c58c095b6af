import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { ServiceUnavailableError } from '../../core/errors';
import { type Clock, systemClock } from '../../ports/clock';
import type { EventStream, PutOutcome, StreamEntry } from '../../ports/event-stream';
import { payloadWithBytes } from '../../ports/stream-record-data';
import type { FailedBatch, FailureDestination } from './failure-destination';
import {
  fnvShardIndexOf,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_BYTES,
  type Partitioning,
  positionOfSequenceNumber,
  sequenceNumberOf,
  shardIdOf,
  shardPicker,
  streamArnOf,
} from './kinesis-shape';
import { RecordArena } from './record-arena';
import {
  readCheckpoints,
  type StreamCheckpoints,
  writeCheckpoints,
  writeCheckpointsSync,
} from './stream-checkpoints';
import { frameBytes, type LogFiles, NODE_LOG_FILES, ShardLog } from './stream-log';

/** The reason a put entry fails with when the stream holds as much as it may (Kinesis's throttling code). */
export const THROTTLED = 'ProvisionedThroughputExceededException';
/** The reason a put entry fails with when it could not be logged (Kinesis's code for its own failures). */
export const INTERNAL_FAILURE = 'InternalFailure';

/**
 * A Lambda handler for Kinesis batches. Resolving with `batchItemFailures` reports partial failure
 * (ReportBatchItemFailures); resolving with nothing or an empty list means the whole batch succeeded;
 * throwing fails the whole batch.
 */
export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers typed `Promise<void>` (no partial failures) must fit.
) => Promise<KinesisStreamBatchResponse | void>;

/** Faults a test can make the stream produce, so callers' retry logic is exercised against the twin. */
export interface StreamFaults {
  /** Return a reason to fail this entry of a put; it is then not written and reported failed. */
  readonly failEntry?: (entry: StreamEntry, index: number) => string | undefined;
  /** Return an error to make the whole put call reject; nothing of that call is written. */
  readonly failCall?: (entries: readonly StreamEntry[]) => Error | undefined;
  /** File I/O of the log files in place of `node:fs` (a write failing as on a full disk, a failing read). */
  readonly logFiles?: LogFiles;
}

export interface MemoryEventStreamOptions {
  /** Used in ARNs only. Default `mosaic-events`. */
  readonly streamName?: string;
  /** Default 4. */
  readonly shardCount?: number;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Default `000000000000`. */
  readonly accountId?: string;
  /**
   * Most records held in memory at once: put but not yet processed by every subscription (released as
   * soon as they are). Past it, a shard's records are read back from {@link logDir} until its
   * subscriptions have caught up; without a log, entries fail with {@link THROTTLED}. Default 20,000.
   */
  readonly maxBufferedRecords?: number;
  /** Most bytes of record data held in memory at once, as {@link maxBufferedRecords}. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * A folder of the stream's own, to make it durable as Kinesis is. Every record is appended to its
   * shard's log there (`stream-log.ts`) before the put resolves, and each subscription's position is
   * checkpointed beside it (`stream-checkpoints.ts`) as it advances. A stream created on a folder that
   * holds a log picks up where the last one stopped — after a crash too: records not yet processed by
   * a subscription are delivered to it (again, at least once), and sequence numbers carry on. With a
   * log the stream also keeps taking records while a consumer lags: past the memory budget, a shard's
   * records are read back from the log until its subscriptions have caught up. Without it, records
   * live in memory only and entries past the budget are throttled.
   */
  readonly logDir?: string;
  /**
   * With {@link logDir}: most bytes of records the log holds for subscriptions that have not processed
   * them; entries beyond fail with {@link THROTTLED}. Default 1 GiB.
   */
  readonly maxLogBytes?: number;
  /** With {@link logDir}: size at which a log file is closed to appends (tests). Default 64 MiB. */
  readonly logSegmentBytes?: number;
  /** Stamps `approximateArrivalTimestamp`. Default the system clock. */
  readonly clock?: Clock;
  readonly faults?: StreamFaults;
}

export interface SubscriptionOptions {
  /** Unique among the stream's subscriptions; names its failure records and stats. */
  readonly name: string;
  readonly handler: KinesisBatchHandler;
  /** Most records per invocation (Lambda's `BatchSize`). Default 100. */
  readonly batchSize?: number;
  /**
   * How long records may wait to fill a batch (Lambda's `MaximumBatchingWindowInSeconds`, in ms):
   * a batch goes as soon as it is full, or when its oldest record has waited this long. Default 50.
   */
  readonly maxBatchingWindowMs?: number;
  /**
   * Retries of a failing batch before it goes to the failure destination and is skipped (Lambda's
   * `MaximumRetryAttempts`). Default 10.
   */
  readonly maxRetries?: number;
  /** Wait before the first retry; doubled for each further one. Default 100 ms. */
  readonly retryBackoffMs?: number;
  /** Longest wait between retries. Default 5,000 ms. */
  readonly maxRetryBackoffMs?: number;
  /**
   * Most batches handled at once, over all shards: the twin of the function's reserved concurrency.
   * A shard whose turn it is waits for a batch to finish (first come, first served), and its batch
   * grows meanwhile. Default: one per shard, as many as Kinesis would run.
   */
  readonly maxConcurrency?: number;
  /** Where to start in each shard: the oldest record held (default) or only records put from now on. */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /**
   * Receives batches given up on (Lambda's on-failure destination). Without one they are kept in
   * {@link Subscription.failedBatches}.
   */
  readonly onFailure?: FailureDestination;
}

/** Counters of one subscription, for live metrics and tests. */
export interface SubscriptionStats {
  /** Handler calls. */
  readonly invocations: number;
  /** Records handed to the handler, redeliveries included. */
  readonly recordsDelivered: number;
  /** Records checkpointed as processed (delivered successfully). */
  readonly recordsProcessed: number;
  /** Records handed to the handler again after a failure. */
  readonly recordsRetried: number;
  /** Invocations that threw or reported failed items. */
  readonly failedInvocations: number;
  readonly batchesToFailureDestination: number;
  readonly recordsToFailureDestination: number;
  /** Times the failure destination itself failed (the batch is then offered again). */
  readonly failureDestinationErrors: number;
  /** Records put but not yet processed or given up by this subscription. */
  readonly lag: number;
}

export interface MemoryEventStreamStats {
  readonly shards: number;
  readonly recordsPut: number;
  readonly bytesPut: number;
  /** Entries refused with {@link THROTTLED}. */
  readonly entriesThrottled: number;
  /** Entries failed or calls rejected by injected faults. */
  readonly faultsInjected: number;
  /** Records and bytes held in memory. */
  readonly bufferedRecords: number;
  readonly bufferedBytes: number;
  /** Records not yet processed by every subscription that are only in the log (past the memory budget). */
  readonly spilledRecords: number;
  /** Bytes of the records in the log that not every subscription has processed (`maxLogBytes` bounds it). */
  readonly loggedBytes: number;
  /**
   * Log writes that failed (their entries were reported {@link INTERNAL_FAILURE}) and reads that failed
   * (the batch was tried again after `maxRetryBackoffMs`).
   */
  readonly logErrors: number;
  /** Records a previous run had logged and not every subscription had processed, found when the stream was created. */
  readonly recoveredRecords: number;
  /** Bytes of the log found cut short or damaged when the stream was created, and dropped. */
  readonly discardedBytes: number;
  readonly subscriptions: Readonly<Record<string, SubscriptionStats>>;
}

/** A running subscription (event source mapping). */
export interface Subscription {
  readonly name: string;
  stats(): SubscriptionStats;
  /** Batches given up on, when the subscription has no `onFailure` destination. */
  readonly failedBatches: readonly FailedBatch[];
  /** Stops delivery once the batch in flight (if any) has finished, and releases what it held. */
  unsubscribe(): Promise<void>;
}

/**
 * A record as the stream holds it: its bytes, as Kinesis stores them. The Lambda-shaped record (base64
 * data, sequence number, ARNs) is built when a batch is delivered, as Lambda's poller does — holding
 * only bytes keeps the stream's memory and garbage small while records wait.
 */
interface HeldRecordData {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrivalSeconds: number;
}

interface HeldRecord extends HeldRecordData {
  readonly bytes: number;
  /** Length of the data in base64, for Lambda's payload limit. */
  readonly chars: number;
  /** Monotonic time of arrival, for batching windows (independent of the injected clock). */
  readonly arrivedAt: number;
}

interface Shard {
  readonly index: number;
  readonly id: string;
  /** Held records; slots before `trim` are released (undefined) until compaction drops them. */
  records: Array<HeldRecord | undefined>;
  /** Position of `records[0]`. */
  offset: number;
  /** Position of the oldest record still held. */
  trim: number;
  /** With a log folder: every record from `log.start` on, on disk. */
  readonly log: ShardLog | undefined;
  /**
   * Records past the memory budget: positions from here on are only in the log, the ones before also in
   * `records`. New records go to the log alone until every subscription has passed its end; then
   * `Infinity` again.
   */
  diskFrom: number;
  readonly cursors: Cursor[];
  /** Where the shard's copies of the records it holds in memory are kept. */
  readonly arena: RecordArena;
}

/** The puts of one turn of the event loop, and the shards they appended to, until the log write. */
interface LogCommit {
  readonly shards: Set<Shard>;
  readonly puts: CommittingPut[];
  /** Resolves once every shard is written (or its records taken back and reported failed). */
  readonly written: Promise<void>;
}

/** A put waiting for its group commit: the entries it appended to logs, and its failures so far. */
interface CommittingPut {
  readonly entries: readonly StreamEntry[];
  readonly logged: readonly number[];
  readonly failed: Array<{ index: number; reason: string }>;
  /** Whether the log write failed for some of its entries (reported failed after the others). */
  unwritten: boolean;
}

interface RetryState {
  /** End (exclusive) of the batch being retried; retries cover `[position, end)`. */
  readonly end: number;
  readonly attempts: number;
  readonly invocations: number;
  readonly errorMessage: string;
  readonly functionError: string | undefined;
}

/** One subscription's position in one shard. */
interface Cursor {
  readonly sub: SubscriptionState;
  readonly shard: Shard;
  position: number;
  busy: boolean;
  queued: boolean;
  timer: NodeJS.Timeout | undefined;
  retry: RetryState | undefined;
  inflight: Promise<void> | undefined;
  /** After a failed log read, `performance.now()` before which the cursor does not deliver. */
  readBlockedUntil: number;
}

interface MutableSubscriptionStats {
  invocations: number;
  recordsDelivered: number;
  recordsProcessed: number;
  recordsRetried: number;
  failedInvocations: number;
  batchesToFailureDestination: number;
  recordsToFailureDestination: number;
  failureDestinationErrors: number;
}

interface SubscriptionState {
  readonly name: string;
  readonly handler: KinesisBatchHandler;
  readonly batchSize: number;
  readonly windowMs: number;
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly onFailure: FailureDestination;
  readonly failedBatches: FailedBatch[];
  readonly functionArn: string;
  readonly stats: MutableSubscriptionStats;
  readonly cursors: Cursor[];
  readonly maxConcurrency: number;
  /** Batches being handled now. */
  running: number;
  /** Cursors ready to deliver, waiting for a batch to finish, in the order they became ready. */
  readonly waiting: Cursor[];
  stopped: boolean;
}

interface DrainWaiter {
  readonly targets: readonly number[];
  readonly resolve: () => void;
}

/** Lambda's limit on a synchronous invocation payload, kept so batches stay a realistic size. */
const MAX_BATCH_PAYLOAD_CHARS = 6 * 1024 * 1024 - 64 * 1024;
/** Released slots are dropped from a shard's array once there are this many (and they are most of it). */
const COMPACT_AFTER = 4096;
/** A shard with records only in memory. */
const IN_MEMORY = Number.POSITIVE_INFINITY;

/**
 * The local twin of a Kinesis data stream and its Lambda event source mappings, in one process.
 *
 * - `put` writes entries like PutRecords: each to the shard its partition key hashes to (FNV-1a; MD5
 *   like Kinesis for a log an older version wrote: `kinesis-shape.ts`), with a per-shard increasing
 *   sequence number. With a log folder (`logDir`, `stream-log.ts`) every record is written to its
 *   shard's log before the put resolves — the puts of one turn of the event loop together, one write
 *   per shard (group commit), and subscriptions read only what is written — and the subscriptions'
 *   positions are checkpointed, so a stream created on the same folder carries on after a restart or
 *   a crash. Records are held in memory up to `maxBufferedRecords` / `maxBufferedBytes`; past that a
 *   shard's records are read back from its log until every subscription has passed them — or,
 *   without a log or past `maxLogBytes`, entries fail individually with {@link THROTTLED}. Records
 *   are released once every subscription has processed them. Records with the same key keep their
 *   order.
 * - `subscribe` adds an event source mapping: Lambda-shaped batches per shard, one batch at a time per
 *   shard, shards concurrently, each subscription with its own positions; ReportBatchItemFailures
 *   (retry from the lowest failed record), whole-batch retry on throw, bounded retries with backoff,
 *   then the batch goes to the on-failure destination and is skipped.
 * - `drain` waits until everything put so far is processed; `close` drains and stops.
 */
export class MemoryEventStream implements EventStream {
  readonly streamArn: string;
  /** The role Lambda's records name as `invokeIdentityArn`. */
  private readonly invokeIdentityArn: string;
  private readonly shards: Shard[];
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly region: string;
  private readonly accountId: string;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly logDir: string | undefined;
  private readonly maxLogBytes: number;
  private loggedBytes = 0;
  private logErrors = 0;
  private recoveredRecords = 0;
  private discardedBytes = 0;
  /** The logs' file I/O: `node:fs`, unless a test injects faults. */
  private readonly logFiles: LogFiles = {
    writev: (...args) => (this.faults?.logFiles ?? NODE_LOG_FILES).writev(...args),
    read: (...args) => (this.faults?.logFiles ?? NODE_LOG_FILES).read(...args),
  };
  /**
   * Positions of subscriptions that are not subscribed now: read from the log folder's checkpoints (a
   * subscription subscribing again starts there), or where one stopped.
   */
  private readonly checkpoints = new Map<string, number[]>();
  /** The checkpoint write in flight, if any; `checkpointAgain` asks it for one more when it is done. */
  private checkpointWrite: Promise<void> | undefined;
  private checkpointAgain = false;
  private readonly clock: Clock;
  private faults: StreamFaults | undefined;
  private heldRecords = 0;
  private heldBytes = 0;
  private recordsPut = 0;
  private bytesPut = 0;
  private entriesThrottled = 0;
  private faultsInjected = 0;
  private urgent = 0;
  private closed = false;
  private waiters: DrainWaiter[] = [];
  private readonly touched: boolean[];
  /** The puts of this turn of the event loop waiting for their records' log write, if any. */
  private commit: LogCommit | undefined;
  /** How partition keys map to shards; a log is read back with the mapping it was written with. */
  readonly partitioning: Partitioning;
  private readonly shardOf: (partitionKey: string) => number;
  /**
   * Whether every record read back from a log with no checkpoints is on the shard FNV-1a puts its key
   * on (found while the shards open).
   */
  private logKeysFitFnv = true;

  constructor(options: MemoryEventStreamOptions = {}) {
    const shardCount = options.shardCount ?? 4;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 1000) {
      throw new RangeError(`shardCount must be an integer from 1 to 1000, got ${shardCount}`);
    }
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.streamArn = streamArnOf(this.region, this.accountId, options.streamName ?? 'mosaic-events');
    this.invokeIdentityArn = `arn:aws:iam::${this.accountId}:role/mosaic-local`;
    this.maxRecords = positive('maxBufferedRecords', options.maxBufferedRecords ?? 20_000);
    this.maxBytes = positive('maxBufferedBytes', options.maxBufferedBytes ?? 16 * 1024 * 1024);
    this.logDir = options.logDir;
    this.maxLogBytes = positive('maxLogBytes', options.maxLogBytes ?? 1024 * 1024 * 1024);
    this.clock = options.clock ?? systemClock;
    this.faults = options.faults;
    this.touched = new Array<boolean>(shardCount).fill(false);
    const stored = this.logDir === undefined ? undefined : this.readLogFolder(this.logDir, shardCount);
    this.shards = Array.from({ length: shardCount }, (_, index) =>
      this.openShard(index, shardCount, stored, options.logSegmentBytes),
    );
    // A key's records must all be on one shard, or a consumer could read its new ones before its old:
    // while the log holds records that were not processed, it keeps the mapping they were put with
    // (named in the checkpoints; version 1, of older versions, means MD5; with no checkpoints, MD5
    // if a record's key is not where FNV-1a puts it). Once none are left, a log moves to FNV-1a, and
    // says so on disk before the first put.
    this.partitioning =
      this.recoveredRecords > 0 ? (stored?.partitioning ?? (this.logKeysFitFnv ? 'fnv1a' : 'md5')) : 'fnv1a';
    this.shardOf = shardPicker(this.partitioning, shardCount);
    if (this.logDir !== undefined && stored?.partitioning !== this.partitioning) {
      writeCheckpointsSync(this.logDir, this.currentCheckpoints());
    }
  }

  /** The checkpoints a previous run left in the log folder (created if missing), if any. */
  private readLogFolder(dir: string, shardCount: number): StreamCheckpoints | undefined {
    mkdirSync(dir, { recursive: true });
    // Spill files of versions before the log, which were never read back: only disk now.
    for (const file of readdirSync(dir))
      if (file.endsWith('.spill')) rmSync(join(dir, file), { force: true });
    const stored = readCheckpoints(dir);
    if (stored === undefined) return undefined;
    if (stored.shards !== shardCount) {
      throw new Error(
        `The stream's log in ${dir} was written with ${stored.shards} shards, not ${shardCount}. Start it with ${stored.shards} shards, or remove the folder to start empty (records it holds that were not processed are then lost).`,
      );
    }
    for (const [name, positions] of Object.entries(stored.subscriptions)) {
      this.checkpoints.set(name, positions);
    }
    return stored;
  }

  /**
   * A shard, in memory only or with its log read back: records before the lowest checkpoint are
   * released, the ones after it wait on disk for the subscriptions that have not processed them.
   */
  private openShard(
    index: number,
    shardCount: number,
    stored: StreamCheckpoints | undefined,
    segmentBytes: number | undefined,
  ): Shard {
    const id = shardIdOf(index);
    if (this.logDir === undefined) {
      return {
        index,
        id,
        records: [],
        offset: 0,
        trim: 0,
        log: undefined,
        diskFrom: IN_MEMORY,
        cursors: [],
        arena: new RecordArena(),
      };
    }
    // Checkpoints name the partitioning; without them, the records' keys show whether it was FNV-1a.
    const keyFits =
      stored === undefined ? (key: string) => fnvShardIndexOf(key, shardCount) === index : undefined;
    const { log, recovery } = ShardLog.open(
      this.logDir,
      id,
      stored?.ends[index] ?? 0,
      segmentBytes,
      this.logFiles,
      keyFits,
    );
    this.logKeysFitFnv &&= recovery.keysFit;
    let trim = log.start;
    const positions = [...this.checkpoints.values()].map((shards) => shards[index] ?? 0);
    if (positions.length > 0) trim = Math.min(Math.max(Math.min(...positions), log.start), log.end);
    log.releaseBefore(trim);
    this.loggedBytes += log.heldBytes;
    this.recoveredRecords += log.end - trim;
    this.discardedBytes += recovery.discardedBytes;
    return {
      index,
      id,
      records: [],
      offset: trim < log.end ? trim : log.end,
      trim,
      log,
      diskFrom: trim < log.end ? trim : IN_MEMORY,
      cursors: [],
      arena: new RecordArena(),
    };
  }

  /** Shard ids, `shardId-000000000000` upwards. */
  get shardIds(): readonly string[] {
    return this.shards.map((shard) => shard.id);
  }

  /** Replaces the injected faults (`undefined` clears them). */
  injectFaults(faults: StreamFaults | undefined): void {
    this.faults = faults;
  }

  /**
   * Writes the entries once (one PutRecords call). Entries are checked first like Kinesis does (a
   * partition key of 1-256 characters, at most 1 MiB of data): an invalid one rejects the whole call.
   * Once one entry is throttled the rest of the call is too, so a caller retrying the failed entries
   * keeps each key's order. With a log, every record is written to it before the call resolves.
   */
  async put(entries: readonly StreamEntry[]): Promise<PutOutcome> {
    if (this.closed) throw new ServiceUnavailableError('The event stream is closed.');
    const callFault = this.faults?.failCall?.(entries);
    if (callFault) {
      this.faultsInjected++;
      throw callFault;
    }
    for (const entry of entries) validateEntry(entry);

    const failed: Array<{ index: number; reason: string }> = [];
    const arrivalSeconds = this.clock.now() / 1000;
    const arrivedAt = performance.now();
    const failEntry = this.faults?.failEntry;
    let throttling = false;
    /** Indexes of the entries appended to a log by this call. */
    let logged: number[] | undefined;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as StreamEntry;
      const bytes = entry.data.byteLength;
      const injected = failEntry?.(entry, index);
      if (injected !== undefined) {
        this.faultsInjected++;
        failed.push({ index, reason: injected });
        continue;
      }
      const partitionKey = entry.partitionKey;
      const shard = this.shards[this.shardOf(partitionKey)] as Shard;
      const { log } = shard;
      if (!throttling && shard.diskFrom === IN_MEMORY && this.overMemoryBudget(bytes)) {
        if (log === undefined) throttling = true;
        else shard.diskFrom = log.end;
      }
      let keyBytes = 0;
      if (!throttling && log !== undefined) {
        keyBytes = Buffer.byteLength(partitionKey, 'utf8');
        throttling = this.loggedBytes + frameBytes(keyBytes, bytes) > this.maxLogBytes;
      }
      if (throttling) {
        this.entriesThrottled++;
        failed.push({ index, reason: THROTTLED });
        continue;
      }
      if (log !== undefined) {
        this.loggedBytes += log.append(partitionKey, entry.data, arrivalSeconds, arrivedAt, keyBytes);
        logged ??= [];
        logged.push(index);
      }
      if (shard.diskFrom === IN_MEMORY) this.hold(shard, partitionKey, entry.data, arrivalSeconds, arrivedAt);
      this.recordsPut++;
      this.bytesPut += bytes;
      this.touched[shard.index] = true;
    }
    const put: CommittingPut | undefined =
      logged === undefined ? undefined : { entries, logged, failed, unwritten: false };
    const commit = put === undefined ? undefined : this.turnCommit();
    for (const shard of this.shards) {
      if (!this.touched[shard.index]) continue;
      this.touched[shard.index] = false;
      // A shard with a log shows its new records to subscriptions once they are written.
      if (commit !== undefined && shard.log !== undefined) commit.shards.add(shard);
      else for (const cursor of shard.cursors) this.schedule(cursor);
    }
    if (put === undefined || commit === undefined) return { failed };
    commit.puts.push(put);
    await commit.written;
    if (put.unwritten) failed.sort((a, b) => a.index - b.index);
    return { failed };
  }

  /**
   * The group commit the puts of this turn of the event loop join: once the turn's I/O callbacks have
   * run (`setImmediate`), each shard they appended to is written with one gathering write, and then
   * every one of those puts resolves. Under load that is one write per shard for many requests,
   * instead of one for each; a put still resolves only once its records are written.
   */
  private turnCommit(): LogCommit {
    if (this.commit !== undefined) return this.commit;
    let done = () => {};
    const commit: LogCommit = {
      shards: new Set(),
      puts: [],
      written: new Promise<void>((resolve) => {
        done = resolve;
      }),
    };
    setImmediate(() => {
      this.commit = undefined;
      try {
        for (const shard of commit.shards) {
          this.flushLog(shard, shard.log as ShardLog, commit.puts);
          for (const cursor of shard.cursors) this.schedule(cursor);
        }
      } finally {
        // Whatever happens, no put is left waiting: a request that never gets its answer is worse.
        done();
      }
    });
    this.commit = commit;
    return commit;
  }

  /** Starts delivering batches to a handler, like creating an event source mapping. */
  subscribe(options: SubscriptionOptions): Subscription {
    if (this.closed) throw new Error('The event stream is closed.');
    if (this.subscriptions.has(options.name))
      throw new Error(`A subscription named "${options.name}" exists.`);
    const failedBatches: FailedBatch[] = [];
    const sub: SubscriptionState = {
      name: options.name,
      handler: options.handler,
      batchSize: integerIn('batchSize', options.batchSize ?? 100, 1, 10_000),
      windowMs: integerIn('maxBatchingWindowMs', options.maxBatchingWindowMs ?? 50, 0, 300_000),
      maxRetries: integerIn('maxRetries', options.maxRetries ?? 10, 0, 10_000),
      backoffMs: integerIn('retryBackoffMs', options.retryBackoffMs ?? 100, 0, 3_600_000),
      maxBackoffMs: integerIn('maxRetryBackoffMs', options.maxRetryBackoffMs ?? 5_000, 0, 3_600_000),
      onFailure:
        options.onFailure ??
        ((failure) => {
          failedBatches.push(failure);
        }),
      failedBatches,
      functionArn: `arn:aws:lambda:${this.region}:${this.accountId}:function:${options.name}`,
      stats: {
        invocations: 0,
        recordsDelivered: 0,
        recordsProcessed: 0,
        recordsRetried: 0,
        failedInvocations: 0,
        batchesToFailureDestination: 0,
        recordsToFailureDestination: 0,
        failureDestinationErrors: 0,
      },
      cursors: [],
      maxConcurrency: integerIn('maxConcurrency', options.maxConcurrency ?? this.shards.length, 1, 10_000),
      running: 0,
      waiting: [],
      stopped: false,
    };
    // A subscription the log folder has a checkpoint for carries on from there.
    const checkpoint = this.checkpoints.get(sub.name);
    this.checkpoints.delete(sub.name);
    for (const shard of this.shards) {
      const stored = checkpoint?.[shard.index];
      const cursor: Cursor = {
        sub,
        shard,
        position:
          stored !== undefined
            ? Math.min(Math.max(stored, shard.trim), endOf(shard))
            : options.startingPosition === 'LATEST'
              ? endOf(shard)
              : shard.trim,
        busy: false,
        queued: false,
        timer: undefined,
        retry: undefined,
        inflight: undefined,
        readBlockedUntil: 0,
      };
      shard.cursors.push(cursor);
      sub.cursors.push(cursor);
    }
    this.subscriptions.set(sub.name, sub);
    for (const cursor of sub.cursors) this.schedule(cursor);
    return {
      name: sub.name,
      failedBatches,
      stats: () => this.subscriptionStats(sub),
      unsubscribe: () => this.unsubscribe(sub),
    };
  }

  /**
   * Resolves once every subscription has processed (or given up) every record put before the call.
   * Batching windows are cut short while a drain is waiting; retry backoff is not.
   */
  drain(): Promise<void> {
    const targets = this.shards.map(endOf);
    if (this.caughtUp(targets)) return Promise.resolve();
    this.urgent++;
    return new Promise<void>((resolve) => {
      this.waiters.push({ targets, resolve });
      for (const sub of this.subscriptions.values()) for (const cursor of sub.cursors) this.schedule(cursor);
    }).finally(() => {
      this.urgent--;
    });
  }

  /**
   * Refuses further puts, drains, then stops every subscription and its timers. A log's files are
   * deleted when every subscription checkpointed has processed every record, and kept otherwise; the
   * checkpoints stay, so a stream created on the folder carries on.
   */
  async close(): Promise<void> {
    this.closed = true;
    // Puts already made wait for their log write (no put can join it now).
    await this.commit?.written;
    await this.drain();
    await Promise.all([...this.subscriptions.values()].map((sub) => this.unsubscribe(sub)));
    if (this.logDir === undefined) return;
    for (const shard of this.shards) {
      const log = shard.log as ShardLog;
      const processed = [...this.checkpoints.values()].every(
        (positions) => (positions[shard.index] ?? 0) >= log.end,
      );
      if (processed && this.checkpoints.size > 0) log.clear();
      log.close();
    }
    this.loggedBytes = 0;
    await this.checkpointNow();
  }

  stats(): MemoryEventStreamStats {
    const subscriptions: Record<string, SubscriptionStats> = {};
    for (const sub of this.subscriptions.values()) subscriptions[sub.name] = this.subscriptionStats(sub);
    let spilledRecords = 0;
    for (const shard of this.shards) {
      if (shard.diskFrom !== IN_MEMORY) spilledRecords += endOf(shard) - Math.max(shard.trim, shard.diskFrom);
    }
    return {
      shards: this.shards.length,
      recordsPut: this.recordsPut,
      bytesPut: this.bytesPut,
      entriesThrottled: this.entriesThrottled,
      faultsInjected: this.faultsInjected,
      bufferedRecords: this.heldRecords,
      bufferedBytes: this.heldBytes,
      spilledRecords,
      loggedBytes: this.loggedBytes,
      logErrors: this.logErrors,
      recoveredRecords: this.recoveredRecords,
      discardedBytes: this.discardedBytes,
      subscriptions,
    };
  }

  /** Keeps a record in memory (its shard's records are all there, up to the newest). */
  private hold(
    shard: Shard,
    partitionKey: string,
    record: Uint8Array,
    arrivalSeconds: number,
    arrivedAt: number,
  ): void {
    // A copy: the caller's buffer is theirs to reuse once put resolves, as with the AWS SDK.
    const data = shard.arena.copy(record);
    const bytes = data.byteLength;
    const chars = 4 * Math.ceil(bytes / 3);
    // The key's own copy too: the caller's may be a slice of a whole request's text, kept alive by it.
    shard.records.push({
      partitionKey: ownCopy(partitionKey),
      data,
      arrivalSeconds,
      bytes,
      chars,
      arrivedAt,
    });
    this.heldRecords++;
    this.heldBytes += bytes;
  }

  /** Whether one more record of `bytes` would take the records held in memory past the budget. */
  private overMemoryBudget(bytes: number): boolean {
    return (
      this.heldRecords >= this.maxRecords || (this.heldRecords > 0 && this.heldBytes + bytes > this.maxBytes)
    );
  }

  /**
   * Writes what the commit's puts appended to a shard's log. If that fails, the log takes those records
   * back, memory lets go of them, and their entries are reported failed, so the callers put them again.
   */
  private flushLog(shard: Shard, log: ShardLog, puts: readonly CommittingPut[]): void {
    const bytesBefore = log.heldBytes;
    const recordsBefore = log.end;
    try {
      log.flush();
    } catch {
      this.logErrors++;
      this.loggedBytes -= bytesBefore - log.heldBytes;
      this.recordsPut -= recordsBefore - log.end;
      const inMemory = Math.max(0, Math.min(shard.diskFrom, log.end) - shard.offset);
      while (shard.records.length > inMemory) {
        const held = shard.records.pop();
        if (held) {
          this.heldRecords--;
          this.heldBytes -= held.bytes;
        }
      }
      if (shard.diskFrom >= log.end) shard.diskFrom = IN_MEMORY;
      for (const put of puts) {
        for (const index of put.logged) {
          const entry = put.entries[index] as StreamEntry;
          if (this.shardOf(entry.partitionKey) !== shard.index) continue;
          this.bytesPut -= entry.data.byteLength;
          put.failed.push({ index, reason: INTERNAL_FAILURE });
          put.unwritten = true;
        }
      }
    }
  }

  /**
   * Writes the subscriptions' positions beside the log once the code that moved them is done, once
   * however many moved at once, without blocking the event loop: one write is in flight at a time, and
   * positions that move meanwhile go in the next, started as soon as it is done. A handler's own write
   * (a lake writer's staged records) and the checkpoint are two writes, so a crash between them
   * delivers those records again (at least once) — within about a millisecond of file I/O. Written
   * synchronously, each checkpoint held the event loop for that long, and under load now and then for
   * several milliseconds: every request the process served waited behind it.
   */
  private checkpointSoon(): void {
    if (this.logDir === undefined) return;
    if (this.checkpointWrite !== undefined) {
      this.checkpointAgain = true;
      return;
    }
    this.checkpointWrite = this.writeCheckpointsUntilSettled();
  }

  private async writeCheckpointsUntilSettled(): Promise<void> {
    // A microtask later: every position the code running now moves goes in this write.
    await Promise.resolve();
    try {
      do {
        this.checkpointAgain = false;
        await this.writeCheckpoints();
      } while (this.checkpointAgain);
    } finally {
      // In the same turn as the last check of `checkpointAgain`: no request for another write falls between.
      this.checkpointWrite = undefined;
    }
  }

  /** Resolves once the positions as they are now are written (after the write in flight, if any). */
  private async checkpointNow(): Promise<void> {
    if (this.checkpointWrite === undefined) this.checkpointSoon();
    else this.checkpointAgain = true;
    while (this.checkpointWrite !== undefined) await this.checkpointWrite;
  }

  /** The positions as they are now, as the checkpoints file keeps them. */
  private currentCheckpoints(): StreamCheckpoints {
    const subscriptions: Record<string, number[]> = Object.fromEntries(this.checkpoints);
    for (const sub of this.subscriptions.values()) {
      subscriptions[sub.name] = sub.cursors.map((cursor) => cursor.position);
    }
    return {
      version: 2,
      partitioning: this.partitioning,
      shards: this.shards.length,
      ends: this.shards.map(endOf),
      subscriptions,
    };
  }

  private async writeCheckpoints(): Promise<void> {
    if (this.logDir === undefined) return;
    try {
      await writeCheckpoints(this.logDir, this.currentCheckpoints());
    } catch {
      // A restart would redeliver a little more; the next checkpoint tries again.
      this.logErrors++;
    }
  }

  /** Decides whether a cursor delivers now, after its batching window, or not yet. */
  private schedule(cursor: Cursor): void {
    if (cursor.busy || cursor.queued || cursor.sub.stopped) return;
    const blocked = cursor.readBlockedUntil - performance.now();
    if (blocked > 0) {
      cursor.timer ??= setTimeout(() => {
        cursor.timer = undefined;
        this.schedule(cursor);
      }, blocked);
      return;
    }
    if (cursor.retry) {
      if (cursor.timer === undefined) this.queue(cursor);
      return;
    }
    const available = endOf(cursor.shard) - cursor.position;
    if (available <= 0) return;
    const { sub } = cursor;
    if (available >= sub.batchSize || sub.windowMs === 0 || this.urgent > 0) {
      this.clearTimer(cursor);
      this.queue(cursor);
      return;
    }
    if (cursor.timer !== undefined) return;
    const wait = arrivedAtOf(cursor.shard, cursor.position) + sub.windowMs - performance.now();
    if (wait <= 0) {
      this.queue(cursor);
      return;
    }
    cursor.timer = setTimeout(() => {
      cursor.timer = undefined;
      this.queue(cursor);
    }, wait);
  }

  /** Delivers on a later turn of the event loop, so I/O is served between batches. */
  private queue(cursor: Cursor): void {
    cursor.queued = true;
    setImmediate(() => {
      cursor.queued = false;
      if (cursor.busy || cursor.sub.stopped) return;
      this.start(cursor);
    });
  }

  /**
   * Delivers now if the subscription has a batch to spare, else waits in line: a cursor only starts
   * ahead of the ones waiting before it when there is a slot for each of them too.
   */
  private start(cursor: Cursor): void {
    const { sub } = cursor;
    const place = sub.waiting.indexOf(cursor);
    const ahead = place === -1 ? sub.waiting.length : place;
    if (sub.running + ahead >= sub.maxConcurrency) {
      if (place === -1) sub.waiting.push(cursor);
      return;
    }
    if (place !== -1) sub.waiting.splice(place, 1);
    sub.running++;
    cursor.inflight = this.deliver(cursor).finally(() => {
      cursor.inflight = undefined;
      sub.running--;
      const next = sub.waiting[0];
      if (next !== undefined) this.schedule(next);
    });
  }

  private async deliver(cursor: Cursor): Promise<void> {
    const { sub, shard } = cursor;
    const start = cursor.position;
    const end = cursor.retry ? cursor.retry.end : this.batchEnd(cursor);
    if (end <= start) return;
    let records: KinesisStreamRecord[];
    try {
      records = this.kinesisRecords(shard, start, end);
    } catch {
      // The log could not be read: as Lambda's poller does when GetRecords fails, try again later.
      this.logErrors++;
      cursor.readBlockedUntil = performance.now() + sub.maxBackoffMs;
      this.schedule(cursor);
      return;
    }
    cursor.busy = true;
    sub.stats.invocations++;
    sub.stats.recordsDelivered += records.length;
    if (cursor.retry) sub.stats.recordsRetried += records.length;

    let failedAt: number | undefined;
    let errorMessage = '';
    let functionError: string | undefined;
    try {
      // A handler typed to return void resolves with undefined: complete success.
      const response = (await sub.handler({ Records: records })) as KinesisStreamBatchResponse | undefined;
      failedAt = lowestFailure(response, shard.index, start, end);
      if (failedAt !== undefined) errorMessage = describeItemFailures(response);
    } catch (error) {
      failedAt = start;
      errorMessage = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      functionError = 'Unhandled';
    }

    if (failedAt === undefined) {
      cursor.retry = undefined;
      this.advance(cursor, end);
    } else {
      sub.stats.failedInvocations++;
      this.advance(cursor, failedAt);
      const attempts = (cursor.retry?.attempts ?? 0) + 1;
      const invocations = (cursor.retry?.invocations ?? 0) + 1;
      if (attempts > sub.maxRetries) {
        await this.giveUp(
          cursor,
          records.slice(cursor.position - start),
          invocations,
          errorMessage,
          functionError,
        );
        cursor.retry = undefined;
      } else {
        cursor.retry = { end, attempts, invocations, errorMessage, functionError };
        if (!sub.stopped) {
          cursor.timer = setTimeout(
            () => {
              cursor.timer = undefined;
              this.schedule(cursor);
            },
            backoff(sub, attempts),
          );
        }
      }
    }
    cursor.busy = false;
    this.schedule(cursor);
  }

  /** The records `[start, end)` as Lambda hands them to a Kinesis event source mapping's handler. */
  private kinesisRecords(shard: Shard, start: number, end: number): KinesisStreamRecord[] {
    const records = new Array<KinesisStreamRecord>(end - start);
    const diskStart = Math.max(start, Math.min(end, shard.diskFrom));
    for (let position = start; position < diskStart; position++) {
      records[position - start] = this.toKinesisRecord(shard, position, heldAt(shard, position));
    }
    if (diskStart < end) {
      const logged = (shard.log as ShardLog).read(diskStart, end);
      for (let position = diskStart; position < end; position++) {
        records[position - start] = this.toKinesisRecord(
          shard,
          position,
          logged[position - diskStart] as HeldRecordData,
        );
      }
    }
    return records;
  }

  private toKinesisRecord(shard: Shard, position: number, held: HeldRecordData): KinesisStreamRecord {
    const sequenceNumber = sequenceNumberOf(shard.index, position);
    return {
      kinesis: payloadWithBytes(
        {
          kinesisSchemaVersion: '1.0',
          partitionKey: held.partitionKey,
          sequenceNumber,
          approximateArrivalTimestamp: held.arrivalSeconds,
        },
        held.data,
      ),
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shard.id}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: this.invokeIdentityArn,
      awsRegion: this.region,
      eventSourceARN: this.streamArn,
    };
  }

  private batchEnd(cursor: Cursor): number {
    const limit = Math.min(endOf(cursor.shard), cursor.position + cursor.sub.batchSize);
    let chars = 0;
    let end = cursor.position;
    while (end < limit) {
      chars += charsOf(cursor.shard, end);
      if (chars > MAX_BATCH_PAYLOAD_CHARS && end > cursor.position) break;
      end++;
    }
    return end;
  }

  /** Hands the records from the cursor's position on to the failure destination (retrying it until it accepts), then skips them. */
  private async giveUp(
    cursor: Cursor,
    records: KinesisStreamRecord[],
    invocations: number,
    errorMessage: string,
    functionError: string | undefined,
  ): Promise<void> {
    const { sub, shard } = cursor;
    const end = cursor.position + records.length;
    const first = records[0] as KinesisStreamRecord;
    const last = records[records.length - 1] as KinesisStreamRecord;
    const failure: FailedBatch = {
      version: '1.0',
      timestamp: new Date(this.clock.now()).toISOString(),
      subscription: sub.name,
      requestContext: {
        requestId: globalThis.crypto.randomUUID(),
        functionArn: sub.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invocations,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(functionError ? { functionError } : {}),
        errorMessage,
      },
      KinesisBatchInfo: {
        shardId: shard.id,
        startSequenceNumber: first.kinesis.sequenceNumber,
        endSequenceNumber: last.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(
          first.kinesis.approximateArrivalTimestamp * 1000,
        ).toISOString(),
        approximateArrivalOfLastRecord: new Date(
          last.kinesis.approximateArrivalTimestamp * 1000,
        ).toISOString(),
        batchSize: records.length,
        streamArn: this.streamArn,
      },
      payload: { Records: records },
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await sub.onFailure(failure);
        break;
      } catch {
        sub.stats.failureDestinationErrors++;
        await sleep(backoff(sub, attempt));
      }
    }
    sub.stats.batchesToFailureDestination++;
    sub.stats.recordsToFailureDestination += records.length;
    this.advance(cursor, end, false);
  }

  /** Checkpoints a cursor at `to`; records skipped to the failure destination do not count as processed. */
  private advance(cursor: Cursor, to: number, processed = true): void {
    if (to <= cursor.position) return;
    if (processed) cursor.sub.stats.recordsProcessed += to - cursor.position;
    cursor.position = to;
    this.release(cursor.shard);
    this.checkpointSoon();
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  /** Frees records every subscription has passed; with no subscription the shard keeps them. */
  private release(shard: Shard): void {
    if (shard.cursors.length === 0) return;
    let min = endOf(shard);
    for (const cursor of shard.cursors) if (cursor.position < min) min = cursor.position;
    if (min <= shard.trim) return;
    const memoryEnd = Math.min(min, shard.diskFrom);
    for (let position = shard.trim; position < memoryEnd; position++) {
      const index = position - shard.offset;
      const held = shard.records[index];
      if (held) {
        this.heldRecords--;
        this.heldBytes -= held.bytes;
        shard.records[index] = undefined;
      }
    }
    shard.trim = min;
    if (shard.log) {
      const before = shard.log.heldBytes;
      shard.log.releaseBefore(min);
      this.loggedBytes -= before - shard.log.heldBytes;
      if (shard.diskFrom !== IN_MEMORY && min >= shard.log.end) {
        // Every subscription has passed the log's end: the shard's new records are held in memory again.
        shard.diskFrom = IN_MEMORY;
        shard.records = [];
        shard.offset = min;
        return;
      }
    }
    const released = shard.trim - shard.offset;
    if (released >= COMPACT_AFTER && released * 2 >= shard.records.length) {
      shard.records = shard.records.slice(released);
      shard.offset = shard.trim;
    }
  }

  private caughtUp(targets: readonly number[]): boolean {
    for (const shard of this.shards) {
      const target = targets[shard.index] ?? 0;
      for (const cursor of shard.cursors) if (cursor.position < target) return false;
    }
    return true;
  }

  private wakeWaiters(): void {
    const waiting: DrainWaiter[] = [];
    for (const waiter of this.waiters) {
      if (this.caughtUp(waiter.targets)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private clearTimer(cursor: Cursor): void {
    if (cursor.timer !== undefined) {
      clearTimeout(cursor.timer);
      cursor.timer = undefined;
    }
  }

  private async unsubscribe(sub: SubscriptionState): Promise<void> {
    if (this.subscriptions.get(sub.name) !== sub) return;
    sub.stopped = true;
    for (const cursor of sub.cursors) this.clearTimer(cursor);
    await Promise.all(sub.cursors.map((cursor) => cursor.inflight));
    for (const cursor of sub.cursors) {
      this.clearTimer(cursor);
      const cursors = cursor.shard.cursors;
      cursors.splice(cursors.indexOf(cursor), 1);
      this.release(cursor.shard);
    }
    this.subscriptions.delete(sub.name);
    if (this.logDir !== undefined) {
      // Subscribing again carries on from here, in this run or the next.
      this.checkpoints.set(
        sub.name,
        sub.cursors.map((cursor) => cursor.position),
      );
      await this.checkpointNow();
    }
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  private subscriptionStats(sub: SubscriptionState): SubscriptionStats {
    let lag = 0;
    for (const cursor of sub.cursors) lag += endOf(cursor.shard) - cursor.position;
    return { ...sub.stats, lag };
  }
}

/** Position after the shard's last record subscriptions may read: with a log, the last one written. */
function endOf(shard: Shard): number {
  return shard.log ? shard.log.writtenEnd : shard.offset + shard.records.length;
}

/** Monotonic time the record at `position` arrived (held in memory or only in the log). */
function arrivedAtOf(shard: Shard, position: number): number {
  return position >= shard.diskFrom
    ? (shard.log as ShardLog).arrivedAt(position)
    : heldAt(shard, position).arrivedAt;
}

/** Length in base64 of the record at `position`'s data, for Lambda's payload limit. */
function charsOf(shard: Shard, position: number): number {
  return position >= shard.diskFrom
    ? 4 * Math.ceil((shard.log as ShardLog).dataBytesAt(position) / 3)
    : heldAt(shard, position).chars;
}

function heldAt(shard: Shard, position: number): HeldRecord {
  const held = shard.records[position - shard.offset];
  if (!held) throw new Error(`Record ${position} of ${shard.id} is no longer held.`);
  return held;
}

/**
 * Where a batch `[start, end)` failed, per ReportBatchItemFailures: undefined for success (no response,
 * no or an empty `batchItemFailures`), the lowest failed record otherwise, and the whole batch when an
 * item identifier is missing or names no record of the batch (as Lambda does).
 */
function lowestFailure(
  response: KinesisStreamBatchResponse | undefined,
  shardIndex: number,
  start: number,
  end: number,
): number | undefined {
  const failures = response?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  let lowest = end;
  for (const failure of failures) {
    const position = positionOfSequenceNumber(shardIndex, failure?.itemIdentifier);
    if (position === undefined || position < start || position >= end) return start;
    if (position < lowest) lowest = position;
  }
  return lowest;
}

/**
 * A string equal to `text` that keeps no larger string alive. V8 makes a substring of 13 or more
 * characters a view of the string it was cut from, which then lives as long as the substring does:
 * a partition key the collector cut from a request's body (an analytics.js `anonymousId` is a
 * 36-character UUID) would keep that whole body in memory while the stream holds the record, or
 * remembers the key (25 MB for 100 keys cut from 256 KB bodies, in the stream's tests). Joining a
 * character on makes a new string of the two, and the slice after it refers only to that.
 */
function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}

function describeItemFailures(response: KinesisStreamBatchResponse | undefined): string {
  const ids = (response?.batchItemFailures ?? []).map((failure) => String(failure?.itemIdentifier));
  return `ReportBatchItemFailures: ${ids.length} item(s) failed, first ${ids[0]}`;
}

function validateEntry(entry: StreamEntry): void {
  const key = entry.partitionKey;
  if (typeof key !== 'string' || key.length < 1 || key.length > MAX_PARTITION_KEY_LENGTH) {
    throw new RangeError(`A partition key must have 1 to ${MAX_PARTITION_KEY_LENGTH} characters.`);
  }
  if (!(entry.data instanceof Uint8Array) || entry.data.byteLength > MAX_RECORD_BYTES) {
    throw new RangeError(`Record data must be bytes, at most ${MAX_RECORD_BYTES}.`);
  }
}

function backoff(sub: SubscriptionState, attempt: number): number {
  return Math.min(sub.maxBackoffMs, sub.backoffMs * 2 ** Math.min(attempt - 1, 30));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
