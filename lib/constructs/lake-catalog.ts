import type { CfnTable } from 'aws-cdk-lib/aws-glue';
import {
  EVENT_COLUMNS,
  IDENTITY_LINK_COLUMNS,
  LAKE_PREFIXES,
  type LakeColumn,
  type LakeColumnType,
  PARTITION_KEYS,
  QUARANTINE_COLUMNS,
} from '../../src/core/lake/tables';

/**
 * Glue and Firehose views of the lake layout in `src/core/lake/tables.ts`. Everything here is derived
 * from that one definition, so the AWS lake and the local lake cannot drift apart.
 */

type PartitionKey = (typeof PARTITION_KEYS)[number];

/** Glue/Hive type of each lake column type. */
const GLUE_TYPES: Record<LakeColumnType, string> = { string: 'string', timestamp: 'timestamp', int: 'int' };

/**
 * How each partition key is written by Firehose (from the time a record arrived, UTC) and projected by
 * Athena, so that the two always produce the same paths (`dt=2026-11-22/hour=07/`).
 */
const PARTITIONS: Record<
  PartitionKey,
  { firehose: string; projection: (startDate: string) => Record<string, string> }
> = {
  dt: {
    firehose: '!{timestamp:yyyy-MM-dd}',
    projection: (startDate) => ({
      type: 'date',
      format: 'yyyy-MM-dd',
      range: `${startDate},NOW`,
      interval: '1',
      'interval.unit': 'DAYS',
    }),
  },
  hour: {
    firehose: '!{timestamp:HH}',
    projection: () => ({ type: 'integer', range: '0,23', digits: '2' }),
  },
};

export type LakeTableName = 'events' | 'quarantine' | 'identity_links';

/** `events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`: where Firehose writes a table's data. */
export function firehosePrefix(table: LakeTableName): string {
  return `${LAKE_PREFIXES[table]}${PARTITION_KEYS.map((key) => `${key}=${PARTITIONS[key].firehose}`).join('/')}/`;
}

/**
 * `errors/events/!{firehose:error-output-type}/dt=.../hour=.../`: where Firehose writes the records of
 * a table it could not convert or deliver.
 */
export function firehoseErrorPrefix(table: LakeTableName): string {
  const partitions = PARTITION_KEYS.map((key) => `${key}=${PARTITIONS[key].firehose}`).join('/');
  return `${LAKE_PREFIXES.errors}${table}/!{firehose:error-output-type}/${partitions}/`;
}

/**
 * Column name → stream record field, for the columns whose name differs from the field
 * (`message_id` → `messageId`). Firehose's JSON deserializer reads the `events` columns with it.
 */
export function eventColumnToJsonKey(): Record<string, string> {
  return columnToJsonKey(EVENT_COLUMNS);
}

/**
 * Column name → JSON record field for the columns whose name differs from their field; empty when
 * the writer emits rows keyed by column name (`identity_links`).
 */
export function columnToJsonKey(columns: readonly LakeColumn<string>[]): Record<string, string> {
  return Object.fromEntries(
    columns.filter((column) => column.name !== column.field).map((column) => [column.name, column.field]),
  );
}

const PARQUET = {
  classification: 'parquet',
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    // Columns are read from a file by name (Athena's default for Parquet, stated so it stays so):
    // files written before a column was added read NULL for it, whatever the columns' order.
    parameters: { 'parquet.column.index.access': 'false' },
  },
  extraParameters: { 'parquet.compression': 'SNAPPY' },
} as const;

const TABLE_FORMATS = {
  events: { columns: EVENT_COLUMNS, ...PARQUET },
  identity_links: { columns: IDENTITY_LINK_COLUMNS, ...PARQUET },
  quarantine: {
    // One JSON object per line whose keys are the column names (gzip-compressed by Firehose).
    columns: QUARANTINE_COLUMNS,
    classification: 'json',
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
    extraParameters: { compressionType: 'gzip' },
  },
} as const;

/**
 * The Glue table input of a lake table: columns from the core table definition, `dt`/`hour` partition
 * keys with partition projection (no crawler, no partition management), stored under the table's
 * prefix of `bucketName`.
 */
export function lakeTableInput(
  table: LakeTableName,
  props: { readonly bucketName: string; readonly partitionStartDate: string },
): CfnTable.TableInputProperty {
  const format = TABLE_FORMATS[table];
  const location = `s3://${props.bucketName}/${LAKE_PREFIXES[table]}`;
  const projection: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of PARTITION_KEYS) {
    for (const [name, value] of Object.entries(PARTITIONS[key].projection(props.partitionStartDate))) {
      projection[`projection.${key}.${name}`] = value;
    }
  }
  return {
    name: table,
    tableType: 'EXTERNAL_TABLE',
    parameters: {
      EXTERNAL: 'TRUE',
      classification: format.classification,
      ...format.extraParameters,
      ...projection,
      'storage.location.template': `${location}${PARTITION_KEYS.map((key) => `${key}=\${${key}}`).join('/')}/`,
    },
    partitionKeys: PARTITION_KEYS.map((key) => ({ name: key, type: 'string' })),
    storageDescriptor: {
      location,
      columns: format.columns.map((column) => ({ name: column.name, type: GLUE_TYPES[column.type] })),
      inputFormat: format.inputFormat,
      outputFormat: format.outputFormat,
      serdeInfo: format.serdeInfo,
      compressed: table === 'quarantine',
      storedAsSubDirectories: false,
    },
  };
}

/**
 * The Glue table input of a Parquet table whose partitions every query names: partition projection
 * of type `injected` for each partition key (string values, given by the query's `WHERE key = ...`;
 * no partition management, no listing of the prefix), stored at `storage.location.template`, a URL
 * with a `${key}` placeholder per partition key.
 */
export function injectedParquetTableInput(props: {
  readonly name: string;
  /** `s3://bucket/prefix/`: the table's base location (the template decides where partitions are). */
  readonly location: string;
  readonly locationTemplate: string;
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: LakeColumnType }>;
  readonly partitionKeys: readonly string[];
}): CfnTable.TableInputProperty {
  for (const key of props.partitionKeys) {
    if (!props.locationTemplate.includes(`\${${key}}`)) {
      throw new Error(`${props.name}: storage.location.template has no \${${key}}`);
    }
  }
  const projection: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of props.partitionKeys) projection[`projection.${key}.type`] = 'injected';
  return {
    name: props.name,
    tableType: 'EXTERNAL_TABLE',
    parameters: {
      EXTERNAL: 'TRUE',
      classification: PARQUET.classification,
      ...PARQUET.extraParameters,
      ...projection,
      'storage.location.template': props.locationTemplate,
    },
    partitionKeys: props.partitionKeys.map((key) => ({ name: key, type: 'string' })),
    storageDescriptor: {
      location: props.location,
      columns: props.columns.map((column) => ({ name: column.name, type: GLUE_TYPES[column.type] })),
      inputFormat: PARQUET.inputFormat,
      outputFormat: PARQUET.outputFormat,
      serdeInfo: PARQUET.serdeInfo,
      compressed: false,
      storedAsSubDirectories: false,
    },
  };
}
