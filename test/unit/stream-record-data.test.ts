import type { KinesisStreamRecordPayload } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { payloadWithBytes, recordData } from '../../src/ports/stream-record-data';

const fields = {
  kinesisSchemaVersion: '1.0',
  partitionKey: 'anon-1',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  approximateArrivalTimestamp: 1_795_000_000.5,
};

describe('stream record data', () => {
  it('reads a Kinesis payload by decoding its base64 data', () => {
    const payload: KinesisStreamRecordPayload = {
      ...fields,
      data: Buffer.from('{"type":"track"}').toString('base64'),
    };
    expect(recordData(payload).toString('utf8')).toBe('{"type":"track"}');
  });

  it('hands over the bytes the in-process stream attached, without a copy', () => {
    const held = Buffer.from('xx{"type":"page","name":"Ünïcode"}yy').subarray(2, -2);
    const payload = payloadWithBytes(fields, held);
    const data = recordData(payload);
    expect(data.toString('utf8')).toBe('{"type":"page","name":"Ünïcode"}');
    expect(data.buffer).toBe(held.buffer);
    expect(data.byteOffset).toBe(held.byteOffset);
  });

  it('still has base64 `data`, enumerable: it serialises and compares as a Kinesis payload', () => {
    const bytes = Buffer.from([0, 255, 10, 123, 34]);
    const payload = payloadWithBytes(fields, bytes);
    const kinesis = { ...fields, data: bytes.toString('base64') };
    expect(payload.data).toBe(kinesis.data);
    expect(JSON.parse(JSON.stringify(payload))).toEqual(kinesis);
    expect(payload).toEqual(kinesis);
    expect(Object.keys(payload).sort()).toEqual(Object.keys(kinesis).sort());
    // A copy made the way a handler might (spread) keeps the data, though not the attached bytes.
    expect(recordData({ ...payload })).toEqual(bytes);
  });
});
