import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fnvShardIndexOf,
  positionOfSequenceNumber,
  sequenceNumberOf,
  shardIndexOf,
  shardPicker,
} from '../../src/adapters/local/kinesis-shape';

describe('Kinesis-shaped sequence numbers', () => {
  it('are 49, the shard in 6 digits and the position in 48, and read back to the position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999 }),
        fc.oneof(fc.nat({ max: 1_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        (shard, position) => {
          const sequenceNumber = sequenceNumberOf(shard, position);
          expect(sequenceNumber).toBe(
            `49${String(shard).padStart(6, '0')}${String(position).padStart(48, '0')}`,
          );
          expect(positionOfSequenceNumber(shard, sequenceNumber)).toBe(position);
          expect(positionOfSequenceNumber((shard + 1) % 1000, sequenceNumber)).toBeUndefined();
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('sort as text in the order of their positions, across lengths of the position', () => {
    const positions = [0, 9, 10, 99, 100, 123_456, 10 ** 15, Number.MAX_SAFE_INTEGER];
    const numbers = positions.map((position) => sequenceNumberOf(3, position));
    expect([...numbers].sort()).toStrictEqual(numbers);
  });
});

describe('Partitioning a key to a shard', () => {
  it('maps like Kinesis with md5: the top of the key MD5 as a 128-bit hash key, in equal slices', () => {
    // MD5("a") = 0cc175b9…, MD5("b") = 92eb5ffe…, MD5("d") = 8277e091…, MD5("f") = 8fa14cdd…
    expect(['a', 'b', 'd', 'f'].map((key) => shardIndexOf(key, 2))).toEqual([0, 1, 1, 1]);
    expect(['a', 'b', 'd', 'f'].map((key) => shardIndexOf(key, 16))).toEqual([0, 9, 8, 8]);
  });

  it('spreads keys evenly over the shards with fnv1a, for random and for sequential ids', () => {
    const uuids = Array.from({ length: 40_000 }, () => randomUUID());
    const sequential = Array.from({ length: 40_000 }, (_, i) => `user-${i}`);
    for (const keys of [uuids, sequential]) {
      for (const shardCount of [2, 3, 4, 7, 16]) {
        const counts = new Array<number>(shardCount).fill(0);
        for (const key of keys) {
          const shard = fnvShardIndexOf(key, shardCount);
          counts[shard] = (counts[shard] ?? 0) + 1;
        }
        const expected = keys.length / shardCount;
        for (const count of counts) expect(Math.abs(count - expected) / expected).toBeLessThan(0.1);
      }
    }
  });

  it('gives each key one shard in range, the one the picker for its partitioning gives', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 256, unit: 'binary' }),
        fc.integer({ min: 1, max: 1000 }),
        (key, n) => {
          const shard = fnvShardIndexOf(key, n);
          expect(Number.isInteger(shard) && shard >= 0 && shard < n).toBe(true);
          expect(fnvShardIndexOf(key, n)).toBe(shard);
          expect(shardPicker('fnv1a', n)(key)).toBe(shard);
          expect(shardPicker('md5', n)(key)).toBe(shardIndexOf(key, n));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('maps a key with lone surrogates where its UTF-8 (as the log keeps it) maps, and pairs as they are', () => {
    const unit = fc.oneof(
      fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', '\uffff', '\u8000'),
      fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }),
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit }),
        fc.integer({ min: 2, max: 64 }),
        (key, n) => {
          const asLogged = Buffer.from(key, 'utf8').toString('utf8');
          expect(fnvShardIndexOf(key, n)).toBe(fnvShardIndexOf(asLogged, n));
        },
      ),
      { numRuns: 2_000 },
    );
    // A lone surrogate is U+FFFD, not dropped: the keys still differ in what they hash.
    const shardsOf = (keys: string[]) => keys.map((key) => fnvShardIndexOf(key, 1 << 30));
    expect(shardsOf(['a\ud800b'])).toEqual(shardsOf(['a\ufffdb']));
    expect(new Set(shardsOf(['a\ud800b', 'ab', 'a\ud83d\ude00b'])).size).toBe(3);
  });
});
