import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fileDropKey, renderCsv } from '../../core/activation/csv-file';
import type { S3Destination } from '../../core/activation/destination-config';
import type { HttpOutcome } from '../../core/activation/http-retry';
import { EXPORT_ID } from '../../core/segments/export-plan';
import type { DestinationSender, OutboundBatch } from '../../ports/destination-sender';
import { awsErrorOutcome } from './aws-send-outcome';

export interface S3FileDropSenderOptions {
  readonly destination: S3Destination;
  readonly s3: S3Client;
}

/**
 * The S3 file drop (direct mail, print): each batch as a CSV file rendered by `renderCsv` — the same
 * rendering as the local twin (`FileDropSender`) — put at `<prefix><exportId>/batch-<index>.csv` in the
 * destination's bucket. S3 puts are atomic (a reader never sees half a file) and a retry replaces the
 * same object. The payload template does not apply: the file's columns are the destination's `csv`.
 */
export class S3FileDropSender implements DestinationSender {
  constructor(private readonly options: S3FileDropSenderOptions) {}

  /** The key a batch goes to. */
  keyOf(exportId: string, batchIndex: number): string {
    if (!EXPORT_ID.test(exportId)) throw new RangeError('not an export id');
    return fileDropKey(this.options.destination.prefix, exportId, batchIndex);
  }

  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const { destination, s3 } = this.options;
    const body = Buffer.from(renderCsv(destination.csv.columns, batch.members), 'utf8');
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: destination.bucket,
          Key: this.keyOf(batch.context.exportId, batch.context.batch.index),
          Body: body,
          ContentType: 'text/csv; charset=utf-8',
          ContentLength: body.byteLength,
          ChecksumAlgorithm: 'SHA256',
          Metadata: { 'mosaic-idempotency-key': batch.context.idempotencyKey },
        }),
      );
      return { kind: 'response', status: 200 };
    } catch (error) {
      return awsErrorOutcome(error);
    }
  }
}
