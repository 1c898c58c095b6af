import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { EventStream, PutOutcome, StreamEntry } from '../../ports/event-stream';

/** Kinesis PutRecords limits: 500 records and 5 MiB per call. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;

/**
 * {@link EventStream} on a Kinesis data stream. Entries are split into PutRecords calls within
 * Kinesis' limits and sent one call after another — calls in flight together may be stored in any
 * order, which would break the per-partition-key order consumers rely on. Once a call reports any
 * failed entry, or fails as a whole, the entries after it are not sent but reported failed too, so a
 * caller that retries the failed entries resends them in their original order.
 */
export class KinesisEventStream implements EventStream {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  async put(entries: readonly StreamEntry[]): Promise<PutOutcome> {
    const failed: Array<{ index: number; reason: string }> = [];
    for (const { start, items } of chunk(entries)) {
      if (failed.length > 0) {
        for (let i = 0; i < items.length; i++)
          failed.push({ index: start + i, reason: 'NotAttemptedAfterEarlierFailure' });
        continue;
      }
      try {
        const out = await this.client.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: items.map(
              (e): PutRecordsRequestEntry => ({ PartitionKey: e.partitionKey, Data: e.data }),
            ),
          }),
        );
        if (!out.FailedRecordCount) continue;
        (out.Records ?? []).forEach((record, i) => {
          if (record.ErrorCode) failed.push({ index: start + i, reason: record.ErrorCode });
        });
      } catch (error) {
        const reason = error instanceof Error ? error.name : 'PutRecordsFailed';
        for (let i = 0; i < items.length; i++) failed.push({ index: start + i, reason });
      }
    }
    return { failed };
  }
}

/** Splits entries into runs that respect the per-call record and byte limits. */
function chunk(entries: readonly StreamEntry[]): Array<{ start: number; items: StreamEntry[] }> {
  const chunks: Array<{ start: number; items: StreamEntry[] }> = [];
  let current: StreamEntry[] = [];
  let start = 0;
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = entry.data.byteLength + Buffer.byteLength(entry.partitionKey);
    if (
      current.length === MAX_RECORDS_PER_CALL ||
      (current.length > 0 && bytes + size > MAX_BYTES_PER_CALL)
    ) {
      chunks.push({ start, items: current });
      current = [];
      start = index;
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  });
  if (current.length > 0) chunks.push({ start, items: current });
  return chunks;
}
