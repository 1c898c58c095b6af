import type { RejectionCode } from '../core/collector/prepare-ingest';

/**
 * What the collector counts: Powertools metrics (EMF) in AWS, the live counters of `npm start` locally.
 * Never given PII: only counts, source names and reason codes.
 */
export interface IngestMetrics {
  accepted(source: string, count: number): void;
  rejected(source: string, code: RejectionCode, count: number): void;
  /** Entries the stream did not take on an attempt and that were retried. */
  streamRetried(count: number): void;
}

export const noMetrics: IngestMetrics = { accepted() {}, rejected() {}, streamRetried() {} };
