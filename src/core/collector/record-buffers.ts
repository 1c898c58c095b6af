/** A buffer one request's records are encoded into: `bytes` up to `used` are taken. */
export interface RecordBuffer {
  readonly bytes: Buffer;
  used: number;
  /** Whether it is lent out (a buffer given back twice would be lent to two requests at once). */
  lent: boolean;
}

export interface RecordBuffersOptions {
  /** Size of each buffer. Default 64 KiB: three 20-message batches of browser events. */
  readonly bufferBytes?: number;
  /** Most buffers kept for reuse; more given back are left to the garbage collector. Default 64. */
  readonly maxKept?: number;
}

/**
 * Buffers the collector encodes a request's records into, one lent to each request and given back
 * once its stream put has resolved, when the event stream port lets a caller reuse an entry's bytes
 * (the in-process stream has copied them, Kinesis has received them). A buffer used again stays in
 * the old generation and in the CPU's caches. A fresh one every few requests costs its first writes
 * (page faults and cache misses, about a third of the encoding) and becomes an ArrayBuffer the garbage
 * collector frees only in a full collection. Records that do not fit in a request's buffer are
 * encoded into the collector's shared slab instead (see `encodeAll`).
 */
export class RecordBuffers {
  private readonly kept: RecordBuffer[] = [];
  private readonly bufferBytes: number;
  private readonly maxKept: number;

  constructor(options: RecordBuffersOptions = {}) {
    this.bufferBytes = options.bufferBytes ?? 64 * 1024;
    this.maxKept = options.maxKept ?? 64;
  }

  /** A buffer for one request's records, empty. */
  lend(): RecordBuffer {
    const buffer = this.kept.pop() ?? {
      bytes: Buffer.allocUnsafeSlow(this.bufferBytes),
      used: 0,
      lent: false,
    };
    buffer.used = 0;
    buffer.lent = true;
    return buffer;
  }

  /** Takes a buffer back once nothing reads the records in it any more. */
  giveBack(buffer: RecordBuffer): void {
    if (!buffer.lent) throw new Error('A record buffer was given back twice.');
    buffer.lent = false;
    if (this.kept.length < this.maxKept) this.kept.push(buffer);
  }
}
