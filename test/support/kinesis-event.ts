import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/**
 * A Lambda Kinesis event as an event source mapping delivers it: each payload base64-encoded, with
 * increasing sequence numbers of one shard.
 */
export function kinesisEvent(payloads: readonly (string | object)[]): KinesisStreamEvent {
  return { Records: payloads.map((payload, index) => kinesisRecord(payload, index)) };
}

export function kinesisRecord(payload: string | object, index: number): KinesisStreamRecord {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: `pk-${index}`,
      sequenceNumber: `4959000000000000000000000000000000000000000000000${String(index).padStart(7, '0')}`,
      data: Buffer.from(text, 'utf8').toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000 + index,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${index}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/resolver',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/mosaic-events',
  };
}
