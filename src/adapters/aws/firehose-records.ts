import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ServiceUnavailableError } from '../../core/errors';
import { type EntryRetryOptions, packRequests, type RetryPolicy, sendRetryingRefused } from './batched-calls';

/** Firehose PutRecordBatch limits: 500 records and 4 MiB per call, 1,000 KiB per record. */
export const FIREHOSE_LIMITS = {
  recordsPerCall: 500,
  bytesPerCall: 4 * 1024 * 1024,
  bytesPerRecord: 1000 * 1024,
} as const;

/** Default retries of records Firehose refuses (throttling, internal errors): 5 attempts, ≤ 1 s apart. */
export const DEFAULT_FIREHOSE_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000 };

/** How a Firehose adapter retries refused records (see {@link EntryRetryOptions}). */
export type FirehoseRetryOptions = EntryRetryOptions;

/**
 * Hands records (each at most {@link FIREHOSE_LIMITS}.bytesPerRecord; the caller makes them fit) to a
 * DirectPut delivery stream: PutRecordBatch calls within Firehose's limits, one after another; the
 * records Firehose refuses in a call are offered again, alone, after a jittered back-off. Resolves
 * once every record is accepted; otherwise rejects with {@link ServiceUnavailableError} saying how
 * many `what` (e.g. "quarantine records") were not, or with the SDK's error for a call refused whole.
 * Records accepted before a rejection stay accepted (Firehose cannot take them back).
 */
export async function putFirehoseRecords(
  client: FirehoseClient,
  deliveryStreamName: string,
  records: readonly Uint8Array<ArrayBuffer>[],
  options: FirehoseRetryOptions & { readonly what: string },
): Promise<void> {
  const requests = packRequests(records, (record) => record.byteLength, {
    maxItems: FIREHOSE_LIMITS.recordsPerCall,
    maxBytes: FIREHOSE_LIMITS.bytesPerCall,
  });
  for (const request of requests) {
    const refused = await sendRetryingRefused(
      request,
      async (pending) => {
        const out = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: deliveryStreamName,
            Records: pending.map((Data) => ({ Data })),
          }),
        );
        if (!out.FailedPutCount) return [];
        return (out.RequestResponses ?? []).flatMap((r, index) =>
          r.ErrorCode ? [{ index, code: r.ErrorCode }] : [],
        );
      },
      { ...options, defaultRetry: DEFAULT_FIREHOSE_RETRY },
    );
    if (refused.length > 0) {
      throw new ServiceUnavailableError(
        `${refused.length} ${options.what} were not accepted by Firehose (${refused[0]?.code})`,
      );
    }
  }
}
