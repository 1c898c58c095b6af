import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderCsv } from '../../core/activation/csv-file';
import type { S3Destination } from '../../core/activation/destination-config';
import type { HttpOutcome } from '../../core/activation/http-retry';
import { EXPORT_ID } from '../../core/segments/export-plan';
import type { DestinationSender, OutboundBatch } from '../../ports/destination-sender';
import { destinationFolder } from './file-delivery-ledger';

export interface FileDropSenderOptions {
  readonly destination: S3Destination;
  /** Files go under `<dataDir>/destinations/<name>/`. */
  readonly dataDir: string;
}

/**
 * The S3 file drop's local twin: each batch as a CSV file (`renderCsv`, the destination's columns) at
 * `<dataDir>/destinations/<name>/<exportId>/batch-<index>.csv`, written under a hidden name and
 * renamed into place, so a reader never sees half a file and a retry replaces the same file. Reports
 * 200 when the file is in place; a file system error as a (retryable) network error with its code.
 */
export class FileDropSender implements DestinationSender {
  constructor(private readonly options: FileDropSenderOptions) {}

  /** The file a batch goes to. */
  fileOf(exportId: string, batchIndex: number): string {
    if (!EXPORT_ID.test(exportId)) throw new RangeError('not an export id');
    return join(
      destinationFolder(this.options.dataDir, this.options.destination.name),
      exportId,
      `batch-${batchIndex}.csv`,
    );
  }

  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const file = this.fileOf(batch.context.exportId, batch.context.batch.index);
    const folder = join(file, '..');
    const temporary = join(
      folder,
      `.batch-${batch.context.batch.index}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      await mkdir(folder, { recursive: true });
      await writeFile(temporary, renderCsv(this.options.destination.csv.columns, batch.members));
      await rename(temporary, file);
      return { kind: 'response', status: 200 };
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      return { kind: 'network_error', code: typeof code === 'string' ? code : 'file_error' };
    }
  }
}
