import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { powertoolsDeliveryMetrics } from '../../src/adapters/aws/powertools-delivery-metrics';
import { emptySummary } from '../../src/core/activation/delivery-plan';

describe('powertoolsDeliveryMetrics', () => {
  it('counts members sent, suppressed by consent and failed, batches and the outcome of each delivery', () => {
    const metrics = new Metrics({ namespace: 'Mosaic', serviceName: 'destination-delivery' });
    const added = vi.spyOn(metrics, 'addMetric');
    const counted = powertoolsDeliveryMetrics(metrics);
    const summary = {
      ...emptySummary({ exportId: 'x1', segmentId: 's', destination: 'crm' }),
      sent: 40,
      suppressedByConsent: 7,
      failed: 10,
      batches: { total: 6, sent: 4, failed: 1, empty: 1 },
    };
    counted.delivery({ outcome: 'delivered', summary, alreadyDelivered: 2 });
    counted.delivery({ outcome: 'paused', summary: emptySummary(summary), alreadyDelivered: 0 });
    counted.delivery({ outcome: 'not_routed' });
    counted.badMessage();
    const totals = new Map<string, number>();
    for (const [name, , value] of added.mock.calls) totals.set(name, (totals.get(name) ?? 0) + Number(value));
    expect(Object.fromEntries(totals)).toEqual({
      MembersSent: 40,
      MembersSuppressedByConsent: 7,
      MembersFailed: 10,
      BatchesSent: 4,
      BatchesFailed: 1,
      BatchesAlreadyDelivered: 2,
      DeliveriesCompleted: 1,
      DeliveriesContinued: 1,
      DeliveriesNotRouted: 1,
      BadMessages: 1,
    });
  });
});
