import { BUS_SOURCE } from '../events/bus-event';
import { AUDIENCE_EXPORT_COMPLETED, SEGMENT_MEMBERSHIP_CHANGED } from '../events/bus-events';
import { compileEventPattern, type EventMatcher, type EventPattern } from '../events/event-pattern';
import type { Destination } from './destination-config';

/**
 * Which events reach which destination: each destination has its own EventBridge rule (its isolation:
 * rule → queue → function), and the local bus routes with the same pattern through the same matcher.
 *
 * A destination receives, for the segments it subscribes to:
 * - `Audience Export Completed` of an export requested for no destination in particular, or for it
 *   (an export requested for another destination is that destination's alone);
 * - `Segment Membership Changed` found by a streaming segment (`trigger: "event"`). Changes found by
 *   an export are not routed to destinations: the export's own event already delivers them, and
 *   routing both would send the same people twice.
 *
 * Disabled destinations have no rule.
 */
/**
 * The most characters an EventBridge rule's event pattern may have (the service's default quota; a
 * pattern longer than this fails the deploy, not the synth).
 */
export const MAX_RULE_PATTERN_CHARS = 2048;

export function destinationRulePattern(destination: Pick<Destination, 'name' | 'segments'>): EventPattern {
  const segmentId = [...destination.segments];
  return {
    source: [BUS_SOURCE],
    $or: [
      {
        'detail-type': [AUDIENCE_EXPORT_COMPLETED],
        detail: { segmentId, destination: [{ exists: false }] },
      },
      { 'detail-type': [AUDIENCE_EXPORT_COMPLETED], detail: { segmentId, destination: [destination.name] } },
      { 'detail-type': [SEGMENT_MEMBERSHIP_CHANGED], detail: { segmentId, trigger: ['event'] } },
    ],
  };
}

/**
 * A router over configured destinations: the enabled destinations an event (envelope) goes to, in
 * configuration order.
 */
export function createDestinationRouter<D extends Pick<Destination, 'name' | 'segments' | 'enabled'>>(
  destinations: readonly D[],
): (event: unknown) => D[] {
  const rules: [D, EventMatcher][] = destinations
    .filter((d) => d.enabled)
    .map((d) => [d, compileEventPattern(destinationRulePattern(d))]);
  return (event) => rules.filter(([, matches]) => matches(event)).map(([d]) => d);
}
