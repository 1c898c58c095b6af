import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** A record as the in-process stream hands it out: its bytes and what a batch needs of it. */
export interface LoggedRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrivalSeconds: number;
  /** Monotonic time of arrival (batching windows); for a record recovered from a file, when it was read. */
  readonly arrivedAt: number;
}

/**
 * Bytes of a frame's header: the CRC-32 of the rest of the frame (u32), the data's length (u32), the
 * partition key's length (u16) and the arrival time (f64).
 */
const HEADER_BYTES = 18;
const CRC_AT = 0;
const DATA_LENGTH_AT = 4;
const KEY_LENGTH_AT = 8;
const ARRIVAL_AT = 10;
/** A segment file is closed to appends past this size, so released records free disk in steps. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_SUFFIX = '.log';
/** Largest frame recovery accepts: a record of 1 MiB with a 256-character key. */
const MAX_FRAME_BYTES = HEADER_BYTES + 1024 + 1024 * 1024;
/**
 * A log's staging buffer, which the frames of a commit are written into before the file: its first
 * size, and the most it grows to when commits fill it. Frames larger than a quarter of the most get a
 * buffer of their own.
 */
const STAGING_BYTES = 256 * 1024;
const MAX_STAGING_BYTES = 4 * 1024 * 1024;
/** Bytes read at a time when a segment is scanned on recovery. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/** How a log reads and writes its files: `node:fs` positional I/O, or a twin that fails (tests). */
export interface LogFiles {
  /** Writes the buffers one after another at `position` of the file; returns how many bytes it wrote. */
  writev(fd: number, buffers: readonly Buffer[], position: number): number;
  /** Reads up to `length` bytes into `buffer` at `offset` from `position`; returns how many it read. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

export const NODE_LOG_FILES: LogFiles = {
  writev: (fd, buffers, position) => writevSync(fd, buffers as Buffer[], position),
  read: (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, length, position),
};

/** Bytes a record takes in a log file, for its partition key's UTF-8 length and its data's length. */
export function frameBytes(keyBytes: number, dataBytes: number): number {
  return HEADER_BYTES + keyBytes + dataBytes;
}

/** What {@link ShardLog.open} found in the files a previous run left. */
export interface LogRecovery {
  /** Records read back from the files. */
  readonly records: number;
  /**
   * Bytes cut off after the last whole, intact frame (a write the machine lost part of), with every
   * segment after it.
   */
  readonly discardedBytes: number;
  /** Whether every record read back has a key `keyFits` accepts (true when it was not given). */
  readonly keysFit: boolean;
}

/** Frames waiting to be written: `buffer` from `start` to `end`. */
interface PendingRun {
  readonly buffer: Buffer;
  readonly start: number;
  end: number;
}

interface Segment {
  /** Position of the segment's first record. */
  readonly start: number;
  readonly path: string;
  readonly fd: number;
  count: number;
  /** Bytes written and pending. */
  size: number;
  /** Records and bytes in the file: what precedes the pending frames. */
  flushedCount: number;
  flushedSize: number;
  /** Per record: where its frame starts in the file, its data's length, its monotonic arrival. */
  offsets: Uint32Array;
  dataBytes: Uint32Array;
  arrived: Float64Array;
  /** Frames appended and not yet written, as runs of bytes (contiguous frames are one run). */
  pending: PendingRun[];
  /** Read back from a previous run's file: takes no appends. */
  sealed: boolean;
}

/**
 * One shard's records on disk: positions `[start, end)` in segment files of frames
 * `[crc32][data length][key length][arrival seconds][key][data]`, appended in order, written before
 * the put that appended them resolves ({@link flush}), and read back by position. What stays in memory
 * is 16 bytes a record (where its frame is, its length, its arrival) — a backlog of a million records
 * costs 16 MB, not their data — and the staging buffer the frames of a commit wait in (256 KiB, up to
 * 4 MiB if commits fill it). A segment is deleted once every consumer has passed it
 * ({@link releaseBefore}).
 *
 * Files outlive the process: {@link ShardLog.open} reads back the segments a previous run left, so a
 * stream started again on the same folder still holds every record it acknowledged and its consumers
 * had not passed. A frame cut short or damaged (its CRC does not match) ends the log there.
 */
export class ShardLog {
  private readonly segments: Segment[] = [];
  /** Frames appended since the last flush are in `staging` up to `staged` (and in older buffers). */
  private staging = Buffer.allocUnsafeSlow(0);
  private staged = 0;
  private next: number;
  private written = 0;
  private first: number;

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    start: number,
    private readonly segmentBytes: number,
    private readonly files: LogFiles,
  ) {
    this.next = start;
    this.first = start;
  }

  /**
   * Opens shard `name`'s log in `dir`, reading back the segments already there; an empty log starts at
   * position `start` (where the shard's last run ended, when all of its segments had been released).
   * With `keyFits`, the key of every record read back is checked with it (the stream asks whether a log
   * whose checkpoints are gone was partitioned the way it partitions).
   */
  static open(
    dir: string,
    name: string,
    start: number,
    segmentBytes = DEFAULT_SEGMENT_BYTES,
    files: LogFiles = NODE_LOG_FILES,
    keyFits?: (partitionKey: string) => boolean,
  ): { log: ShardLog; recovery: LogRecovery } {
    const log = new ShardLog(dir, name, start, segmentBytes, files);
    const recovery = log.recover(keyFits);
    return { log, recovery };
  }

  /** Position of the oldest record not yet released. */
  get start(): number {
    return this.first;
  }

  /** Position after the last record. */
  get end(): number {
    return this.next;
  }

  /** Bytes on disk (and pending) in segments not yet deleted. */
  get bytes(): number {
    return this.written;
  }

  /** Bytes of the records not yet released: what the backlog takes on disk. */
  get heldBytes(): number {
    // Released records are deleted with their segment, except in the first one left.
    const segment = this.segments[0];
    if (segment === undefined) return 0;
    const released = this.first - segment.start;
    if (released <= 0) return this.written;
    return this.written - (released >= segment.count ? segment.size : (segment.offsets[released] as number));
  }

  /**
   * Appends a record at position {@link end}; it reaches the file at the next {@link flush}. The frame
   * is written into the log's staging buffer right away (`data` is copied: the caller may reuse it),
   * so the frames of one commit are contiguous: one CRC call a record, one buffer for the write. The
   * partition key is encoded straight into the frame; a caller that has its UTF-8 length passes it.
   * Returns the frame's size.
   */
  append(
    partitionKey: string,
    data: Uint8Array,
    arrivalSeconds: number,
    arrivedAt: number,
    keyLength = Buffer.byteLength(partitionKey, 'utf8'),
  ): number {
    const length = HEADER_BYTES + keyLength + data.byteLength;
    let segment = this.segments.at(-1);
    if (
      segment === undefined ||
      segment.sealed ||
      (segment.count > 0 && segment.size + length > this.segmentBytes)
    ) {
      segment = this.openSegment();
    }
    let frame: Buffer;
    let at: number;
    if (length > MAX_STAGING_BYTES / 4) {
      frame = Buffer.allocUnsafe(length);
      at = 0;
    } else {
      if (this.staged + length > this.staging.length) {
        // A commit that filled the buffer: the next one gets a larger buffer, up to the most. The
        // frames already staged keep the old one until they are written.
        const size = this.staging.length === 0 ? STAGING_BYTES : this.staging.length * 2;
        this.staging = Buffer.allocUnsafeSlow(Math.min(Math.max(size, length), MAX_STAGING_BYTES));
        this.staged = 0;
      }
      frame = this.staging;
      at = this.staged;
      this.staged += length;
    }
    frame.writeUInt32LE(data.byteLength, at + DATA_LENGTH_AT);
    frame.writeUInt16LE(keyLength, at + KEY_LENGTH_AT);
    frame.writeDoubleLE(arrivalSeconds, at + ARRIVAL_AT);
    frame.write(partitionKey, at + HEADER_BYTES, keyLength, 'utf8');
    frame.set(data, at + HEADER_BYTES + keyLength);
    frame.writeUInt32LE(crc32(frame.subarray(at + DATA_LENGTH_AT, at + length)), at + CRC_AT);
    if (segment.count === segment.offsets.length) grow(segment);
    segment.offsets[segment.count] = segment.size;
    segment.dataBytes[segment.count] = data.byteLength;
    segment.arrived[segment.count] = arrivedAt;
    segment.count++;
    segment.size += length;
    const last = segment.pending.at(-1);
    if (last !== undefined && last.buffer === frame && last.end === at) last.end += length;
    else segment.pending.push({ buffer: frame, start: at, end: at + length });
    this.written += length;
    this.next++;
    return length;
  }

  /** Records appended but not yet written ({@link flush}). */
  get pendingRecords(): number {
    let pending = 0;
    for (const segment of this.segments) pending += segment.count - segment.flushedCount;
    return pending;
  }

  /**
   * Writes what {@link append} staged (one write per segment, of one buffer but when the staging buffer
   * filled up, or a frame too large for it came). If a write fails (a
   * full disk), every record not yet written is taken back — positions from the first of them on are
   * free again, as if never appended — and the error is thrown: the caller reports those records as
   * not put.
   */
  flush(): void {
    try {
      for (const segment of this.segments) {
        if (segment.pending.length === 0) continue;
        let buffers = segment.pending.map((run) => run.buffer.subarray(run.start, run.end));
        let position = segment.flushedSize;
        while (position < segment.size) {
          let written = this.files.writev(segment.fd, buffers, position);
          if (written <= 0) throw new Error(`The stream's log file ${segment.path} took no bytes.`);
          position += written;
          // A short write: carry on after the bytes that made it.
          let first = 0;
          while (first < buffers.length && written >= (buffers[first] as Buffer).length) {
            written -= (buffers[first] as Buffer).length;
            first++;
          }
          buffers = buffers.slice(first);
          if (written > 0) buffers[0] = (buffers[0] as Buffer).subarray(written);
        }
        segment.pending = [];
        segment.flushedCount = segment.count;
        segment.flushedSize = segment.size;
      }
      // Every staged frame is in its file: the staging buffer is free again.
      this.staged = 0;
    } catch (error) {
      this.takeBackPending();
      throw error;
    }
  }

  /** Length of the record's data. */
  dataBytesAt(position: number): number {
    const [segment, index] = this.locate(position);
    return segment.dataBytes[index] as number;
  }

  /** Monotonic time the record arrived. */
  arrivedAt(position: number): number {
    const [segment, index] = this.locate(position);
    return segment.arrived[index] as number;
  }

  /** Position after the last record written to its file; {@link read} reads up to here. */
  get writtenEnd(): number {
    return this.next - this.pendingRecords;
  }

  /**
   * The records at `[from, to)`, read with one read per segment they span. Only records already
   * written ({@link writtenEnd}): a read never writes what appends queued, so a write that fails is
   * only ever met by the {@link flush} whose caller reports its records as not put.
   */
  read(from: number, to: number): LoggedRecord[] {
    if (to > this.writtenEnd) {
      throw new RangeError(
        `Records up to ${to} are not all written to ${this.name}'s log (written up to ${this.writtenEnd}).`,
      );
    }
    const records: LoggedRecord[] = [];
    let position = from;
    while (position < to) {
      const [segment, first] = this.locate(position);
      const last = Math.min(to - position, segment.count - first) + first - 1;
      const begin = segment.offsets[first] as number;
      const finish = last + 1 < segment.count ? (segment.offsets[last + 1] as number) : segment.size;
      const bytes = Buffer.allocUnsafe(finish - begin);
      let done = 0;
      while (done < bytes.length) {
        const n = this.files.read(segment.fd, bytes, done, bytes.length - done, begin + done);
        if (n === 0) throw new Error(`The stream's log file ${segment.path} ended early.`);
        done += n;
      }
      for (let index = first; index <= last; index++) {
        const at = (segment.offsets[index] as number) - begin;
        const keyStart = at + HEADER_BYTES;
        const dataStart = keyStart + bytes.readUInt16LE(at + KEY_LENGTH_AT);
        records.push({
          partitionKey: bytes.toString('utf8', keyStart, dataStart),
          data: bytes.subarray(dataStart, dataStart + (segment.dataBytes[index] as number)),
          arrivalSeconds: bytes.readDoubleLE(at + ARRIVAL_AT),
          arrivedAt: segment.arrived[index] as number,
        });
      }
      position = segment.start + last + 1;
    }
    return records;
  }

  /**
   * Releases the records before `position` (every consumer has passed them) and deletes the segments
   * that hold only such records — except the one appends go to, which is kept open for them (deleting
   * and creating a file for each put of a consumer that keeps up costs more than the disk it holds).
   */
  releaseBefore(position: number): void {
    const to = Math.min(position, this.next);
    if (to > this.first) this.first = to;
    for (let segment = this.segments[0]; segment !== undefined; segment = this.segments[0]) {
      if (segment.start + segment.count > position) return;
      if (segment === this.segments.at(-1) && !segment.sealed && segment.size < this.segmentBytes) return;
      this.segments.shift();
      this.written -= segment.size;
      drop(segment);
    }
  }

  /** Deletes every segment: the records are no longer needed. */
  clear(): void {
    for (const segment of this.segments.splice(0)) drop(segment);
    this.written = 0;
    this.first = this.next;
  }

  /** Closes the files and keeps them, for a later {@link ShardLog.open} to read back. */
  close(): void {
    for (const segment of this.segments.splice(0)) closeSync(segment.fd);
  }

  private takeBackPending(): void {
    this.staged = 0;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      const records = segment.count - segment.flushedCount;
      if (records === 0) continue;
      this.next -= records;
      this.written -= segment.size - segment.flushedSize;
      segment.count = segment.flushedCount;
      segment.size = segment.flushedSize;
      segment.pending = [];
      if (segment.count === 0) {
        this.segments.splice(i, 1);
        drop(segment);
      }
    }
  }

  /**
   * Reads back the segments a previous run left, in order of their first position, indexing every whole
   * frame whose CRC matches. The first frame that is cut short or damaged ends the log: that segment is
   * truncated there and the segments after it are deleted. Recovered segments take no more appends;
   * the next append opens a new one.
   */
  private recover(keyFits: ((partitionKey: string) => boolean) | undefined): LogRecovery {
    const pattern = new RegExp(`^${escapeRegExp(this.name)}-(\\d{12,})\\${SEGMENT_SUFFIX}$`);
    const found = readdirSync(this.dir)
      .map((file) => ({ file, match: pattern.exec(file) }))
      .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
      .map(({ file, match }) => ({ path: join(this.dir, file), start: Number(match[1]) }))
      .sort((a, b) => a.start - b.start);
    let records = 0;
    let discardedBytes = 0;
    let ended = false;
    let keysFit = true;
    for (const { path, start } of found) {
      const fd = openSync(path, 'r+');
      const size = fstatSync(fd).size;
      if (ended || (this.segments.length > 0 && start !== this.next)) {
        // After a damaged frame, or not where the log left off: not part of the log any more.
        ended = true;
        closeSync(fd);
        rmSync(path, { force: true });
        discardedBytes += size;
        continue;
      }
      const segment = newSegment(start, path, fd);
      const scanned = this.scan(segment, size, keyFits);
      const valid = scanned.bytes;
      keysFit &&= scanned.keysFit;
      if (valid < size) {
        ftruncateSync(fd, valid);
        discardedBytes += size - valid;
        ended = true;
      }
      if (segment.count === 0) {
        closeSync(fd);
        rmSync(path, { force: true });
        continue;
      }
      if (this.segments.length === 0) {
        this.first = start;
        this.next = start;
      }
      segment.size = valid;
      segment.flushedSize = valid;
      segment.flushedCount = segment.count;
      segment.sealed = true;
      this.segments.push(segment);
      this.written += valid;
      this.next += segment.count;
      records += segment.count;
    }
    return { records, discardedBytes, keysFit };
  }

  /**
   * Indexes a segment's intact frames; returns the bytes they take (where the first bad one starts),
   * and whether `keyFits` accepted every one of their keys.
   */
  private scan(
    segment: Segment,
    size: number,
    keyFits: ((partitionKey: string) => boolean) | undefined,
  ): { bytes: number; keysFit: boolean } {
    let keysFit = true;
    const arrivedAt = performance.now();
    let chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(size, HEADER_BYTES)));
    let chunkStart = 0;
    let chunkLength = 0;
    let at = 0;
    const fill = (from: number, need: number): boolean => {
      if (from + need > size) return false;
      if (from >= chunkStart && from + need <= chunkStart + chunkLength) return true;
      if (need > chunk.length) chunk = Buffer.allocUnsafe(need);
      chunkStart = from;
      chunkLength = 0;
      const want = Math.min(chunk.length, size - from);
      while (chunkLength < want) {
        const n = this.files.read(segment.fd, chunk, chunkLength, want - chunkLength, from + chunkLength);
        if (n === 0) return false;
        chunkLength += n;
      }
      return chunkLength >= need;
    };
    while (at < size) {
      if (!fill(at, HEADER_BYTES)) break;
      const h = at - chunkStart;
      const dataLength = chunk.readUInt32LE(h + DATA_LENGTH_AT);
      const keyLength = chunk.readUInt16LE(h + KEY_LENGTH_AT);
      const length = HEADER_BYTES + keyLength + dataLength;
      if (keyLength === 0 || length > MAX_FRAME_BYTES || !fill(at, length)) break;
      const f = at - chunkStart;
      const expected = chunk.readUInt32LE(f + CRC_AT);
      if (crc32(chunk.subarray(f + DATA_LENGTH_AT, f + length)) !== expected) break;
      if (keyFits !== undefined && keysFit) {
        keysFit = keyFits(chunk.toString('utf8', f + HEADER_BYTES, f + HEADER_BYTES + keyLength));
      }
      if (segment.count === segment.offsets.length) grow(segment);
      segment.offsets[segment.count] = at;
      segment.dataBytes[segment.count] = dataLength;
      segment.arrived[segment.count] = arrivedAt;
      segment.count++;
      at += length;
    }
    return { bytes: at, keysFit };
  }

  private openSegment(): Segment {
    const path = join(this.dir, `${this.name}-${String(this.next).padStart(12, '0')}${SEGMENT_SUFFIX}`);
    const segment = newSegment(this.next, path, openSync(path, 'w+'));
    this.segments.push(segment);
    return segment;
  }

  private locate(position: number): [Segment, number] {
    if (position < this.first || position >= this.next) {
      throw new RangeError(`Record ${position} is not in ${this.name}'s log [${this.first}, ${this.next}).`);
    }
    // Few segments (64 MB each): a backwards scan finds recent positions first.
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      if (position >= segment.start) {
        if (position - segment.start >= segment.count) break;
        return [segment, position - segment.start];
      }
    }
    throw new RangeError(`Record ${position} of ${this.name} was released.`);
  }
}

function newSegment(start: number, path: string, fd: number): Segment {
  return {
    start,
    path,
    fd,
    count: 0,
    size: 0,
    flushedCount: 0,
    flushedSize: 0,
    offsets: new Uint32Array(1024),
    dataBytes: new Uint32Array(1024),
    arrived: new Float64Array(1024),
    pending: [],
    sealed: false,
  };
}

function grow(segment: Segment): void {
  const size = segment.offsets.length * 2;
  const offsets = new Uint32Array(size);
  offsets.set(segment.offsets);
  const dataBytes = new Uint32Array(size);
  dataBytes.set(segment.dataBytes);
  const arrived = new Float64Array(size);
  arrived.set(segment.arrived);
  segment.offsets = offsets;
  segment.dataBytes = dataBytes;
  segment.arrived = arrived;
}

function drop(segment: Segment): void {
  closeSync(segment.fd);
  rmSync(segment.path, { force: true });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
