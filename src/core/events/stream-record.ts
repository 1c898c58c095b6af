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
  /** Fields outside the spec that the sender included are kept as they are. */
  readonly [extra: string]: unknown;
}

/** Kinesis partition key: per-person order for the resolver (`anonymousId ?? userId`). */
export function partitionKeyOf(record: Pick<StreamRecord, 'anonymousId' | 'userId' | 'messageId'>): string {
  return record.anonymousId ?? record.userId ?? record.messageId;
}
