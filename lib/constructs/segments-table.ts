import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SEGMENT_TABLE } from '../../src/adapters/aws/segment-table';

export interface SegmentsTableProps {
  /**
   * What happens to the table and its key when the stack is deleted. A retained table is also
   * protected against deletion, so it survives a stack update that would replace or remove it.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Segment definitions, exports and running previews: one DynamoDB table with the key shape of
 * `SEGMENT_TABLE` (string `pk` / `sk`, TTL attribute `expiresAt` for preview items), shared with the
 * local runtime, the adapter's tests and the export workflow, which updates export and segment
 * items directly.
 *
 * Like the identity table: on-demand capacity, point-in-time recovery, and its own customer managed
 * key, rotated yearly — definitions name traits and values chosen by marketers, and export items
 * name the files that hold personal data. A classic `Table` for the same reason as the identity table
 * (the stack is environment-agnostic).
 */
export class SegmentsTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: SegmentsTableProps) {
    super(scope, id);

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic segments table encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: SEGMENT_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SEGMENT_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: SEGMENT_TABLE.timeToLiveAttribute,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
  }
}
