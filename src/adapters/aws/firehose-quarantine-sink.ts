import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { ServiceUnavailableError } from '../../core/errors';
import { quarantineLine, toQuarantineRow } from '../../core/lake/quarantine-row';
import type { QuarantinedMessage, QuarantineSink } from '../../ports/quarantine-sink';

/** Firehose PutRecordBatch limits: 500 records and 4 MiB per call, 1,000 KiB per record. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_RECORD_BYTES = 1000 * 1024;
const MAX_CALL_BYTES = 4 * 1024 * 1024;
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
    const lines = messages.map((m) => quarantineLine(toQuarantineRow(m), MAX_RECORD_BYTES));
    let call: Uint8Array<ArrayBuffer>[] = [];
    let bytes = 0;
    for (const line of lines) {
      if (
        call.length === MAX_RECORDS_PER_CALL ||
        (call.length > 0 && bytes + line.byteLength > MAX_CALL_BYTES)
      ) {
        await this.putCall(call);
        call = [];
        bytes = 0;
      }
      call.push(line);
      bytes += line.byteLength;
    }
    if (call.length > 0) await this.putCall(call);
  }

  /** One PutRecordBatch within the limits; records Firehose refuses are offered again. */
  private async putCall(records: readonly Uint8Array<ArrayBuffer>[]): Promise<void> {
    let pending = records;
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
