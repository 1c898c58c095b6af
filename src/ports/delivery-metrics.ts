import type { DeliverySummary } from '../core/activation/delivery-plan';

/** A delivery's result as the delivery use case returns it (`DeliverAudienceResult`). */
export type DeliveryOutcome =
  | { readonly outcome: 'not_routed' | 'ignored' }
  | {
      readonly outcome: 'delivered' | 'paused';
      readonly summary: DeliverySummary;
      readonly alreadyDelivered: number;
    };

/**
 * What a destination's delivery function counts (issue #5): per delivery, members sent, suppressed by
 * consent and failed, batches, continuations; and queue messages that are not deliveries. CloudWatch
 * through Powertools in AWS. Counts only — never an id or value.
 */
export interface DeliveryMetrics {
  delivery(result: DeliveryOutcome): void;
  /** A queue message that is not a delivery (not JSON, not a known shape, another destination's). */
  badMessage(): void;
}
