import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * What every Mosaic bucket has: private (Block Public Access, owner-enforced objects), TLS 1.2+ only,
 * encrypted — with the given customer-managed key (and S3 Bucket Keys), or with S3-managed keys where
 * a service requires it (server access logs) — and the deployment's removal policy, emptied on
 * deletion only when the stack is meant to be destroyed.
 */
export function bucketDefaults(options: {
  readonly removalPolicy: RemovalPolicy;
  readonly encryptionKey?: kms.IKey;
}): s3.BucketProps {
  return {
    ...(options.encryptionKey === undefined
      ? { encryption: s3.BucketEncryption.S3_MANAGED }
      : {
          encryption: s3.BucketEncryption.KMS,
          encryptionKey: options.encryptionKey,
          bucketKeyEnabled: true,
        }),
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    removalPolicy: options.removalPolicy,
    autoDeleteObjects: options.removalPolicy === RemovalPolicy.DESTROY,
  };
}
