import { type Duration, NestedStack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DestinationsConfig } from '../../src/core/activation/destination-config';
import type { IdentityConfig } from '../../src/core/identity/identity-config';
import type { AthenaWorkgroup } from './athena-workgroup';
import { DeliveryLedgerTable } from './delivery-ledger-table';
import { DeliveryPayloadBucket } from './delivery-payload-bucket';
import { DestinationDelivery } from './destination-delivery';

export interface ActivationProps {
  /** The configured destinations; each enabled one gets a {@link DestinationDelivery}. */
  readonly destinations: DestinationsConfig;
  readonly identity: IdentityConfig;
  readonly eventBus: events.IEventBus;
  readonly identityTable: dynamodb.ITable;
  readonly segmentsTable: dynamodb.ITable;
  readonly workGroup: AthenaWorkgroup;
  readonly databaseName: string;
  readonly exportsBucket: s3.IBucket;
  readonly alarmTopic: sns.ITopic;
  /** Receives the payload bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  readonly maxReceiveCount: number;
  readonly oldestMessageAlarmThreshold: Duration;
  readonly payloadExpiration: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The delivery function's entry, relative to the repository root.
   * @default DESTINATION_DELIVERY_ENTRY
   */
  readonly deliveryEntry?: string;
}

/**
 * Activation (issue #5): audiences out of the Mosaic bus to destinations. What the destinations share —
 * the delivery ledger (idempotency across retries, redrives and archive replays) and the bucket for
 * payloads too large for their transport — and one isolated {@link DestinationDelivery} per enabled
 * destination (rule → queue → function, dead-letter queue, alarms). A disabled destination has
 * nothing: no rule, no queue, no function.
 *
 * Each delivery is a nested stack of its own (`Stack.of(delivery)`). A delivery is 14 resources, and
 * CloudFormation takes at most 500 in one stack: in the Mosaic stack itself, besides the ~150 of
 * everything else, no more than two dozen destinations would fit, where the configuration allows
 * 100. A nested stack is one resource of the Mosaic stack, one per destination rather than a group of
 * them, so that adding, removing or reordering destinations never moves another's queues, whose
 * names are fixed, from one stack to another.
 */
export class Activation extends Construct {
  public readonly ledgerTable: DeliveryLedgerTable;
  public readonly payloads: DeliveryPayloadBucket;
  /** One per enabled destination, in configuration order. */
  public readonly deliveries: readonly DestinationDelivery[];

  constructor(scope: Construct, id: string, props: ActivationProps) {
    super(scope, id);
    this.ledgerTable = new DeliveryLedgerTable(this, 'LedgerTable', { removalPolicy: props.removalPolicy });
    this.payloads = new DeliveryPayloadBucket(this, 'Payloads', {
      accessLogsBucket: props.accessLogsBucket,
      payloadExpiration: props.payloadExpiration,
      removalPolicy: props.removalPolicy,
    });
    this.deliveries = props.destinations.destinations
      .filter((destination) => destination.enabled)
      .map((destination) => {
        const stack = new NestedStack(this, `Destination-${destination.name}`, {
          description: `Mosaic destination ${destination.name}: rule, queues, delivery function and alarms`,
        });
        return new DestinationDelivery(stack, 'Delivery', {
          destination,
          destinations: props.destinations,
          identity: props.identity,
          eventBus: props.eventBus,
          identityTable: props.identityTable,
          segmentsTable: props.segmentsTable,
          ledgerTable: this.ledgerTable.table,
          workGroup: props.workGroup,
          databaseName: props.databaseName,
          exportsBucket: props.exportsBucket,
          payloadBucket: this.payloads.bucket,
          alarmTopic: props.alarmTopic,
          maxReceiveCount: props.maxReceiveCount,
          oldestMessageAlarmThreshold: props.oldestMessageAlarmThreshold,
          logRetention: props.logRetention,
          removalPolicy: props.removalPolicy,
          ...(props.deliveryEntry === undefined ? {} : { entry: props.deliveryEntry }),
        });
      });
  }
}
