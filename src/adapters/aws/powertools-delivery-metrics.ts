import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DeliveryMetrics } from '../../ports/delivery-metrics';

/**
 * {@link DeliveryMetrics} as CloudWatch metrics through Powertools (EMF, flushed per invocation), with
 * the destination as the only dimension (set on the `Metrics` instance): members sent, suppressed by
 * consent and failed; batches sent, failed and skipped as already delivered; continuations. Counts
 * only — never an id or value.
 */
export function powertoolsDeliveryMetrics(metrics: Metrics): DeliveryMetrics {
  return {
    delivery(result) {
      if (!('summary' in result)) {
        metrics.addMetric('DeliveriesNotRouted', MetricUnit.Count, 1);
        return;
      }
      const { summary } = result;
      metrics.addMetric('MembersSent', MetricUnit.Count, summary.sent);
      metrics.addMetric('MembersSuppressedByConsent', MetricUnit.Count, summary.suppressedByConsent);
      metrics.addMetric('MembersFailed', MetricUnit.Count, summary.failed);
      metrics.addMetric('BatchesSent', MetricUnit.Count, summary.batches.sent);
      metrics.addMetric('BatchesFailed', MetricUnit.Count, summary.batches.failed);
      metrics.addMetric('BatchesAlreadyDelivered', MetricUnit.Count, result.alreadyDelivered);
      metrics.addMetric(
        result.outcome === 'paused' ? 'DeliveriesContinued' : 'DeliveriesCompleted',
        MetricUnit.Count,
        1,
      );
    },
    badMessage() {
      metrics.addMetric('BadMessages', MetricUnit.Count, 1);
    },
  };
}
