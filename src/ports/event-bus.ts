import type { BusEnvelope, BusEvent } from '../core/events/bus-event';

export type { BusEnvelope, BusEvent } from '../core/events/bus-event';

/**
 * Where Mosaic announces what happened (`Profile Merged`, `Segment Membership Changed`, ...), with
 * `source: "mosaic"`: EventBridge in AWS, an in-process bus with EventBridge pattern matching locally.
 * Delivery to targets is at least once and in no particular order: consumers dedupe by the id in the
 * detail (e.g. the ledger entry id).
 */
export interface EventBus {
  /**
   * Publishes the events: resolves once the bus has accepted every one; rejects otherwise (some may
   * have been accepted: publishing again may deliver those twice). An event the bus can never take
   * (over 256 KiB, no detail type, a detail that is not a JSON object) rejects the whole call before
   * anything is sent, naming the event.
   */
  publish(events: readonly BusEvent[]): Promise<void>;
}

/** A target of the local bus: resolves once it handled the event; a rejection is retried. */
export type BusTarget = (event: BusEnvelope) => Promise<void>;
