import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ServiceUnavailableError } from '../../core/errors';
import { quarantineLine, toQuarantineRow } from '../../core/lake/quarantine-row';
import type { QuarantinedMessage, QuarantineSink } from '../../ports/quarantine-sink';

/** Firehose PutRecordBatch limits: 500 records and 4 MiB per call, 1,000 KiB per record. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_RECORD_BYTES = 1000 * 1024;
const MAX_ATTEMPTS = 3;

/**
 * {@link QuarantineSink} on a Firehose DirectPut stream that lands NDJSON (gzip) in the lake's
 * `quarantine/` prefix. One JSON line per message with the `quarantine` table's columns. Failed
 * records are retried; whatever still fails makes `put` reject.
 */
export class FirehoseQuarantineSink implements QuarantineSink {
  constructor(
    private readonly client: FirehoseClient,
    private readonly deliveryStreamName: string,
  ) {}

  async put(messages: readonly QuarantinedMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += MAX_RECORDS_PER_CALL) {
      await this.putChunk(messages.slice(start, start + MAX_RECORDS_PER_CALL));
    }
  }

  private async putChunk(messages: readonly QuarantinedMessage[]): Promise<void> {
    let pending = messages.map((m) => quarantineLine(toQuarantineRow(m), MAX_RECORD_BYTES));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await this.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: this.deliveryStreamName,
          Records: pending.map((Data) => ({ Data })),
        }),
      );
      if (!out.FailedPutCount) return;
      const current = pending;
      pending = (out.RequestResponses ?? []).flatMap((r, i) =>
        r.ErrorCode ? [current[i] as Uint8Array<ArrayBuffer>] : [],
      );
      if (attempt >= MAX_ATTEMPTS && pending.length > 0) {
        throw new ServiceUnavailableError(
          `${pending.length} quarantine records were not accepted by Firehose`,
        );
      }
    }
  }
}
