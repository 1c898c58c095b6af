import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { BUS_SOURCE } from '../../src/core/events/bus-event';

export interface EventBusProps {
  /** The bus's name, unique in the account and region (by default the stack's, lowercase). */
  readonly busName: string;
  /** How long the archive keeps events for replay. */
  readonly archiveRetention: Duration;
}

/**
 * Mosaic's own EventBridge bus: the resolver and, later, segments and exports publish to it with
 * `source: "mosaic"` (`Profile Merged`, `Segment Membership Changed`, ...); rules and targets for
 * destinations are added to it by the activation constructs.
 *
 * Every Mosaic event is archived for a configured time, so events a destination missed (an outage, a
 * rule added later) can be replayed. The archive expires: events may name people.
 *
 * The bus has no resource policy: only principals of this account that are granted
 * `events:PutEvents` on it can publish.
 */
export class EventBus extends Construct {
  public readonly bus: events.EventBus;
  public readonly archive: events.Archive;

  constructor(scope: Construct, id: string, props: EventBusProps) {
    super(scope, id);
    const days = props.archiveRetention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`EventBus archiveRetention must be a whole number of days, at least 1, got ${days}`);
    }

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.busName,
      description: 'Mosaic events (source "mosaic"): profile merges, segment membership, exports',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every Mosaic event, for replay to destinations',
      eventPattern: { source: [BUS_SOURCE], account: [Stack.of(this).account] },
      retention: Duration.days(days),
    });
  }
}
