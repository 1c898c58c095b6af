import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { TableShape } from '../../src/adapters/aws/table-shape';

export interface HouseTableProps {
  /**
   * What happens to the table and its key when the stack is deleted. A retained table is also
   * protected against deletion, so it survives a stack update that would replace or remove it.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * How Mosaic keeps a DynamoDB table: the key shape its adapter declares (string `pk` / `sk`, a TTL
 * attribute), on-demand capacity (traffic follows the events, no capacity planning), point-in-time
 * recovery (a bad deployment or a bad write can be rolled back to any second of the last 35 days),
 * and its own customer managed key, rotated yearly: what the tables hold is personal data or points
 * at it, so reading it also needs the key policy, and every use of the key is in CloudTrail.
 *
 * A classic `Table`, not a `TableV2`: the stack is environment-agnostic (deployable to any account and
 * region), and `TableV2` cannot render a customer managed key for its replica without a concrete region.
 */
export abstract class HouseTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly encryptionKey: kms.IKey;

  protected constructor(
    scope: Construct,
    id: string,
    props: HouseTableProps & { readonly shape: TableShape; readonly keyDescription: string },
  ) {
    super(scope, id);

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: props.keyDescription,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: props.shape.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: props.shape.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: props.shape.timeToLiveAttribute,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
  }
}
