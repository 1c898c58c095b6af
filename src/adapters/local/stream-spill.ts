import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A record as the in-process stream hands it out: its bytes and what a batch needs of it. */
export interface SpilledRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrivalSeconds: number;
  /** Monotonic time of arrival (batching windows). */
  readonly arrivedAt: number;
}

/** Bytes of a frame's header: the partition key's length (u16) and the arrival time (f64). */
const HEADER_BYTES = 10;
/** A segment file is closed to appends past this size, so released records free disk in steps. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** How a spill reads and writes its files: `node:fs` positional I/O, or a twin that fails (tests). */
export interface SpillFiles {
  /** Writes `length` bytes of `buffer` from `offset` at `position` of the file; returns how many it wrote. */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Reads up to `length` bytes into `buffer` at `offset` from `position`; returns how many it read. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

export const NODE_SPILL_FILES: SpillFiles = {
  write: (fd, buffer, offset, length, position) => writeSync(fd, buffer, offset, length, position),
  read: (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, length, position),
};

/** Bytes a record takes in a spill file. */
export function frameBytes(partitionKey: string, dataBytes: number): number {
  return HEADER_BYTES + Buffer.byteLength(partitionKey, 'utf8') + dataBytes;
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
  pending: Buffer[];
}

/**
 * One shard's records past the stream's memory budget, on disk: positions `[start, end)` in segment
 * files of frames `[u16 key length][f64 arrival seconds][key][data]`, appended in order and read back
 * by position as the consumers reach them. What stays in memory is 16 bytes a record (where its frame
 * is, its length, its arrival) — a backlog of a million records costs 16 MB, not their data.
 * A segment is deleted once every consumer has passed it.
 */
export class ShardSpill {
  private readonly segments: Segment[] = [];
  private next: number;
  private written = 0;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    /** Position of the first record spilled. */
    readonly start: number,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
    private readonly files: SpillFiles = NODE_SPILL_FILES,
  ) {
    this.next = start;
  }

  /** Position after the last record. */
  get end(): number {
    return this.next;
  }

  /** Bytes on disk (and pending) in segments not yet deleted. */
  get bytes(): number {
    return this.written;
  }

  /** Appends a record at position {@link end}; it reaches the file at the next {@link flush}. Returns its frame's size. */
  append(partitionKey: string, data: Uint8Array, arrivalSeconds: number, arrivedAt: number): number {
    const key = Buffer.from(partitionKey, 'utf8');
    const frame = Buffer.allocUnsafe(HEADER_BYTES + key.length + data.byteLength);
    frame.writeUInt16LE(key.length, 0);
    frame.writeDoubleLE(arrivalSeconds, 2);
    key.copy(frame, HEADER_BYTES);
    frame.set(data, HEADER_BYTES + key.length);
    let segment = this.segments.at(-1);
    if (segment === undefined || (segment.count > 0 && segment.size + frame.length > this.segmentBytes)) {
      segment = this.open();
    }
    if (segment.count === segment.offsets.length) grow(segment);
    segment.offsets[segment.count] = segment.size;
    segment.dataBytes[segment.count] = data.byteLength;
    segment.arrived[segment.count] = arrivedAt;
    segment.count++;
    segment.size += frame.length;
    segment.pending.push(frame);
    this.written += frame.length;
    this.next++;
    return frame.length;
  }

  /** Records appended but not yet written ({@link flush}). */
  get pendingRecords(): number {
    let pending = 0;
    for (const segment of this.segments) pending += segment.count - segment.flushedCount;
    return pending;
  }

  /**
   * Writes what {@link append} queued (one write per segment). If a write fails (a full disk), every
   * record not yet written is taken back — positions from the first of them on are free again, as if
   * never appended — and the error is thrown: the caller reports those records as not put.
   */
  flush(): void {
    try {
      for (const segment of this.segments) {
        if (segment.pending.length === 0) continue;
        const bytes =
          segment.pending.length === 1 ? (segment.pending[0] as Buffer) : Buffer.concat(segment.pending);
        let done = 0;
        while (done < bytes.length) {
          done += this.files.write(segment.fd, bytes, done, bytes.length - done, segment.flushedSize + done);
        }
        segment.pending = [];
        segment.flushedCount = segment.count;
        segment.flushedSize = segment.size;
      }
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

  /** The records at `[from, to)`, read with one read per segment they span. */
  read(from: number, to: number): SpilledRecord[] {
    this.flush();
    const records: SpilledRecord[] = [];
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
        if (n === 0) throw new Error(`The stream's spill file ${segment.path} ended early.`);
        done += n;
      }
      for (let index = first; index <= last; index++) {
        const at = (segment.offsets[index] as number) - begin;
        const keyLength = bytes.readUInt16LE(at);
        const dataStart = at + HEADER_BYTES + keyLength;
        records.push({
          partitionKey: bytes.toString('utf8', at + HEADER_BYTES, dataStart),
          data: bytes.subarray(dataStart, dataStart + (segment.dataBytes[index] as number)),
          arrivalSeconds: bytes.readDoubleLE(at + 2),
          arrivedAt: segment.arrived[index] as number,
        });
      }
      position = segment.start + last + 1;
    }
    return records;
  }

  /** Deletes the segments whose records are all before `position` (every consumer has passed them). */
  releaseBefore(position: number): void {
    for (let segment = this.segments[0]; segment !== undefined; segment = this.segments[0]) {
      if (segment.start + segment.count > position) return;
      this.segments.shift();
      this.written -= segment.size;
      drop(segment);
    }
  }

  /** Deletes every segment. */
  close(): void {
    for (const segment of this.segments.splice(0)) drop(segment);
    this.written = 0;
  }

  private takeBackPending(): void {
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

  private open(): Segment {
    const path = join(this.dir, `${this.name}-${String(this.next).padStart(12, '0')}.spill`);
    const segment: Segment = {
      start: this.next,
      path,
      fd: openSync(path, 'w+'),
      count: 0,
      size: 0,
      flushedCount: 0,
      flushedSize: 0,
      offsets: new Uint32Array(1024),
      dataBytes: new Uint32Array(1024),
      arrived: new Float64Array(1024),
      pending: [],
    };
    this.segments.push(segment);
    return segment;
  }

  private locate(position: number): [Segment, number] {
    if (position < this.start || position >= this.next) {
      throw new RangeError(
        `Record ${position} is not in ${this.name}'s spill [${this.start}, ${this.next}).`,
      );
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
