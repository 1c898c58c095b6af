import type { PutRecordBatchCommandInput, PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import type { PutRecordsCommandInput, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { JsonObject } from '../../src/core/events/stream-record';
import type { QuarantineRow } from '../../src/core/lake/quarantine-row';
import { decodeJson } from './collector-fixtures';

/** The records of one PutRecords call, decoded: partition key and the parsed record. */
export interface SentRecord {
  readonly partitionKey: string;
  readonly record: JsonObject;
  readonly bytes: Uint8Array;
}

export function decodePutRecords(input: Partial<PutRecordsCommandInput>): SentRecord[] {
  return (input.Records ?? []).map((r) => {
    if (r.Data === undefined || r.PartitionKey === undefined) throw new Error('record without Data');
    return { partitionKey: r.PartitionKey, record: decodeJson(r.Data), bytes: r.Data };
  });
}

/**
 * A PutRecords answer in Kinesis' shape: each record succeeds unless `errorFor` returns an error
 * code for it.
 */
export function putRecordsAnswer(
  input: PutRecordsCommandInput,
  errorFor: (record: SentRecord, index: number) => string | undefined = () => undefined,
): Partial<PutRecordsCommandOutput> {
  const records = decodePutRecords(input);
  // As the service does: one key past its limit fails the whole call, not that record.
  const tooLong = records.find((r) => [...r.partitionKey].length > 256);
  if (tooLong !== undefined)
    throw Object.assign(
      new Error(`1 validation error detected: partitionKey of length ${[...tooLong.partitionKey].length}`),
      {
        name: 'ValidationException',
      },
    );
  let failed = 0;
  const Records = records.map((record, i) => {
    const code = errorFor(record, i);
    if (code === undefined) return { SequenceNumber: `4959${i}`, ShardId: 'shardId-000000000000' };
    failed++;
    return { ErrorCode: code, ErrorMessage: `Rate exceeded for shard shardId-000000000000` };
  });
  return { FailedRecordCount: failed, Records };
}

/** A quarantine row as the Firehose sink writes it (one NDJSON line per record). */
export type QuarantineLine = QuarantineRow;

export function decodePutRecordBatch(input: Partial<PutRecordBatchCommandInput>): QuarantineLine[] {
  return (input.Records ?? []).map((r) => {
    if (r.Data === undefined) throw new Error('record without Data');
    const text = new TextDecoder('utf-8', { fatal: true }).decode(r.Data);
    if (!text.endsWith('\n')) throw new Error('a quarantine line must end with a newline');
    return JSON.parse(text) as QuarantineLine;
  });
}

/** A PutRecordBatch answer in Firehose's shape; `errorFor` picks records that fail. */
export function putRecordBatchAnswer(
  input: PutRecordBatchCommandInput,
  errorFor: (index: number) => string | undefined = () => undefined,
): Partial<PutRecordBatchCommandOutput> {
  let failed = 0;
  const RequestResponses = (input.Records ?? []).map((_, i) => {
    const code = errorFor(i);
    if (code === undefined) return { RecordId: `rec-${i}` };
    failed++;
    return { ErrorCode: code, ErrorMessage: 'Slow down.' };
  });
  return { FailedPutCount: failed, Encrypted: false, RequestResponses };
}
