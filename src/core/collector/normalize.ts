import type { CollectorLimits } from '../config/limits';
import type { CallType, JsonObject, StreamRecord } from '../events/stream-record';
import { isFourDigitYearTime, isoOf, parseIsoMs, readTime } from './iso-time';

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

/** A {@link RequestStamp} with the values every message of the request shares computed once. */
export interface PreparedStamp extends RequestStamp {
  readonly receivedAtIso: string;
  readonly batchSentAtMs?: number;
  readonly batchSentAtIso?: string;
}

export function prepareStamp(stamp: RequestStamp): PreparedStamp {
  const batchSentAtMs = stamp.batchSentAt === undefined ? undefined : parseIsoMs(stamp.batchSentAt);
  return {
    ...stamp,
    receivedAtIso: isoOf(stamp.receivedAtMs),
    ...(batchSentAtMs === undefined || Number.isNaN(batchSentAtMs)
      ? {}
      : { batchSentAtMs, batchSentAtIso: isoOf(batchSentAtMs) }),
  };
}

/** The fields {@link normalizeMessage} may overwrite, to recover the message as it was received. */
export const STAMPED_FIELDS = [
  'type',
  'messageId',
  'userId',
  'anonymousId',
  'previousId',
  'groupId',
  'context',
  'integrations',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'source',
  'properties',
  'traits',
] as const;

/**
 * Turns one validated message into a stream record, in place (the message is the request's own,
 * freshly parsed object): ids as strings (empty ones dropped), batch context merged, `messageId`
 * assigned if missing, `receivedAt` and `source` stamped, `context.ip` filled, the write key removed,
 * and `timestamp` corrected for the sender's clock skew (`timestamp = receivedAt - (sentAt - timestamp)`)
 * and clamped when still far in the future. Every time field is ISO-8601 UTC, so the lake parses one
 * format.
 */
export function normalizeMessage(
  message: JsonObject,
  type: CallType,
  stamp: PreparedStamp,
  limits: Pick<CollectorLimits, 'maxFutureMs'>,
  newId: () => string,
): StreamRecord {
  const out = message as Record<string, unknown>;
  if (out.writeKey !== undefined) delete out.writeKey;
  out.type = type;
  normalizeId(out, 'userId');
  normalizeId(out, 'anonymousId');
  if (type === 'alias') normalizeId(out, 'previousId');
  if (type === 'group') normalizeId(out, 'groupId');
  if (typeof out.messageId !== 'string') out.messageId = newId();
  // `null` for a field that may be left out means it was not sent (the schemas let it through): no
  // record carries it on, so what reads the stream sees a field absent or of its type.
  for (const field of NULLABLE_FIELDS) if (out[field] === null) delete out[field];

  const own = out.context as JsonObject | undefined;
  const context: JsonObject = stamp.batchContext ? { ...stamp.batchContext, ...own } : (own ?? {});
  if (stamp.ip !== undefined && (typeof context.ip !== 'string' || context.ip === '')) context.ip = stamp.ip;
  out.context = context;
  if (stamp.batchIntegrations) {
    out.integrations = { ...stamp.batchIntegrations, ...(out.integrations as JsonObject | undefined) };
  }

  const receivedAt = stamp.receivedAtMs;
  let sentAt = stamp.batchSentAtMs;
  if (typeof out.sentAt === 'string') {
    const own = readTime(out.sentAt);
    sentAt = own.ms;
    out.sentAt = own.iso;
  } else if (stamp.batchSentAtIso !== undefined) {
    out.sentAt = stamp.batchSentAtIso;
  }
  const sentTimestamp = (out.timestamp ?? out.originalTimestamp) as string | undefined;
  if (sentTimestamp === undefined) {
    // (A `timestamp: null` stays in its place: stamping writes receivedAt there.)
    out.timestamp = stamp.receivedAtIso;
  } else {
    const { ms: original, iso: originalIso } = readTime(sentTimestamp);
    out.originalTimestamp = originalIso;
    let timestamp = sentAt === undefined ? original : receivedAt - (sentAt - original);
    if (timestamp > receivedAt + limits.maxFutureMs) timestamp = receivedAt;
    // A sentAt far ahead of the time sent (clocks that disagree) can correct it back past year 0000,
    // which no lake holds: the time as sent is kept instead.
    else if (!isFourDigitYearTime(timestamp)) timestamp = original;
    out.timestamp =
      timestamp === original
        ? originalIso
        : timestamp === receivedAt
          ? stamp.receivedAtIso
          : isoOf(timestamp);
  }
  out.receivedAt = stamp.receivedAtIso;
  out.source = stamp.source;
  return out as unknown as StreamRecord;
}

/** Fields a message may leave out or send as `null`, dropped when `null` (besides the ids, below). */
const NULLABLE_FIELDS = ['originalTimestamp', 'sentAt', 'integrations', 'properties', 'traits'] as const;

function normalizeId(out: Record<string, unknown>, field: string): void {
  const value = out[field];
  if (value === undefined || typeof value === 'string') {
    if (value === '') delete out[field];
    return;
  }
  if (value === null) delete out[field];
  else out[field] = String(value);
}
