import { describe, expect, it } from 'vitest';
import { RecordBuffers } from '../../src/core/collector/record-buffers';

describe('RecordBuffers', () => {
  it('lends a buffer given back again, empty, and a new one while every kept one is out', () => {
    const buffers = new RecordBuffers({ bufferBytes: 1024 });
    const a = buffers.lend();
    const b = buffers.lend();
    expect(b.bytes).not.toBe(a.bytes);
    expect(a.bytes.byteLength).toBe(1024);
    a.used = 700;
    buffers.giveBack(a);
    const again = buffers.lend();
    expect(again.bytes).toBe(a.bytes);
    expect(again.used).toBe(0);
  });

  it('refuses a buffer given back twice, which would be lent to two requests at once', () => {
    const buffers = new RecordBuffers();
    const a = buffers.lend();
    buffers.giveBack(a);
    expect(() => buffers.giveBack(a)).toThrow(/given back twice/);
  });

  it('keeps at most maxKept buffers for reuse', () => {
    const buffers = new RecordBuffers({ bufferBytes: 16, maxKept: 2 });
    const out = [buffers.lend(), buffers.lend(), buffers.lend()];
    for (const buffer of out) buffers.giveBack(buffer);
    const lentAgain = [buffers.lend(), buffers.lend(), buffers.lend()].map((buffer) => buffer.bytes);
    expect(lentAgain.filter((bytes) => out.some((buffer) => buffer.bytes === bytes))).toHaveLength(2);
  });
});
