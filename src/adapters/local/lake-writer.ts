import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import {
  EVENT_COLUMNS,
  IDENTITY_LINK_COLUMNS,
  type LakeColumn,
  partitionOf,
  partitionPath,
} from '../../core/lake/tables';
import { type Clock, systemClock } from '../../ports/clock';
import { recordData } from '../../ports/stream-record-data';
import { compileLakeSql, PARTITIONABLE_TIME } from './lake-sql';

/**
 * The tables a lake writer can write: their columns, the record field rows are partitioned by, and
 * the staging folder under `<dataDir>/tmp/` (one per table, so writers of different tables never pick
 * up each other's files).
 */
const TABLES = {
  events: { columns: EVENT_COLUMNS, partitionField: 'receivedAt', staging: 'lake-writer' },
  identity_links: {
    columns: IDENTITY_LINK_COLUMNS,
    partitionField: 'linked_at',
    staging: 'lake-writer-identity_links',
  },
} as const satisfies Record<
  string,
  { columns: readonly LakeColumn<string>[]; partitionField: string; staging: string }
>;

export type LakeWriterTable = keyof typeof TABLES;

export interface LakeWriterOptions {
  /**
   * The local data directory: Parquet under `<dataDir>/lake/<table>/`, staging under `<dataDir>/tmp/`.
   */
  readonly dataDir: string;
  /** The table written. Default `events`. */
  readonly table?: LakeWriterTable;
  /** Longest a buffered record waits before it is written (Firehose's buffering interval). Default 2,000. */
  readonly flushIntervalMs?: number;
  /** A staging file is converted as soon as it holds this many records. Default 5,000. */
  readonly maxFileRows?: number;
  /** ... or this many bytes of record JSON. Default 4 MiB. */
  readonly maxFileBytes?: number;
  /**
   * Most bytes buffered or waiting to be written (when writes fail); past it the handler waits for a
   * write and then fails its batch, so the stream retries it later. Default 32 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** DuckDB worker threads. Default 1. */
  readonly threads?: number;
  /**
   * DuckDB memory limit. DuckDB's JSON reader reserves a 32 MiB buffer per thread (only the pages a
   * file fills are touched), so the default is 32 MiB per thread plus 32 MiB.
   */
  readonly memoryLimit?: string;
  /** Names files and partitions conversion errors. Default the system clock. */
  readonly clock?: Clock;
  /** Called when a background write fails (the records stay buffered and are retried). */
  readonly onWriteError?: (error: unknown) => void;
}

/** Counters for live metrics and tests. */
export interface LakeWriterStats {
  /** Records acknowledged and not yet in a Parquet file. */
  readonly rowsBuffered: number;
  readonly bytesBuffered: number;
  readonly rowsLanded: number;
  readonly filesWritten: number;
  /** Records that were not a JSON object with a usable partition time, written to the lake's `errors/`. */
  readonly rowsToErrors: number;
  readonly writeFailures: number;
}

/** Records taken from the stream and written together (one Parquet file per partition they touch). */
interface Batch {
  /** Unique across runs: names the staging file and the batch's Parquet files. */
  readonly name: string;
  /** The staging file: one JSON line per record, appended as records are taken. */
  readonly staged: string;
  /** The staging file, open for appends. */
  fd: number | undefined;
  /** The last append; appends run one after another so a failed one can be cut off cleanly. */
  appending: Promise<void>;
  /** Appends started and not yet finished. */
  pending: number;
  rows: number;
  bytes: number;
  /** Partitions (`dt/hour`) with their row counts, once the staged file was checked. */
  partitions: PartitionCount[] | undefined;
}

interface PartitionCount {
  readonly dt: string;
  readonly hour: string;
  readonly rows: number;
}

/** Records DuckDB could not partition (no usable partition time). */
interface UnpartitionedCount {
  readonly dt: null;
  readonly rows: number;
}

function allPartitioned(counts: Array<PartitionCount | UnpartitionedCount>): counts is PartitionCount[] {
  return counts.every((count) => count.dt !== null);
}

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');
const noop = () => {};
const STAGING_SUFFIX = '.ndjson';

/**
 * The local twin of Firehose → S3 Parquet for one lake table: `events` (the default), fed as a handler
 * for a stream subscription, or `identity_links`, fed rows with {@link LakeWriter.stageRows}.
 *
 * The handler decodes each Kinesis record (`stageRows` serialises each row) and appends its JSON line
 * to a staging file (NDJSON under `<dataDir>/tmp/`); it acknowledges the batch once the append has
 * completed, so the writer holds almost nothing in memory and a restart picks staged records up again.
 * A staging file is converted when it reaches `maxFileRows`/`maxFileBytes`, when its oldest record has
 * waited `flushIntervalMs`, on `flush()` and on `close()`: DuckDB reads it with SQL compiled from the
 * table's columns (`EVENT_COLUMNS`, `IDENTITY_LINK_COLUMNS`: the columns and types Firehose's
 * conversion gives the AWS lake) and writes one Snappy Parquet file, as Firehose does, per `dt`/`hour`
 * partition (from `receivedAt` for events, `linked_at` for identity links, as `partitionOf` computes it):
 * `<dataDir>/lake/events/dt=YYYY-MM-DD/hour=HH/events-<run>-<n>.parquet`. Each file is written under
 * a hidden temporary name and renamed, so readers never see a partial file.
 * A failed write keeps the records and is retried; a partition already written is never written again.
 * Records that are not a JSON object with a usable partition time go to `<dataDir>/lake/errors/`, as
 * Firehose does with records it cannot convert.
 *
 * Converting in DuckDB (on its own thread) keeps the Node thread's share to reading each record's
 * bytes (`recordData`: from the in-process stream as they are, from Kinesis decoded from base64) and
 * one append per batch: about 2 µs a record, against about 25 µs for parsing each record and mapping it with
 * `toEventRow` in JavaScript, which the tests use as the reference the SQL must agree with.
 */
export class LakeWriter {
  /** Pass to `MemoryEventStream.subscribe({ handler })`. */
  readonly handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

  private readonly table: LakeWriterTable;
  private readonly partitionField: string;
  private readonly lakeDir: string;
  private readonly stagingDir: string;
  private readonly runId: string;
  private readonly flushIntervalMs: number;
  private readonly maxFileRows: number;
  private readonly maxFileBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly clock: Clock;
  private readonly onWriteError: (error: unknown) => void;
  private readonly sql: ReturnType<typeof compileLakeSql>;
  private current: Batch;
  private readonly queue: Batch[] = [];
  private batchCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private disposed = false;
  private rowsBuffered = 0;
  private bytesBuffered = 0;
  private rowsLanded = 0;
  private filesWritten = 0;
  private rowsToErrors = 0;
  private writeFailures = 0;

  private constructor(
    options: LakeWriterOptions,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {
    this.table = options.table ?? 'events';
    const table = TABLES[this.table];
    this.partitionField = table.partitionField;
    this.sql = compileLakeSql(table.columns, table.partitionField);
    this.lakeDir = join(options.dataDir, 'lake');
    this.stagingDir = stagingDirOf(options);
    this.flushIntervalMs = options.flushIntervalMs ?? 2_000;
    this.maxFileRows = options.maxFileRows ?? 5_000;
    this.maxFileBytes = options.maxFileBytes ?? 4 * 1024 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.clock = options.clock ?? systemClock;
    this.onWriteError = options.onWriteError ?? (() => {});
    const started = new Date(this.clock.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    this.runId = `${started}-${randomBytes(4).toString('hex')}`;
    this.current = this.newBatch();
    this.handler = (event) => this.take(event);
  }

  /**
   * Starts a writer: its own small DuckDB (in memory, `threads`, `memoryLimit`), and any staging files
   * a previous run left behind queued to be written first.
   */
  static async open(options: LakeWriterOptions): Promise<LakeWriter> {
    await mkdir(stagingDirOf(options), { recursive: true });
    const threads = options.threads ?? 1;
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(threads),
      memory_limit: options.memoryLimit ?? `${32 * threads + 32}MiB`,
      preserve_insertion_order: 'false',
      temp_directory: join(options.dataDir, 'tmp', 'duckdb'),
    });
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = 'UTC'`);
    const writer = new LakeWriter(options, instance, connection);
    await writer.recoverStaged();
    return writer;
  }

  /** Writes everything buffered so far. Rejects if a write fails; the records stay buffered. */
  flush(): Promise<void> {
    this.seal();
    return this.runFlushes();
  }

  /**
   * Stops taking records, writes what is buffered and closes DuckDB. If a write fails it rejects and
   * keeps the records; calling `close` again retries.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.flush();
    if (this.disposed) return;
    this.disposed = true;
    this.connection.closeSync();
    this.instance.closeSync();
  }

  stats(): LakeWriterStats {
    return {
      rowsBuffered: this.rowsBuffered,
      bytesBuffered: this.bytesBuffered,
      rowsLanded: this.rowsLanded,
      filesWritten: this.filesWritten,
      rowsToErrors: this.rowsToErrors,
      writeFailures: this.writeFailures,
    };
  }

  /**
   * Stages rows (one JSON line each) to be written, as the handler stages stream records. Resolves once
   * they are appended to the staging file, from which a restart recovers them; rejects if the writer
   * is closed, backed up (`maxBufferedBytes`) or the append fails, and then stages none of them.
   */
  async stageRows(rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    // JSON.stringify never writes a raw newline, so each row is exactly one line.
    await this.stage(
      () => Buffer.from(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`),
      rows.length,
    );
  }

  private async take(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    if (event.Records.length === 0) {
      this.checkOpen();
      return { batchItemFailures: [] };
    }
    await this.stage(() => {
      const chunks: Buffer[] = [];
      for (const record of event.Records) {
        let line: Buffer = recordData(record.kinesis);
        // A record is one NDJSON line; JSON spread over several lines is put on one.
        if (line.includes(NEWLINE)) line = oneLine(line);
        chunks.push(line, NEWLINE_BUFFER);
      }
      return Buffer.concat(chunks);
    }, event.Records.length);
    return { batchItemFailures: [] };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('The lake writer is closed.');
  }

  /** Appends `rows` records (the lines `encode` returns), once there is room for them. */
  private async stage(encode: () => Buffer, rows: number): Promise<void> {
    this.checkOpen();
    if (this.bytesBuffered >= this.maxBufferedBytes) {
      await this.flush().catch(noop);
      if (this.bytesBuffered >= this.maxBufferedBytes) {
        throw new Error('The lake writer is backed up: buffered records cannot be written yet.');
      }
    }
    const data = encode();
    const batch = this.current;
    await this.append(batch, data, rows);
    if (batch === this.current && (batch.rows >= this.maxFileRows || batch.bytes >= this.maxFileBytes)) {
      this.seal();
      this.runFlushes().catch(noop);
    } else {
      this.armTimer();
    }
  }

  /**
   * Appends lines to a batch's staging file after the appends before them. A failed append is cut off
   * again (the file is truncated to where it was), so a redelivered batch cannot be staged twice.
   *
   * The write is synchronous (a few hundred KB at most, to the page cache): the handler's promise then
   * settles in the same run of microtasks as the write, and the stream checkpoints the batch right
   * after it, so a crash has microseconds to land between the two (and have the records delivered and
   * staged again), not however long an asynchronous write's completion waits behind other I/O.
   */
  private append(batch: Batch, data: Buffer, rows: number): Promise<void> {
    batch.pending++;
    const appended = batch.appending.then(() => {
      const before = batch.bytes;
      try {
        batch.fd ??= openSync(batch.staged, 'a');
        for (let done = 0; done < data.length; ) done += writeSync(batch.fd, data, done);
      } catch (error) {
        if (batch.fd !== undefined) {
          try {
            ftruncateSync(batch.fd, before);
          } catch {
            // The append failed and so did cutting it off: the next write to this batch fails too.
          }
        }
        throw error;
      } finally {
        batch.pending--;
      }
      batch.rows += rows;
      batch.bytes += data.length;
      this.rowsBuffered += rows;
      this.bytesBuffered += data.length;
    });
    batch.appending = appended.catch(noop);
    return appended;
  }

  private newBatch(): Batch {
    this.batchCount++;
    const name = `${this.runId}-${String(this.batchCount).padStart(6, '0')}`;
    return {
      name,
      staged: join(this.stagingDir, `${name}${STAGING_SUFFIX}`),
      fd: undefined,
      appending: Promise.resolve(),
      pending: 0,
      rows: 0,
      bytes: 0,
      partitions: undefined,
    };
  }

  /** Queues the current staging file to be written and starts a new one. */
  private seal(): void {
    if (this.current.rows === 0 && this.current.pending === 0) return;
    this.queue.push(this.current);
    this.current = this.newBatch();
  }

  private runFlushes(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return Promise.resolve();
    this.clearTimer();
    this.flushing = this.writeQueue();
    return this.flushing;
  }

  /** Writes queued batches in order; stops at the first failure, keeping it and those after it. */
  private async writeQueue(): Promise<void> {
    await null;
    try {
      for (let batch = this.queue[0]; batch; batch = this.queue[0]) {
        await this.write(batch);
        this.queue.shift();
        this.rowsBuffered -= batch.rows;
        this.bytesBuffered -= batch.bytes;
      }
    } catch (error) {
      this.writeFailures++;
      this.onWriteError(error);
      throw error;
    } finally {
      this.flushing = undefined;
      if (this.queue.length > 0 || this.current.rows > 0) this.armTimer();
    }
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, this.flushIntervalMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(batch: Batch): Promise<void> {
    await batch.appending;
    if (batch.fd !== undefined) {
      closeSync(batch.fd);
      batch.fd = undefined;
    }
    const staged = batch.staged;
    if (batch.rows === 0) {
      await rm(staged, { force: true });
      return;
    }
    if (batch.partitions === undefined) batch.partitions = await this.partitionsOf(batch, staged);
    for (const partition of batch.partitions) {
      const folder = join(this.lakeDir, partitionPath(this.table, partition));
      const file = join(folder, `${this.table}-${batch.name}.parquet`);
      // Written before a failure (or a crash) later in the same batch: never write it twice.
      if (await exists(file)) continue;
      await mkdir(folder, { recursive: true });
      const temporary = join(folder, `.${this.table}-${batch.name}.parquet.tmp`);
      try {
        await this.connection.run(this.sql.copyPartition(temporary), [staged, partition.dt, partition.hour]);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      this.filesWritten++;
      this.rowsLanded += partition.rows;
    }
    await rm(staged, { force: true });
  }

  /**
   * The partitions of a staged file. If DuckDB cannot read it, or some records cannot be partitioned,
   * the file is checked record by record: those go to `errors/` and the rest is staged again.
   */
  private async partitionsOf(batch: Batch, staged: string): Promise<PartitionCount[]> {
    const counted = await this.countPartitions(staged).catch((error: unknown) => {
      // Bad records make DuckDB's reader fail with an input error; anything else (memory, disk) is retried.
      if (isBadInput(error)) return undefined;
      throw error;
    });
    if (counted && allPartitioned(counted)) return counted;
    await this.separateErrors(batch, staged);
    const recounted = await this.countPartitions(staged);
    if (!allPartitioned(recounted))
      throw new Error(`Staged records of ${batch.name} still cannot be partitioned.`);
    return recounted;
  }

  private async countPartitions(staged: string): Promise<Array<PartitionCount | UnpartitionedCount>> {
    const reader = await this.connection.runAndReadAll(this.sql.partitions, [staged]);
    return reader
      .getRowObjectsJS()
      .map((row): PartitionCount | UnpartitionedCount =>
        row.dt === null
          ? { dt: null, rows: Number(row.n) }
          : { dt: String(row.dt), hour: String(row.hour), rows: Number(row.n) },
      );
  }

  /** Moves records that are not a JSON object with a partitionable time to the lake's `errors/`. */
  private async separateErrors(batch: Batch, staged: string): Promise<void> {
    const text = await readFile(staged, 'utf8');
    const good: string[] = [];
    const bad: string[] = [];
    const now = this.clock.now();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const problem = problemWith(line, this.partitionField);
      if (problem === undefined) {
        // Lone surrogates are valid in JavaScript strings but not for DuckDB's JSON reader.
        good.push(JSON.stringify(wellFormed(JSON.parse(line))));
        continue;
      }
      bad.push(
        JSON.stringify({
          attemptsMade: 1,
          attemptEndingTimestamp: now,
          lastErrorCode: 'DataFormatConversion.MalformedData',
          lastErrorMessage: problem,
          rawData: Buffer.from(line).toString('base64'),
        }),
      );
    }
    if (bad.length > 0) {
      const folder = join(this.lakeDir, partitionPath('errors', partitionOf(new Date(now).toISOString())));
      await mkdir(folder, { recursive: true });
      const file = join(folder, `${this.table}-format-conversion-failed-${batch.name}.ndjson`);
      await writeFile(`${file}.tmp`, `${bad.join('\n')}\n`);
      await rename(`${file}.tmp`, file);
    }
    await writeFile(`${staged}.tmp`, good.length > 0 ? `${good.join('\n')}\n` : '');
    await rename(`${staged}.tmp`, staged);
    // Counted once the split is durable; a retry finds no bad records left.
    this.rowsToErrors += bad.length;
    this.rowsBuffered -= bad.length;
    batch.rows -= bad.length;
  }

  /** Queues staging files of earlier runs (records acknowledged but not yet written when they stopped). */
  private async recoverStaged(): Promise<void> {
    const names = (await readdir(this.stagingDir)).filter((name) => name.endsWith(STAGING_SUFFIX)).sort();
    for (const name of names) {
      const staged = join(this.stagingDir, name);
      const bytes = (await stat(staged)).size;
      const text = await readFile(staged, 'utf8');
      const rows = text.split('\n').filter((line) => line !== '').length;
      this.queue.push({
        name: basename(name, STAGING_SUFFIX),
        staged,
        fd: undefined,
        appending: Promise.resolve(),
        pending: 0,
        rows,
        bytes,
        partitions: undefined,
      });
      this.rowsBuffered += rows;
      this.bytesBuffered += bytes;
    }
    if (this.queue.length > 0) this.armTimer();
  }
}

function stagingDirOf(options: LakeWriterOptions): string {
  return join(options.dataDir, 'tmp', TABLES[options.table ?? 'events'].staging);
}

function oneLine(data: Buffer): Buffer {
  const text = data.toString('utf8');
  try {
    return Buffer.from(JSON.stringify(JSON.parse(text)));
  } catch {
    // Not JSON: quoted as one JSON string line, so it reaches errors/ whole (and is not an object).
    return Buffer.from(JSON.stringify(text));
  }
}

function isBadInput(error: unknown): boolean {
  return error instanceof Error && /^(Invalid Input|Conversion) Error/.test(error.message);
}

function problemWith(line: string, partitionField: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `Not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'Not a JSON object';
  const time = (value as Record<string, unknown>)[partitionField];
  if (typeof time !== 'string' || !PARTITIONABLE_TIME.test(time)) {
    return `${partitionField} is missing or not an ISO-8601 time`;
  }
  return undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The value with every lone surrogate in its strings and keys replaced by U+FFFD. */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\ufffd');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key.replace(LONE_SURROGATE, '\ufffd'), wellFormed(item)]),
    );
  }
  return value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
