import type { StreamRecord } from '../events/stream-record';

/**
 * The lake's table layouts, shared by everything that writes or declares them: the Glue tables and
 * the Firehose Parquet conversion in AWS, and the local lake writer. One definition, so the two lakes
 * cannot drift apart.
 */
export type LakeColumnType = 'string' | 'timestamp' | 'int';

export interface LakeColumn {
  /** Column name in Glue/Athena/DuckDB (snake_case). */
  readonly name: string;
  readonly type: LakeColumnType;
  /** The stream record field the column is read from. */
  readonly field: keyof StreamRecord & string;
  /** The field holds an object; the column keeps its JSON text (query with json_extract). */
  readonly json?: boolean;
}

/** `events`: one row per accepted message. */
export const EVENT_COLUMNS: readonly LakeColumn[] = [
  { name: 'message_id', type: 'string', field: 'messageId' },
  { name: 'type', type: 'string', field: 'type' },
  { name: 'event', type: 'string', field: 'event' },
  { name: 'name', type: 'string', field: 'name' },
  { name: 'user_id', type: 'string', field: 'userId' },
  { name: 'anonymous_id', type: 'string', field: 'anonymousId' },
  { name: 'group_id', type: 'string', field: 'groupId' },
  { name: 'previous_id', type: 'string', field: 'previousId' },
  { name: 'timestamp', type: 'timestamp', field: 'timestamp' },
  { name: 'original_timestamp', type: 'timestamp', field: 'originalTimestamp' },
  { name: 'sent_at', type: 'timestamp', field: 'sentAt' },
  { name: 'received_at', type: 'timestamp', field: 'receivedAt' },
  { name: 'source', type: 'string', field: 'source' },
  { name: 'properties', type: 'string', field: 'properties', json: true },
  { name: 'traits', type: 'string', field: 'traits', json: true },
  { name: 'context', type: 'string', field: 'context', json: true },
  { name: 'integrations', type: 'string', field: 'integrations', json: true },
];

/** `quarantine`: rejected messages with the reason, for inspection and replay. */
export const QUARANTINE_COLUMNS = [
  { name: 'source', type: 'string' },
  { name: 'received_at', type: 'timestamp' },
  { name: 'code', type: 'string' },
  { name: 'reason', type: 'string' },
  { name: 'message_id', type: 'string' },
  { name: 'index', type: 'int' },
  { name: 'raw', type: 'string' },
] as const satisfies ReadonlyArray<{ name: string; type: LakeColumnType }>;

/** Both tables are partitioned by the hour the collector received the message (UTC). */
export const PARTITION_KEYS = ['dt', 'hour'] as const;

export const LAKE_PREFIXES = {
  events: 'events/',
  quarantine: 'quarantine/',
  /** Where Firehose writes records it could not convert or deliver. */
  errors: 'errors/',
} as const;

export interface Partition {
  /** `YYYY-MM-DD` (UTC). */
  readonly dt: string;
  /** `HH` (UTC, 00-23). */
  readonly hour: string;
}

/** The partition of a message received at the given ISO-8601 UTC time. */
export function partitionOf(receivedAtIso: string): Partition {
  return { dt: receivedAtIso.slice(0, 10), hour: receivedAtIso.slice(11, 13) };
}

/** `events/dt=2026-11-22/hour=16/` */
export function partitionPath(table: keyof typeof LAKE_PREFIXES, p: Partition): string {
  return `${LAKE_PREFIXES[table]}dt=${p.dt}/hour=${p.hour}/`;
}

/** One `events` row from a stream record: JSON columns as text, absent values as null. */
export function toEventRow(record: StreamRecord): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (const column of EVENT_COLUMNS) {
    const value = record[column.field];
    row[column.name] =
      value === undefined || value === null ? null : column.json ? JSON.stringify(value) : String(value);
  }
  return row;
}
