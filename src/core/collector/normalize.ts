import type { CollectorLimits } from '../config/limits';
import type { CallType, JsonObject, StreamRecord } from '../events/stream-record';

/** What the collector knows about the request a message arrived in. */
export interface RequestStamp {
  /** Name of the authenticated source. */
  readonly source: string;
  /** When the request was received (ms since epoch). */
  readonly receivedAtMs: number;
  /** The client's address as seen by the edge; stamped as `context.ip` unless the message has one. */
  readonly ip?: string;
  /** Batch-level `context`: merged under each message's own context (the message wins). */
  readonly batchContext?: JsonObject;
  /** Batch-level `integrations`: merged under each message's own (the message wins). */
  readonly batchIntegrations?: JsonObject;
  /** Batch-level `sentAt`, used when a message has none. */
  readonly batchSentAt?: string;
}

const ID_FIELDS = ['userId', 'anonymousId', 'previousId', 'groupId'] as const;

/**
 * Turns one validated message into a stream record: ids as strings (empty ones dropped), batch context
 * merged, `messageId` assigned if missing, `receivedAt` and `source` stamped, `context.ip` filled,
 * the write key removed, and `timestamp` corrected for the sender's clock skew
 * (`timestamp = receivedAt - (sentAt - timestamp)`) and clamped when still far in the future.
 * Every time field is written as ISO-8601 UTC so the lake parses one format.
 */
export function normalizeMessage(
  message: JsonObject,
  type: CallType,
  stamp: RequestStamp,
  limits: Pick<CollectorLimits, 'maxFutureMs'>,
  newId: () => string,
): StreamRecord {
  const out: Record<string, unknown> = { ...message };
  delete out.writeKey;
  out.type = type;

  for (const field of ID_FIELDS) {
    const value = out[field];
    if (value === undefined) continue;
    if (value === null || value === '') delete out[field];
    else if (typeof value === 'number') out[field] = String(value);
  }

  out.messageId = typeof message.messageId === 'string' ? message.messageId : newId();

  const context: JsonObject = stamp.batchContext
    ? { ...stamp.batchContext, ...(message.context as JsonObject | undefined) }
    : { ...(message.context as JsonObject | undefined) };
  if (stamp.ip !== undefined && (typeof context.ip !== 'string' || context.ip === '')) context.ip = stamp.ip;
  out.context = context;

  if (stamp.batchIntegrations) {
    out.integrations = { ...stamp.batchIntegrations, ...(message.integrations as JsonObject | undefined) };
  }

  const receivedAt = stamp.receivedAtMs;
  const sentAtText = (message.sentAt as string | undefined) ?? stamp.batchSentAt;
  const sentAt = sentAtText === undefined ? undefined : Date.parse(sentAtText);
  const sentTimestamp = (message.timestamp ?? message.originalTimestamp) as string | undefined;
  let timestamp = receivedAt;
  if (sentTimestamp !== undefined) {
    const original = Date.parse(sentTimestamp);
    out.originalTimestamp = new Date(original).toISOString();
    timestamp = sentAt === undefined || Number.isNaN(sentAt) ? original : receivedAt - (sentAt - original);
    if (timestamp > receivedAt + limits.maxFutureMs) timestamp = receivedAt;
  }
  if (sentAt !== undefined && !Number.isNaN(sentAt)) out.sentAt = new Date(sentAt).toISOString();
  out.timestamp = new Date(timestamp).toISOString();
  out.receivedAt = new Date(receivedAt).toISOString();
  out.source = stamp.source;
  return out as unknown as StreamRecord;
}
