import * as crypto from 'node:crypto';
import { MAX_PARTITION_KEY_CHARS } from '../../core/events/stream-record';

/**
 * The pieces of Kinesis's data model the in-process stream reproduces: how a partition key picks a
 * shard, what shard ids and sequence numbers look like, and the ARNs a Lambda event carries.
 */

/** Kinesis's limit on a partition key, in Unicode characters. */
export const MAX_PARTITION_KEY_LENGTH = MAX_PARTITION_KEY_CHARS;
/** Kinesis's limit on one record's data blob. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** `shardId-000000000003`, as Kinesis names shards. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

const TWO_POW_48 = 2 ** 48;

const md5Hex: (key: string) => string =
  typeof crypto.hash === 'function'
    ? (key) => crypto.hash('md5', key, 'hex')
    : (key) => crypto.createHash('md5').update(key).digest('hex');

/**
 * The shard a partition key maps to. Kinesis takes the MD5 of the key as a 128-bit hash key and gives
 * each of N shards an equal slice of that space; the top 48 bits decide the slice exactly when N is a
 * power of two and within one hash key of the boundary otherwise.
 */
export function shardIndexOf(partitionKey: string, shardCount: number): number {
  const top48 = Number.parseInt(md5Hex(partitionKey).slice(0, 12), 16);
  return Math.floor((top48 / TWO_POW_48) * shardCount);
}

/**
 * How the in-process stream picks a partition key's shard. `md5` is Kinesis's own mapping (above);
 * `fnv1a` hashes the key's UTF-16 code units with FNV-1a and mixes the result with MurmurHash3's
 * finaliser: about 80 ns for an id of 36 characters against about 400 for MD5, with nothing
 * allocated. Either keeps every key on one shard, which is all the stream's order rests on: its shard
 * count is its own (4 by default), not the one an on-demand Kinesis stream has, so no consumer can
 * rely on which shard a key lands on. A log written with one mapping is read back with it (see
 * `partitioning` in the stream's checkpoints).
 */
export const PARTITIONINGS = ['md5', 'fnv1a'] as const;
export type Partitioning = (typeof PARTITIONINGS)[number];

const TWO_POW_32 = 2 ** 32;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const REPLACEMENT_CHARACTER = 0xfffd;

/**
 * The shard a partition key maps to with `fnv1a` ({@link PARTITIONINGS}). A lone surrogate counts as
 * U+FFFD, as in the key's UTF-8, so a key read back from the log maps where it mapped when put.
 */
export function fnvShardIndexOf(partitionKey: string, shardCount: number): number {
  let hash = FNV_OFFSET;
  let bits = 0;
  for (let i = 0; i < partitionKey.length; i++) {
    const code = partitionKey.charCodeAt(i);
    bits |= code;
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  // Every surrogate has bit 15 set: a key with no such code unit (most) needs no second look.
  if ((bits & 0x8000) !== 0) hash = fnvOfWellFormed(partitionKey);
  // The finaliser makes every bit of the key move the top bits, which pick the shard.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return Math.floor(((hash >>> 0) / TWO_POW_32) * shardCount);
}

/** FNV-1a of the key's code units, each lone surrogate taken as U+FFFD. */
function fnvOfWellFormed(partitionKey: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < partitionKey.length; i++) {
    let code = partitionKey.charCodeAt(i);
    if ((code & 0xf800) === 0xd800) {
      const next = partitionKey.charCodeAt(i + 1);
      if (code < 0xdc00 && (next & 0xfc00) === 0xdc00) {
        hash = Math.imul(hash ^ code, FNV_PRIME);
        code = next;
        i++;
      } else {
        code = REPLACEMENT_CHARACTER;
      }
    }
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  return hash;
}

/** The function that maps a partition key to its shard, for a partitioning and a shard count. */
export function shardPicker(
  partitioning: Partitioning,
  shardCount: number,
): (partitionKey: string) => number {
  return partitioning === 'md5'
    ? (partitionKey) => shardIndexOf(partitionKey, shardCount)
    : (partitionKey) => fnvShardIndexOf(partitionKey, shardCount);
}

const SEQUENCE_DIGITS = 48;

/** By shard, and by the number of digits of the position: `49`, the shard index and the zeros. */
const sequenceHeads: string[][] = [];

/**
 * Sequence numbers are decimal strings of a fixed 56 digits (like the ones Kinesis returns), so string
 * order is numeric order within a shard: `49` + the shard index (6 digits) + the record's position in
 * the shard (48 digits). Every record delivered gets one, for every subscription, so the part before
 * the position's digits is made once per shard and length (about 20 ns a number instead of 85).
 */
export function sequenceNumberOf(shardIndex: number, position: number): string {
  const digits = String(position);
  let heads = sequenceHeads[shardIndex];
  if (heads === undefined) {
    heads = [];
    sequenceHeads[shardIndex] = heads;
  }
  let head = heads[digits.length];
  if (head === undefined) {
    const zeros = '0'.repeat(Math.max(0, SEQUENCE_DIGITS - digits.length));
    head = `49${String(shardIndex).padStart(6, '0')}${zeros}`;
    heads[digits.length] = head;
  }
  return head + digits;
}

/** The position in its shard of a sequence number made by {@link sequenceNumberOf}, or undefined. */
export function positionOfSequenceNumber(shardIndex: number, sequenceNumber: unknown): number | undefined {
  if (typeof sequenceNumber !== 'string' || sequenceNumber.length !== 56) return undefined;
  if (sequenceNumber.slice(0, 8) !== `49${String(shardIndex).padStart(6, '0')}`) return undefined;
  const position = Number(sequenceNumber.slice(8));
  return Number.isSafeInteger(position) ? position : undefined;
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` */
export function streamArnOf(region: string, accountId: string, streamName: string): string {
  return `arn:aws:kinesis:${region}:${accountId}:stream/${streamName}`;
}
