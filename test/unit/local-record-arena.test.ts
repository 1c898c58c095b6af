import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordArena } from '../../src/adapters/local/record-arena';

describe('RecordArena', () => {
  it('gives copies that keep their bytes whatever happens to the originals and later copies', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3_000 }), { maxLength: 200 }), (records) => {
        const arena = new RecordArena(16 * 1024);
        const copies = records.map((record) => arena.copy(record));
        const expected = records.map((record) => Uint8Array.from(record));
        for (const record of records) record.fill(0xff);
        expect(copies.map((copy) => Uint8Array.from(copy))).toStrictEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('packs small records into shared chunks, one after another, and gives a large one its own', () => {
    const arena = new RecordArena(1024);
    const first = arena.copy(new Uint8Array(100).fill(1));
    const second = arena.copy(new Uint8Array(100).fill(2));
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset + 100);
    // Over an eighth of a chunk: a buffer of its own, exactly its size.
    const large = arena.copy(new Uint8Array(129).fill(3));
    expect(large.buffer).not.toBe(first.buffer);
    expect(large.buffer.byteLength).toBe(129);
    // A full chunk is left as it is and a new one started; nothing already copied moves.
    const copies = Array.from({ length: 9 }, (_, i) => arena.copy(new Uint8Array(100).fill(10 + i)));
    expect(copies[7]?.buffer).toBe(first.buffer);
    expect(copies[8]?.buffer).not.toBe(first.buffer);
    expect(copies[8]?.byteOffset).toBe(0);
    expect([...first]).toStrictEqual(new Array(100).fill(1));
    expect([...(copies[7] ?? [])]).toStrictEqual(new Array(100).fill(17));
  });

  it('copies an empty record as an empty array', () => {
    expect(new RecordArena().copy(new Uint8Array(0)).byteLength).toBe(0);
  });
});
