import { hash } from 'node:crypto';

/** The six Segment call types. */
export const CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type CallType = (typeof CALL_TYPES)[number];

export type JsonObject = { [key: string]: unknown };

/**
 * One accepted message as it travels on the events stream (version 1): the Segment message with
 * every field the sender gave, normalised and stamped by the collector. This is also the shape the
 * lake is built from, so its field names are mapped to the `events` columns in `lake/tables.ts`.
 *
 * Stamped by the collector: `messageId` (if missing), `receivedAt`, `timestamp` (skew-corrected and
 * clamped), `originalTimestamp` (as sent), `source`, `context.ip`. Removed: `writeKey`.
 */
export interface StreamRecord {
  readonly messageId: string;
  readonly type: CallType;
  /** Name of the source whose write key authenticated the request. */
  readonly source: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly previousId?: string;
  readonly groupId?: string;
  readonly event?: string;
  readonly name?: string;
  readonly category?: string;
  /** ISO-8601 UTC, corrected for the sender's clock skew and never far in the future. */
  readonly timestamp: string;
  /** The timestamp exactly as the sender gave it, if it gave one. */
  readonly originalTimestamp?: string;
  readonly sentAt?: string;
  /** ISO-8601 UTC time the collector received the request. */
  readonly receivedAt: string;
  readonly properties?: JsonObject;
  readonly traits?: JsonObject;
  readonly context: JsonObject;
  readonly integrations?: JsonObject;
  /** Where the SDK runs (`server`, `web`, `mobile`), if it says: sent by RudderStack's SDKs. Not checked. */
  readonly channel?: unknown;
  /** The spec's API version, if the sender included one. Not checked. */
  readonly version?: unknown;
  /** Fields outside the spec that the sender included are kept as they are. */
  readonly [extra: string]: unknown;
}

/** Longest partition key Kinesis takes (characters); `limits.maxIdLength` allows longer ids. */
export const MAX_PARTITION_KEY_CHARS = 256;

/**
 * Kinesis partition key: per-person order for the resolver (`anonymousId ?? userId`). An id longer
 * than Kinesis takes (the collector accepts ids up to `limits.maxIdLength`, 512 by default) is keyed
 * by its SHA-256 instead, `sha256:` and 64 hex digits: the same id always gets the same key, so its
 * events keep their order, and the put is not refused for every message in the request.
 */
export function partitionKeyOf(record: Pick<StreamRecord, 'anonymousId' | 'userId' | 'messageId'>): string {
  const key = record.anonymousId ?? record.userId ?? record.messageId;
  // UTF-16 units: never fewer than the characters Kinesis counts, so a key within this is within its limit.
  return key.length <= MAX_PARTITION_KEY_CHARS ? key : `sha256:${hash('sha256', key, 'hex')}`;
}
