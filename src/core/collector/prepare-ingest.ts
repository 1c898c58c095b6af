import type { CollectorLimits } from '../config/limits';
import { BadRequestError, PayloadTooLargeError } from '../errors';
import {
  CALL_TYPES,
  type CallType,
  type JsonObject,
  partitionKeyOf,
  type StreamRecord,
} from '../events/stream-record';
import { checkBounds } from './bounds';
import { describeIssues, isJsonObject, type MessageSchemas } from './message-schemas';
import {
  normalizeMessage,
  type PreparedStamp,
  prepareStamp,
  type RequestStamp,
  STAMPED_FIELDS,
} from './normalize';

/** Which endpoint the request came to: one of the six calls, or `batch`. */
export type IngestRoute = CallType | 'batch';

/** Mosaic's own stamps (ids, times, source, ip) may add this much to a message beyond its limit. */
export const STAMP_ALLOWANCE_BYTES = 1024;

export type RejectionCode = 'invalid_message' | 'message_too_large' | 'missing_identity' | 'out_of_bounds';

export interface Rejection {
  /** Position in the batch (0 for a single call). */
  readonly index: number;
  readonly messageId?: string;
  readonly code: RejectionCode;
  readonly reason: string;
  /** The message as received (without any write key), for the quarantine. */
  readonly raw: string;
}

export interface AcceptedMessage {
  readonly index: number;
  readonly record: StreamRecord;
  readonly partitionKey: string;
  /** The record as UTF-8 JSON: exactly what goes on the stream. */
  readonly data: Uint8Array;
}

export interface PreparedIngest {
  readonly accepted: readonly AcceptedMessage[];
  readonly rejected: readonly Rejection[];
}

export interface PrepareContext {
  readonly schemas: MessageSchemas;
  readonly limits: CollectorLimits;
  readonly newId: () => string;
}

const CALL_TYPE_SET: ReadonlySet<string> = new Set(CALL_TYPES);
const encoder = new TextEncoder();

/**
 * Validates and stamps every message of one request independently: one bad message never costs its
 * neighbours. Throws only for what makes the whole request unusable (not a batch, too many messages).
 */
export function prepareIngest(
  body: JsonObject,
  route: IngestRoute,
  stamp: Omit<RequestStamp, 'batchContext' | 'batchIntegrations' | 'batchSentAt'>,
  ctx: PrepareContext,
): PreparedIngest {
  if (route !== 'batch') {
    return prepareMessages([body], prepareStamp(stamp), ctx, route);
  }
  const batch = body.batch;
  if (!Array.isArray(batch))
    throw new BadRequestError('batch must be an array of messages', { code: 'invalid_batch' });
  if (batch.length === 0) throw new BadRequestError('batch is empty', { code: 'invalid_batch' });
  if (batch.length > ctx.limits.maxBatchMessages) {
    throw new PayloadTooLargeError(
      `batch has ${batch.length} messages; at most ${ctx.limits.maxBatchMessages} are accepted`,
    );
  }
  const batchStamp = prepareStamp({
    ...stamp,
    batchContext: isJsonObject(body.context) ? body.context : undefined,
    batchIntegrations: isJsonObject(body.integrations) ? body.integrations : undefined,
    batchSentAt:
      typeof body.sentAt === 'string' && !Number.isNaN(Date.parse(body.sentAt)) ? body.sentAt : undefined,
  });
  return prepareMessages(batch, batchStamp, ctx);
}

function prepareMessages(
  messages: readonly unknown[],
  stamp: PreparedStamp,
  ctx: PrepareContext,
  fixedType?: CallType,
): PreparedIngest {
  const accepted: AcceptedMessage[] = [];
  const rejected: Rejection[] = [];
  for (let index = 0; index < messages.length; index++) {
    const outcome = prepareOne(messages[index], index, stamp, ctx, fixedType);
    if ('code' in outcome) rejected.push(outcome);
    else accepted.push(outcome);
  }
  return { accepted, rejected };
}

function prepareOne(
  message: unknown,
  index: number,
  stamp: PreparedStamp,
  ctx: PrepareContext,
  fixedType: CallType | undefined,
): AcceptedMessage | Rejection {
  if (!isJsonObject(message)) {
    return reject(index, message, 'invalid_message', 'each message must be a JSON object');
  }
  const type = fixedType ?? message.type;
  if (typeof type !== 'string' || !CALL_TYPE_SET.has(type)) {
    return reject(index, message, 'invalid_message', `type must be one of ${CALL_TYPES.join(', ')}`);
  }
  const callType = type as CallType;
  const bounds = checkBounds(message, ctx.limits);
  if (bounds !== undefined) return reject(index, message, 'out_of_bounds', bounds);

  const parsed = ctx.schemas[callType].safeParse(message);
  if (!parsed.success) return reject(index, message, 'invalid_message', describeIssues(parsed.error));

  if (!isPresentId(message.userId) && !isPresentId(message.anonymousId)) {
    return reject(index, message, 'missing_identity', 'userId or anonymousId is required');
  }

  // Normalising stamps the message in place; keep what it overwrites in case it must be quarantined.
  const received = STAMPED_FIELDS.map((field) => message[field]);
  const receivedContext = isJsonObject(message.context) ? message.context : undefined;
  const receivedIp = receivedContext?.ip;
  const record = normalizeMessage(message, callType, stamp, ctx.limits, ctx.newId);
  const limit = ctx.limits.maxMessageBytes + STAMP_ALLOWANCE_BYTES;
  const json = JSON.stringify(record);
  const data = json.length > limit ? undefined : encoder.encode(json);
  if (data === undefined || data.byteLength > limit) {
    STAMPED_FIELDS.forEach((field, i) => {
      message[field] = received[i];
    });
    if (receivedContext !== undefined) {
      if (receivedIp === undefined) delete receivedContext.ip;
      else receivedContext.ip = receivedIp;
    }
    return tooLarge(index, message, limit);
  }
  return { index, record, partitionKey: partitionKeyOf(record), data };
}

function isPresentId(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || typeof value === 'number';
}

function tooLarge(index: number, message: JsonObject, limit: number): Rejection {
  return reject(
    index,
    message,
    'message_too_large',
    `message is larger than ${limit - STAMP_ALLOWANCE_BYTES} bytes (measured with its batch context merged in)`,
  );
}

function reject(index: number, message: unknown, code: RejectionCode, reason: string): Rejection {
  let raw: string;
  let messageId: string | undefined;
  if (isJsonObject(message)) {
    const { writeKey: _secret, ...rest } = message;
    raw = JSON.stringify(rest);
    if (typeof message.messageId === 'string' && message.messageId.length <= 200)
      messageId = message.messageId;
  } else {
    raw = JSON.stringify(message) ?? 'undefined';
  }
  return messageId === undefined ? { index, code, reason, raw } : { index, messageId, code, reason, raw };
}
