import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { quarantineLine, toQuarantineRow } from '../../core/lake/quarantine-row';
import type { QuarantinedMessage, QuarantineSink } from '../../ports/quarantine-sink';
import type { RetryPolicy } from './batched-calls';
import { FIREHOSE_LIMITS, type FirehoseRetryOptions, putFirehoseRecords } from './firehose-records';

/**
 * Retries of refused quarantine records: few and short, as the collector answers its request only
 * after the quarantine put (within API Gateway's 30 s).
 */
export const QUARANTINE_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 25, maxDelayMs: 250 };

/**
 * {@link QuarantineSink} on a Firehose DirectPut stream that lands NDJSON (gzip) in the lake's
 * `quarantine/` prefix. One JSON line per message with the `quarantine` table's columns. Records
 * Firehose refuses are retried alone with a jittered back-off; whatever still fails makes `put` reject.
 */
export class FirehoseQuarantineSink implements QuarantineSink {
  constructor(
    private readonly client: FirehoseClient,
    private readonly deliveryStreamName: string,
    private readonly options: FirehoseRetryOptions = {},
  ) {}

  async put(messages: readonly QuarantinedMessage[]): Promise<void> {
    const lines = messages.map((m) => quarantineLine(toQuarantineRow(m), FIREHOSE_LIMITS.bytesPerRecord));
    await putFirehoseRecords(this.client, this.deliveryStreamName, lines, {
      retry: QUARANTINE_RETRY,
      ...this.options,
      what: 'quarantine records',
    });
  }
}
