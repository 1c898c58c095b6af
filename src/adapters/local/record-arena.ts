/** Size of an arena's chunks; a record larger than an eighth of one gets an array of its own. */
const DEFAULT_CHUNK_BYTES = 64 * 1024;

/**
 * The in-process stream's own copies of the records one shard holds, packed one after another into
 * chunks of 64 KiB. A chunk is never written again once a record is in it (each record's bytes are
 * its own for as long as anyone holds them), and it is freed by the garbage collector once the last
 * record in it is. A shard releases its records in the order they came, so its chunks are freed in
 * order too, and a shard that stops (a failing batch retried) holds only its own chunks.
 *
 * Against `Buffer.from(record)`, which copies small records into Node's shared 8 KiB pool: an
 * ArrayBuffer for every 90 records of 700 bytes instead of every 11, and a pool chunk no longer
 * mixes the records of several shards with anything else the process copies.
 */
export class RecordArena {
  private chunk = new Uint8Array(0);
  private used = 0;

  constructor(private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {}

  /** A copy of `record`'s bytes, which nothing else writes to. */
  copy(record: Uint8Array): Uint8Array {
    const bytes = record.byteLength;
    if (bytes > this.chunkBytes / 8) return new Uint8Array(record);
    if (this.used + bytes > this.chunk.byteLength) {
      this.chunk = new Uint8Array(this.chunkBytes);
      this.used = 0;
    }
    const start = this.used;
    this.chunk.set(record, start);
    this.used = start + bytes;
    return new Uint8Array(this.chunk.buffer, start, bytes);
  }
}
