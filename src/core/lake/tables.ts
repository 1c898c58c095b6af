import type { StreamRecord } from '../events/stream-record';
import type { IdentityLink } from '../identity/identity-link';

/**
 * The lake's table layouts, shared by everything that writes or declares them: the Glue tables and
 * the Firehose Parquet conversion in AWS, and the local lake writer. One definition, so the two lakes
 * cannot drift apart.
 */
export type LakeColumnType = 'string' | 'timestamp' | 'int';

/**
 * One column of a lake table. `Field` names the fields of the JSON record the column is read from:
 * the stream record for `events` (the default), the row itself for tables whose writers emit rows.
 */
export interface LakeColumn<Field extends string = keyof StreamRecord & string> {
  /** Column name in Glue/Athena/DuckDB (snake_case). */
  readonly name: string;
  readonly type: LakeColumnType;
  /** The record field the column is read from. */
  readonly field: Field;
  /** The field holds an object; the column keeps its JSON text (query with json_extract). */
  readonly json?: boolean;
}

/**
 * `events`: one row per accepted message, a column for each top-level field of the Segment spec the
 * collector keeps (the six calls' own and the common ones). Top-level fields outside the spec stay on
 * the stream record but have no column: data meant for the lake goes in `properties`, `traits` or
 * `context`, the free-form parts of the spec.
 */
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
  // Added later, after the others, so each of those keeps its position. Files written before hold
  // none of them: Athena (which reads Parquet by column name) and the local view read them as NULL.
  // `category`: a page's or screen's. `channel`: where the SDK runs (`server`, `web`, `mobile`), as
  // RudderStack's SDKs say. `version`: the spec's API version, when a sender includes one. The last
  // two are not checked by the collector, so they are kept as text whatever their type.
  { name: 'category', type: 'string', field: 'category' },
  { name: 'channel', type: 'string', field: 'channel' },
  { name: 'version', type: 'string', field: 'version' },
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
  { name: 'route', type: 'string' },
  { name: 'batch', type: 'string' },
] as const satisfies ReadonlyArray<{ name: string; type: LakeColumnType }>;

/** An `identity_links` row: the column names as keys, timestamps as ISO-8601 UTC text. */
export interface IdentityLinkRow {
  readonly id_type: string;
  readonly id_value: string;
  readonly profile_id: string;
  readonly linked_at: string;
  readonly source: string;
  readonly message_id: string;
  readonly reason: string;
}

/**
 * `identity_links`: one row each time the resolver (re)points an identifier at a profile, merges
 * included. The latest row per (`id_type`, `id_value`) is the truth. Writers emit {@link IdentityLinkRow}
 * JSON, so every column is read from the field of its own name.
 */
export const IDENTITY_LINK_COLUMNS: readonly LakeColumn<keyof IdentityLinkRow>[] = [
  { name: 'id_type', type: 'string', field: 'id_type' },
  { name: 'id_value', type: 'string', field: 'id_value' },
  { name: 'profile_id', type: 'string', field: 'profile_id' },
  { name: 'linked_at', type: 'timestamp', field: 'linked_at' },
  { name: 'source', type: 'string', field: 'source' },
  { name: 'message_id', type: 'string', field: 'message_id' },
  { name: 'reason', type: 'string', field: 'reason' },
];

/**
 * Every table is partitioned by the hour (UTC) of its time column: `received_at` (the collector's
 * receive time) for `events` and `quarantine`, `linked_at` for `identity_links`.
 */
export const PARTITION_KEYS = ['dt', 'hour'] as const;

export const LAKE_PREFIXES = {
  events: 'events/',
  quarantine: 'quarantine/',
  identity_links: 'identity_links/',
  /** Where Firehose writes records it could not convert or deliver. */
  errors: 'errors/',
} as const;

export interface Partition {
  /** `YYYY-MM-DD` (UTC). */
  readonly dt: string;
  /** `HH` (UTC, 00-23). */
  readonly hour: string;
}

/** The partition of a row whose time column (`received_at`, `linked_at`) holds this ISO-8601 UTC time. */
export function partitionOf(isoTime: string): Partition {
  return { dt: isoTime.slice(0, 10), hour: isoTime.slice(11, 13) };
}

/** `events/dt=2026-11-22/hour=16/` */
export function partitionPath(table: keyof typeof LAKE_PREFIXES, p: Partition): string {
  return `${LAKE_PREFIXES[table]}dt=${p.dt}/hour=${p.hour}/`;
}

/**
 * One `events` row from a stream record: JSON columns as text, absent values as null. A string column
 * holds a string as it is and any other value as its JSON text, as the lake's JSON readers write it
 * (DuckDB's; Firehose's OpenX SerDe for objects): the collector checks the type of neither `channel`
 * nor `version`, nor of `name` and `category` outside page and screen, so `"channel": {"a": 1}` is
 * kept as `{"a":1}`.
 */
export function toEventRow(record: StreamRecord): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (const column of EVENT_COLUMNS) {
    const value = record[column.field];
    row[column.name] =
      value === undefined || value === null
        ? null
        : typeof value === 'string' && !column.json
          ? value
          : JSON.stringify(value);
  }
  return row;
}

/**
 * The `identity_links` row of a link. `linked_at` stays ISO-8601 text, which both Firehose's OpenX
 * JSON SerDe and DuckDB read as a timestamp (as `received_at` in `quarantine`).
 */
export function toIdentityLinkRow(link: IdentityLink): IdentityLinkRow {
  return {
    id_type: link.identifier.type,
    id_value: link.identifier.value,
    profile_id: link.profileId,
    linked_at: link.linkedAt,
    source: link.source,
    message_id: link.messageId,
    reason: link.reason,
  };
}
