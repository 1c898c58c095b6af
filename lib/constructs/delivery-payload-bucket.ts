import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketDefaults } from './bucket-defaults';

/**
 * Where large payloads are written: `payloads/{exportId}/{destination}/{batch}.json`
 * (`payloadPointerKey` of `src/core/activation/delivery-plan.ts`, with the bucket's root as prefix).
 */
export const PAYLOADS_PREFIX = 'payloads/';

/** The IAM key pattern of one destination's payloads: each delivery writes its own folder only. */
export const destinationPayloadKeys = (destination: string) => `${PAYLOADS_PREFIX}*/${destination}/*`;

export interface DeliveryPayloadBucketProps {
  /** Receives the bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Age at which payloads expire. */
  readonly payloadExpiration: Duration;
  /** What happens to the bucket, its objects and its key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where a batch too large for its transport (over 256 KB for an SQS queue or a Lambda function)
 * is written, so that the target receives an S3 pointer instead (`mosaicPayloadPointer`: bucket,
 * key, size, SHA-256). A private bucket with its own customer managed key (rotated yearly), TLS
 * only, access-logged, unversioned (a retry overwrites the same key) and expiring after a few days:
 * payloads hold personal data, so the target must read a pointer within that time.
 *
 * The delivery functions may only write here. A target that reads pointers needs `s3:GetObject`
 * on the bucket's objects and `kms:Decrypt` on {@link encryptionKey}: grant its role both.
 */
export class DeliveryPayloadBucket extends Construct {
  public readonly bucket: s3.IBucket;
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: DeliveryPayloadBucketProps) {
    super(scope, id);
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic delivery payloads encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...bucketDefaults({ removalPolicy: props.removalPolicy, encryptionKey: this.encryptionKey }),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'delivery-payloads/',
      lifecycleRules: [
        {
          id: 'expire-payloads',
          expiration: props.payloadExpiration,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
