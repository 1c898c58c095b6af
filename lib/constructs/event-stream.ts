import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EventStreamProps {
  /** How long records stay readable (24 to 8,760 hours). */
  readonly retentionHours: number;
  /** What happens to the stream and its key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The `events` stream: every accepted message, in per-person order, for the lake's Firehose and the
 * resolver. On-demand capacity, so it scales with traffic without shard planning; encrypted with its
 * own customer managed key (rotated yearly), so access to the data is governed by the key as well.
 */
export class EventStream extends Construct {
  public readonly stream: kinesis.IStream;
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: EventStreamProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionHours) || props.retentionHours < 24 || props.retentionHours > 8760) {
      throw new Error(
        `EventStream retentionHours must be an integer from 24 to 8760, got ${props.retentionHours}`,
      );
    }

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic events stream encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    const stream = new kinesis.Stream(this, 'Stream', {
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.encryptionKey,
      retentionPeriod: Duration.hours(props.retentionHours),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'A customer managed key is deliberate: events carry personal data, so reading them also needs the key policy, every use is in CloudTrail, and disabling the key cuts off every reader at once. Kinesis reuses data keys, so KMS requests grow with the number of producers and consumers, not with traffic.',
    });
    this.stream = stream;
  }
}
