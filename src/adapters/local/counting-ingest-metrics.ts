import type { RejectionCode } from '../../core/collector/prepare-ingest';
import type { IngestMetrics } from '../../ports/ingest-metrics';

/** The local twin of the collector's CloudWatch metrics: plain counters for the live console line. */
export class CountingIngestMetrics implements IngestMetrics {
  acceptedTotal = 0;
  rejectedTotal = 0;
  streamRetriedTotal = 0;
  readonly rejectedByCode = new Map<RejectionCode, number>();

  accepted(_source: string, count: number): void {
    this.acceptedTotal += count;
  }

  rejected(_source: string, code: RejectionCode, count: number): void {
    this.rejectedTotal += count;
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + count);
  }

  streamRetried(count: number): void {
    this.streamRetriedTotal += count;
  }
}
