import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { bucketDefaults } from './bucket-defaults';
import { nagAttributeRef } from './nag-references';

/** Where in the results bucket Athena writes query results (`results/{queryExecutionId}.csv`, ...). */
export const ATHENA_RESULTS_PREFIX = 'results/';

/** The Athena actions a query runner calls: start, poll, stop, read results. */
export const ATHENA_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:StopQueryExecution',
  'athena:GetQueryResults',
] as const;

/** Catalog reads Athena makes with the caller's permissions (partition projection: no partition writes). */
export const GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'] as const;

/** Objects under `prefixes` of `bucket`, encrypted with `key` when it is a customer managed one. */
export interface DataLocation {
  readonly bucket: s3.IBucket;
  /** Key prefixes ending in `/` (`events/`). */
  readonly prefixes: readonly string[];
  readonly key?: kms.IKey;
}

/** What a query may touch besides the workgroup and its results. */
export interface QueryAccess {
  /** The Glue database and the tables in it that queries read. */
  readonly databaseName: string;
  readonly tables: readonly string[];
  /** Data queries read (Athena reads it with the caller's permissions). */
  readonly read: readonly DataLocation[];
  /** Where queries write (`UNLOAD ... TO`); readable too. */
  readonly write?: readonly DataLocation[];
}

/** Athena's smallest per-query scan limit (10 MB). */
const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

export interface AthenaWorkgroupProps {
  /** The workgroup's name (unique in the account and region). */
  readonly workGroupName: string;
  /** Most bytes one query may scan before Athena cancels it (at least 10,000,000). */
  readonly bytesScannedCutoffPerQuery: number;
  /** Age at which query results expire. */
  readonly resultExpiration: Duration;
  /** Receives the results bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * What happens to the results bucket and the key when the stack is deleted (`DESTROY` empties the
   * bucket). The workgroup itself is always deleted: see {@link AthenaWorkgroup}.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The Athena workgroup segment previews and exports run in, with its configuration enforced (a query
 * cannot choose another result location, drop encryption or lift the limit):
 *
 * - Athena engine version 3 (UNLOAD, execution parameters), CloudWatch metrics per query;
 * - a per-query scan limit, so one careless segment cannot scan the whole lake at any price;
 * - results in their own private bucket (access-logged, TLS only, expiring), encrypted with SSE-KMS
 *   under the workgroup's customer managed key, owned by this account.
 *
 * Files a query writes elsewhere (`UNLOAD`) are encrypted as its results are, so the same key
 * ({@link encryptionKey}) encrypts the export files: whoever reads exports needs only this key.
 *
 * The workgroup is deleted with the stack whatever the removal policy, saved queries and prepared
 * statements included: it holds settings, not data (the results stay in the results bucket, which
 * the removal policy keeps), and a retained workgroup would keep its name, so that deploying the
 * stack again after `cdk destroy` would fail on it.
 */
export class AthenaWorkgroup extends Construct {
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly workGroupName: string;
  /** The workgroup's ARN, for IAM. */
  public readonly workGroupArn: string;
  public readonly resultsBucket: s3.IBucket;
  /** Encrypts query results and whatever the workgroup's queries write (`UNLOAD`). */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AthenaWorkgroupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (
      !Number.isInteger(props.bytesScannedCutoffPerQuery) ||
      props.bytesScannedCutoffPerQuery < MIN_BYTES_SCANNED_CUTOFF
    ) {
      throw new Error(
        `AthenaWorkgroup bytesScannedCutoffPerQuery must be a whole number of bytes, at least ${MIN_BYTES_SCANNED_CUTOFF}, got ${props.bytesScannedCutoffPerQuery}`,
      );
    }

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Mosaic segment query results and exports encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    this.resultsBucket = new s3.Bucket(this, 'ResultsBucket', {
      ...bucketDefaults({ removalPolicy: props.removalPolicy, encryptionKey: this.encryptionKey }),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        {
          id: 'expire-results',
          expiration: props.resultExpiration,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'Mosaic segment previews and audience exports',
      state: 'ENABLED',
      // Deleted even when it holds saved queries or prepared statements (see the class comment).
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          expectedBucketOwner: stack.account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.encryptionKey.keyArn },
        },
      },
    });
    this.workGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);
    // The reference (the name) makes whatever uses the workgroup depend on it.
    this.workGroupName = this.workGroup.ref;
    this.workGroupArn = stack.formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: this.workGroup.ref,
    });
  }

  /**
   * What a principal needs to run queries in this workgroup: Athena runs them with the caller's
   * permissions, so besides the Athena actions ({@link ATHENA_QUERY_ACTIONS}, on this workgroup only)
   * the caller needs the catalog (read only, the named tables only), the data it reads and writes
   * (by prefix) and the results bucket (read and write under {@link ATHENA_RESULTS_PREFIX}), and the
   * keys of all of them, only through S3. Attach the statements to `principal`'s policy, and call
   * {@link acknowledgeQueryAccess} on the construct holding it.
   */
  queryPolicyStatements(access: QueryAccess): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const read = [...access.read, { bucket: this.resultsBucket, prefixes: [ATHENA_RESULTS_PREFIX] }];
    const write = [
      ...(access.write ?? []),
      { bucket: this.resultsBucket, prefixes: [ATHENA_RESULTS_PREFIX], key: this.encryptionKey },
    ];
    const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } };
    const readKeys = unique([...access.read, ...write].flatMap((l) => (l.key ? [l.key.keyArn] : [])));
    const writeKeys = unique(write.flatMap((l) => (l.key ? [l.key.keyArn] : [])));
    return [
      new iam.PolicyStatement({ actions: [...ATHENA_QUERY_ACTIONS], resources: [this.workGroupArn] }),
      new iam.PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
        ],
      }),
      new iam.PolicyStatement({
        actions: [...GLUE_READ_ACTIONS],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: access.databaseName }),
          ...access.tables.map((table) =>
            stack.formatArn({
              service: 'glue',
              resource: 'table',
              resourceName: `${access.databaseName}/${table}`,
            }),
          ),
        ],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: unique([...read, ...write].map((l) => l.bucket.bucketArn)),
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: unique(read.flatMap((l) => l.prefixes.map((p) => l.bucket.arnForObjects(`${p}*`)))),
      }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucketMultipartUploads'],
        resources: unique(write.map((l) => l.bucket.bucketArn)),
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: unique(write.flatMap((l) => l.prefixes.map((p) => l.bucket.arnForObjects(`${p}*`)))),
      }),
      ...(readKeys.length > 0
        ? [new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: readKeys, conditions: viaS3 })]
        : []),
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: writeKeys, conditions: viaS3 }),
    ];
  }

  /**
   * Acknowledges, on `holder` (the role or function whose policy holds {@link queryPolicyStatements}),
   * cdk-nag's wildcard finding for each object prefix of `access`: objects have generated names
   * (Firehose's, Athena's), so object access can only be granted by prefix.
   */
  acknowledgeQueryAccess(holder: IConstruct, access: QueryAccess): void {
    const locations = [
      ...access.read,
      ...(access.write ?? []),
      { bucket: this.resultsBucket, prefixes: [ATHENA_RESULTS_PREFIX] },
    ];
    const seen = new Set<string>();
    for (const location of locations) {
      const bucketArn = nagAttributeRef(holder, location.bucket.node.defaultChild as s3.CfnBucket, 'Arn');
      for (const prefix of location.prefixes) {
        const id = `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`;
        if (seen.has(id)) continue;
        seen.add(id);
        Validations.of(holder).acknowledge({
          id,
          reason: `Objects under ${prefix} have generated names (lake delivery, Athena results and UNLOAD files), so object access is granted by prefix: only ${prefix} of that bucket.`,
        });
      }
    }
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
