import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IDENTITY_TABLE } from '../../src/adapters/aws/identity-table';

export interface IdentityTableProps {
  /**
   * What happens to the table and its key when the stack is deleted. A retained table is also
   * protected against deletion, so it survives a stack update that would replace or remove it.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The identity graph and profiles: one DynamoDB table with the key shape of `IDENTITY_TABLE` (string
 * `pk` / `sk`, TTL attribute `expiresAt`), shared with the local runtime and the adapter's tests.
 *
 * On-demand capacity (traffic follows the events stream, no capacity planning), point-in-time
 * recovery (a bad deployment or a bad merge can be rolled back to any second of the last 35 days),
 * and its own customer managed key, rotated yearly: profiles are personal data, so reading them also
 * needs the key policy, and every use of the key is in CloudTrail.
 *
 * A classic `Table`, not a `TableV2`: the stack is environment-agnostic (deployable to any account and
 * region), and `TableV2` cannot render a customer managed key for its replica without a concrete region.
 */
export class IdentityTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: IdentityTableProps) {
    super(scope, id);

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic identity table encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: IDENTITY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: IDENTITY_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: IDENTITY_TABLE.timeToLiveAttribute,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
  }
}
