import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IDependable } from 'constructs';
import { EXPORT_MEMBER_COLUMNS } from '../../src/core/segments/export-plan';
import { bucketDefaults } from './bucket-defaults';
import { injectedParquetTableInput } from './lake-catalog';

/** Where export folders live in the exports bucket: `exports/segment_id=S/export_id=E/`. */
export const EXPORTS_PREFIX = 'exports/';
/** The Glue table over every export's `members/` folder. */
export const EXPORT_MEMBERS_TABLE = 'export_members';
/** Its partition keys, in folder order. */
export const EXPORT_MEMBERS_PARTITION_KEYS = ['segment_id', 'export_id'] as const;

export interface AudienceExportsProps {
  /** The Glue database of the lake; `export_members` is created in it. */
  readonly databaseName: string;
  /** What creates that database: the table is created after it. */
  readonly database: IDependable;
  /**
   * Encrypts the bucket: the Athena workgroup's key, since the files its `UNLOAD`s write here are
   * encrypted with it anyway (see `AthenaWorkgroup`).
   */
  readonly encryptionKey: kms.IKey;
  /** Receives the exports bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Age at which export files expire. */
  readonly exportExpiration: Duration;
  /** What happens to the bucket and its objects when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where audience exports land: a private bucket (customer managed key, versioned, TLS only,
 * access-logged) with one folder per export — `exports/segment_id=S/export_id=E/` holding `members/`
 * (Parquet, read back through {@link EXPORT_MEMBERS_TABLE}), `audience/` (the file for people and
 * destinations, CSV or Parquet) and `changes/` (who entered or left since the previous export).
 *
 * Everything in it is personal data, so every file expires, and a replaced or deleted one goes a
 * day later. Keep exports longer than the time between two exports of a segment: the next export's
 * changes compare with the previous one's members.
 *
 * The `export_members` table (in the lake's database) has the columns `profile_id`, `c0`..`c99`, so
 * one table serves every export whatever its columns, and partition projection of type `injected`
 * on `segment_id` and `export_id`: every query names the export it reads, and Athena reads exactly
 * that folder, without partitions to register.
 */
export class AudienceExports extends Construct {
  public readonly bucket: s3.IBucket;
  public readonly membersTable: glue.CfnTable;
  /** `s3://{bucket}/exports` (no trailing slash): the root export folders are under. */
  public readonly exportsRoot: string;

  constructor(scope: Construct, id: string, props: AudienceExportsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const bucket = new s3.Bucket(this, 'Bucket', {
      ...bucketDefaults({ removalPolicy: props.removalPolicy, encryptionKey: props.encryptionKey }),
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        {
          id: 'expire-exports',
          expiration: props.exportExpiration,
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    this.bucket = bucket;
    this.exportsRoot = `s3://${bucket.bucketName}/${EXPORTS_PREFIX.replace(/\/$/, '')}`;

    const partitions = EXPORT_MEMBERS_PARTITION_KEYS.map((key) => `${key}=\${${key}}`).join('/');
    this.membersTable = new glue.CfnTable(this, 'MembersTable', {
      catalogId: stack.account,
      databaseName: props.databaseName,
      tableInput: injectedParquetTableInput({
        name: EXPORT_MEMBERS_TABLE,
        location: `s3://${bucket.bucketName}/${EXPORTS_PREFIX}`,
        locationTemplate: `s3://${bucket.bucketName}/${EXPORTS_PREFIX}${partitions}/members/`,
        columns: [
          { name: 'profile_id', type: 'string' },
          ...EXPORT_MEMBER_COLUMNS.map((name) => ({ name, type: 'string' as const })),
        ],
        partitionKeys: EXPORT_MEMBERS_PARTITION_KEYS,
      }),
    });
    this.membersTable.node.addDependency(props.database);
  }
}
