import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RejectionCode } from '../../core/collector/prepare-ingest';
import type { IngestMetrics } from '../../ports/ingest-metrics';

/** {@link IngestMetrics} as CloudWatch metrics through Powertools (EMF, flushed per invocation). */
export function powertoolsIngestMetrics(metrics: Metrics): IngestMetrics {
  return {
    accepted(source, count) {
      metrics.addDimension('source', source);
      metrics.addMetric('MessagesAccepted', MetricUnit.Count, count);
    },
    rejected(source: string, code: RejectionCode, count: number) {
      const single = metrics.singleMetric();
      single.addDimensions({ source, reason: code });
      single.addMetric('MessagesRejected', MetricUnit.Count, count);
    },
    streamRetried(count) {
      metrics.addMetric('StreamEntriesRetried', MetricUnit.Count, count);
    },
  };
}
