import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { packBatch, unpackBatch } from '../../src/local/resolver-thread-protocol';
import { payloadWithBytes, recordData } from '../../src/ports/stream-record-data';

const record = (n: number, kinesis: KinesisStreamRecord['kinesis']): KinesisStreamRecord => ({
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: `shardId-000000000000:${n}`,
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
  awsRegion: 'eu-west-1',
  eventSourceARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/events',
  kinesis,
});

const fields = (n: number) => ({
  kinesisSchemaVersion: '1.0',
  partitionKey: `anon-${n}`,
  sequenceNumber: String(49_000_000 + n),
  approximateArrivalTimestamp: 1_795_000_000 + n,
});

describe('resolver thread protocol: a batch crosses to the thread as one transferred buffer', () => {
  it('arrives as the same event, each record with its own bytes, from the in-process stream or Kinesis', () => {
    const texts = ['{"type":"track","event":"Ünïcode"}', '', '{"type":"page"}', 'x'.repeat(70_000)];
    // Held bytes share buffers, as the stream's records do; a Kinesis payload has base64 data.
    const pool = Buffer.from(texts.slice(0, 3).join(''));
    let offset = 0;
    const records = texts.map((text, n) => {
      if (n === 3) return record(n, { ...fields(n), data: Buffer.from(text).toString('base64') });
      const length = Buffer.byteLength(text);
      const bytes = pool.subarray(offset, offset + length);
      offset += length;
      return record(n, payloadWithBytes(fields(n), bytes));
    });
    const event: KinesisStreamEvent = { Records: records };

    const packed = packBatch(event);
    // What the thread receives: a structured clone, the buffer transferred (detached here).
    const received = structuredClone(packed, { transfer: [packed.data] });
    expect(packed.data.byteLength).toBe(0);
    const unpacked = unpackBatch(received);

    expect(unpacked.Records.map((r) => recordData(r.kinesis).toString('utf8'))).toEqual(texts);
    // The same event in every field, base64 data included, as the handler would have seen it.
    expect(JSON.parse(JSON.stringify(unpacked))).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('keeps the fields records do not share, record by record, and sends the ones they share once', () => {
    const bytes = Buffer.from('{}');
    const records = [0, 1, 2].map((n) => record(n, payloadWithBytes(fields(n), bytes)));
    // Not what one shard's batch holds, but a batch may: another region and schema version.
    const odd = {
      ...record(3, payloadWithBytes({ ...fields(3), kinesisSchemaVersion: '2.0' }, bytes)),
      awsRegion: 'us-east-1',
    };
    const event: KinesisStreamEvent = { Records: [...records, odd] };
    const packed = packBatch(event);
    expect(packed.fields.eventSourceARN).toEqual({
      all: 'arn:aws:kinesis:eu-west-1:000000000000:stream/events',
    });
    expect(packed.fields.awsRegion).toEqual({ each: ['eu-west-1', 'eu-west-1', 'eu-west-1', 'us-east-1'] });
    const unpacked = unpackBatch(structuredClone(packed, { transfer: [packed.data] }));
    expect(JSON.parse(JSON.stringify(unpacked))).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it('packs an empty batch', () => {
    expect(unpackBatch(structuredClone(packBatch({ Records: [] }))).Records).toEqual([]);
  });
});
