import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { positionOfSequenceNumber, sequenceNumberOf } from '../../src/adapters/local/kinesis-shape';

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
