import type { IdentityLink } from '../../core/identity/identity-link';
import { toIdentityLinkRow } from '../../core/lake/tables';
import type { IdentityLinkSink } from '../../ports/identity-link-sink';
import { LakeWriter, type LakeWriterOptions, type LakeWriterStats } from './lake-writer';

export type LakeIdentityLinkSinkOptions = Omit<LakeWriterOptions, 'table'>;

/**
 * The local twin of the Firehose identity-links stream: the `identity_links` table as Snappy Parquet
 * under `<dataDir>/lake/identity_links/dt=YYYY-MM-DD/hour=HH/` (partitioned by `linked_at`, UTC), with
 * exactly the `IDENTITY_LINK_COLUMNS`, so DuckDB reads the table with one `read_parquet` glob, exactly
 * as `events`. Built on {@link LakeWriter}: `put` resolves once the rows are appended to a staging
 * file (a restart writes what a crash left there), and rejects if the writer is closed, backed up or
 * cannot append. Rows are written every `flushIntervalMs` (default 2 s), on `flush()` and on
 * `close()`, each Parquet file under a temporary name and renamed, so readers never see a partial one.
 */
export class LakeIdentityLinkSink implements IdentityLinkSink {
  private constructor(private readonly writer: LakeWriter) {}

  /** Opens the sink; rows a previous run staged but did not write are written first. */
  static async open(options: LakeIdentityLinkSinkOptions): Promise<LakeIdentityLinkSink> {
    return new LakeIdentityLinkSink(await LakeWriter.open({ ...options, table: 'identity_links' }));
  }

  put(links: readonly IdentityLink[]): Promise<void> {
    return this.writer.stageRows(links.map(toIdentityLinkRow));
  }

  /** Writes every link put so far. Rejects if a write fails; the links stay staged and are retried. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Stops taking links, writes what is staged and closes DuckDB; calling it again retries a failed write. */
  close(): Promise<void> {
    return this.writer.close();
  }

  /** Rows landed in Parquet, buffered (staged, not yet written), files written, write failures. */
  stats(): LakeWriterStats {
    return this.writer.stats();
  }
}
