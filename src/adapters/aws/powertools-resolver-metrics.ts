import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ResolverMetrics } from '../../ports/resolver-metrics';

const EVENT_METRICS = {
  applied: 'EventsApplied',
  duplicate: 'EventsDuplicate',
  beyond_dedupe_horizon: 'EventsBeyondDedupeHorizon',
  unresolvable: 'EventsUnresolvable',
} as const;

/**
 * {@link ResolverMetrics} as CloudWatch metrics through Powertools (EMF, flushed per invocation).
 * Dimensions are identifier type names and reason codes only — never a value.
 */
export function powertoolsResolverMetrics(metrics: Metrics): ResolverMetrics {
  const withDimensions = (name: string, dimensions: Record<string, string>) => {
    const single = metrics.singleMetric();
    single.addDimensions(dimensions);
    single.addMetric(name, MetricUnit.Count, 1);
  };
  return {
    event(outcome) {
      // One metric per outcome without dimensions: values add up within the invocation's EMF line.
      metrics.addMetric(EVENT_METRICS[outcome], MetricUnit.Count, 1);
    },
    identifierRejected(type, reason) {
      withDimensions('IdentifierValuesRejected', { identifierType: type, reason });
    },
    identifierDropped(type, limitType) {
      withDimensions('IdentifiersDroppedByLimit', { identifierType: type, limitType });
    },
    profileCreated() {
      metrics.addMetric('ProfilesCreated', MetricUnit.Count, 1);
    },
    profileMerged() {
      metrics.addMetric('ProfilesMerged', MetricUnit.Count, 1);
    },
    conflict() {
      metrics.addMetric('WriteConflicts', MetricUnit.Count, 1);
    },
    profileWarning(code) {
      withDimensions('ProfileWarnings', { code });
    },
  };
}
