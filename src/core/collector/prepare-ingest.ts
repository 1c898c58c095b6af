import type { CollectorLimits } from '../config/limits';
import { BadRequestError, PayloadTooLargeError } from '../errors';
import { CALL_TYPES, type CallType, type JsonObject, partitionKeyOf } from '../events/stream-record';
import { checkBounds, measureBounds } from './bounds';
import { buildMessageCheck, type MessageCheck } from './message-check';
import { describeIssues, isIsoDate, isJsonObject, type MessageSchemas } from './message-schemas';
import {
  normalizeMessage,
  type PreparedStamp,
  prepareStamp,
  type RequestStamp,
  STAMPED_FIELDS,
} from './normalize';
import type { RecordBuffer } from './record-buffers';

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
  readonly partitionKey: string;
  /** The record as UTF-8 JSON: exactly what goes on the stream. */
  readonly data: Uint8Array;
}

export interface PreparedIngest {
  readonly accepted: readonly AcceptedMessage[];
  readonly rejected: readonly Rejection[];
  /**
   * When some messages of a batch are rejected: JSON text of the batch-level `context`,
   * `integrations` and `sentAt` the batch had (those it had), for the quarantine; they belong to
   * every message of it.
   */
  readonly batchFields?: string;
}

export interface PrepareContext {
  readonly schemas: MessageSchemas;
  readonly limits: CollectorLimits;
  readonly newId: () => string;
  /**
   * The schemas' verdict without zod, for speed ({@link buildMessageCheck} of the same limits); zod
   * then runs only to word the reason of a message this refuses. Built per request when absent.
   */
  readonly check?: MessageCheck;
}

/** A {@link PrepareContext} with its fast check. */
export type CheckedContext = PrepareContext & { readonly check: MessageCheck };

export const CALL_TYPE_SET: ReadonlySet<string> = new Set(CALL_TYPES);

/**
 * Validates and stamps every message of one request independently: one bad message never costs its
 * neighbours. Throws only for what makes the whole request unusable (not a batch, too many messages).
 * The records are encoded into `into` as far as it has room ({@link encodeAll}).
 */
export function prepareIngest(
  body: JsonObject,
  route: IngestRoute,
  stamp: Omit<RequestStamp, 'batchContext' | 'batchIntegrations' | 'batchSentAt'>,
  context: PrepareContext,
  into?: RecordBuffer,
): PreparedIngest {
  const ctx: CheckedContext = { ...context, check: context.check ?? buildMessageCheck(context.limits) };
  if (route !== 'batch') {
    return prepareMessages([body], prepareStamp(stamp), ctx, into, route);
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
  const bounds = batchBounds(body, ctx.limits);
  if (typeof bounds === 'string') {
    // What the batch would merge into every message is out of bounds: so is every message with it.
    // Each is refused, and quarantined, with that reason: nothing is lost, and the SDK sees why.
    return withBatchFields(
      {
        accepted: [],
        rejected: batch.map((message, index) => reject(index, message, 'out_of_bounds', bounds)),
      },
      body,
    );
  }
  const keysMerged = bounds;
  const batchStamp = prepareStamp({
    ...stamp,
    batchContext: isJsonObject(body.context) ? body.context : undefined,
    batchIntegrations: isJsonObject(body.integrations) ? body.integrations : undefined,
    batchSentAt: typeof body.sentAt === 'string' && isIsoDate(body.sentAt) ? body.sentAt : undefined,
  });
  return withBatchFields(
    prepareMessages(
      batch,
      batchStamp,
      { ...ctx, limits: { ...ctx.limits, maxKeys: ctx.limits.maxKeys - keysMerged } },
      into,
    ),
    body,
  );
}

/** The batch-level fields a batch's rejected messages are quarantined with (its write key never). */
const BATCH_FIELDS = ['context', 'integrations', 'sentAt'] as const;

function withBatchFields(prepared: PreparedIngest, body: JsonObject): PreparedIngest {
  if (prepared.rejected.length === 0) return prepared;
  const fields: JsonObject = {};
  let any = false;
  for (const name of BATCH_FIELDS) {
    if (body[name] === undefined) continue;
    fields[name] = body[name];
    any = true;
  }
  // Nested past what JSON.stringify can write (a context far past maxDepth): not kept, as with raw.
  const text = any ? safeStringify(fields) : undefined;
  return text === undefined ? prepared : { ...prepared, batchFields: text };
}

/**
 * A batch's `context` and `integrations` are merged one level down into every message, so they are
 * held to the same bounds (one level less deep). Returns how many keys they add to each message, or
 * the violation, which refuses every message of the batch.
 */
function batchBounds(body: JsonObject, limits: CollectorLimits): number | string {
  let keys = 0;
  for (const part of ['context', 'integrations'] as const) {
    const value = body[part];
    if (!isJsonObject(value)) continue;
    const { violation, keys: counted } = measureBounds(value, {
      maxDepth: limits.maxDepth - 1,
      maxKeys: limits.maxKeys,
    });
    if (violation !== undefined) return `batch ${part}: ${violation}`;
    keys += counted;
  }
  if (keys >= limits.maxKeys) return `batch context and integrations have more than ${limits.maxKeys} keys`;
  return keys;
}

function prepareMessages(
  messages: readonly unknown[],
  stamp: PreparedStamp,
  ctx: CheckedContext,
  into: RecordBuffer | undefined,
  fixedType?: CallType,
): PreparedIngest {
  const accepted: StampedMessage[] = [];
  const rejected: Rejection[] = [];
  for (let index = 0; index < messages.length; index++) {
    const outcome = prepareOne(messages[index], index, stamp, ctx, fixedType);
    if ('code' in outcome) rejected.push(outcome);
    else accepted.push(outcome);
  }
  return { accepted: encodeAll(accepted, into), rejected };
}

/** An accepted message before encoding: its partition key and its record's JSON text. */
export interface StampedMessage {
  readonly index: number;
  readonly partitionKey: string;
  readonly json: string;
}

/**
 * Every record's JSON as UTF-8, into the request's buffer (`into`, lent by {@link RecordBuffers}) as
 * far as it has room, the rest into a shared slab as Node's buffer pool does for small buffers, but
 * larger: one allocation for many requests instead of one per message, and no pass to measure the
 * text first. Each record's `data` is its own view, of bytes that are not written again until the
 * request gives its buffer back (the slab's, never).
 */
export function encodeAll(stamped: readonly StampedMessage[], into?: RecordBuffer): AcceptedMessage[] {
  return stamped.map(({ index, partitionKey, json }) => ({ index, partitionKey, data: encode(json, into) }));
}

/** Size of a slab; records that could take more than an eighth of one get a buffer of their own. */
const SLAB_BYTES = 512 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

function encode(json: string, into: RecordBuffer | undefined): Uint8Array {
  // UTF-8 takes at most three bytes per UTF-16 unit.
  const most = json.length * 3;
  // Bytes past what is written are never exposed: a view ends where its text does.
  if (into !== undefined && into.used + most <= into.bytes.byteLength) {
    const start = into.used;
    into.used += into.bytes.write(json, start, 'utf8');
    return into.bytes.subarray(start, into.used);
  }
  if (most > SLAB_BYTES / 8) return Buffer.from(json, 'utf8');
  if (slabUsed + most > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  slabUsed += slab.write(json, start, 'utf8');
  return slab.subarray(start, slabUsed);
}

function prepareOne(
  message: unknown,
  index: number,
  stamp: PreparedStamp,
  ctx: CheckedContext,
  fixedType: CallType | undefined,
): StampedMessage | Rejection {
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

  if (!ctx.check(message, callType)) {
    // zod is the authority and words the reason; the check only spares it the valid messages.
    const parsed = ctx.schemas[callType].safeParse(message);
    if (!parsed.success) return reject(index, message, 'invalid_message', describeIssues(parsed.error));
  }

  if (!isPresentId(message.userId) && !isPresentId(message.anonymousId)) {
    return reject(index, message, 'missing_identity', 'userId or anonymousId is required');
  }

  // Normalising stamps the message in place; keep what it overwrites to get the message back as sent.
  const received = snapshot(message);
  const record = normalizeMessage(message, callType, stamp, ctx.limits, ctx.newId);
  let json = JSON.stringify(record);
  // The limit is on the message as sent. Stamping adds fields and may drop a few (`writeKey`, empty
  // ids, long time formats); only when that could decide it is the message measured as sent.
  const removable =
    SHRINK_ALLOWANCE +
    (received.writeKey === undefined ? 0 : byteLength(JSON.stringify(received.writeKey) ?? '') + 16);
  if (
    json.length + removable > ctx.limits.maxMessageBytes ||
    (json.length * 3 > ctx.limits.maxMessageBytes &&
      byteLength(json) + removable > ctx.limits.maxMessageBytes)
  ) {
    restore(message, received);
    const sent = safeStringify(message);
    if (sent === undefined || byteLength(sent) > ctx.limits.maxMessageBytes) {
      return reject(
        index,
        message,
        'message_too_large',
        `message is larger than ${ctx.limits.maxMessageBytes} bytes`,
        sent,
      );
    }
    json = JSON.stringify(normalizeMessage(message, callType, stamp, ctx.limits, ctx.newId));
    if (byteLength(json) > recordCap(ctx.limits)) {
      restore(message, received);
      return reject(
        index,
        message,
        'message_too_large',
        `message is larger than ${recordCap(ctx.limits)} bytes with its batch context merged in`,
        sent,
      );
    }
  }
  return { index, partitionKey: partitionKeyOf(record), json };
}

/** How much stamping can shorten a message, `writeKey` aside: empty ids dropped, times rewritten. */
const SHRINK_ALLOWANCE = 512;

/** The most a stamped record may weigh: the message limit, plus Mosaic's own stamps. */
export const recordCap = (limits: CollectorLimits) => limits.maxMessageBytes + STAMP_ALLOWANCE_BYTES;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

interface Received {
  readonly values: readonly unknown[];
  readonly writeKey: unknown;
  readonly context: JsonObject | undefined;
  readonly contextIp: unknown;
}

function snapshot(message: JsonObject): Received {
  const context = isJsonObject(message.context) ? message.context : undefined;
  return {
    values: STAMPED_FIELDS.map((field) => message[field]),
    writeKey: message.writeKey,
    context,
    contextIp: context?.ip,
  };
}

/** Puts back what normalising changed, so the message is again exactly as it was received. */
function restore(message: JsonObject, received: Received): void {
  STAMPED_FIELDS.forEach((field, i) => {
    if (received.values[i] === undefined) delete message[field];
    else message[field] = received.values[i];
  });
  if (received.writeKey !== undefined) message.writeKey = received.writeKey;
  if (received.context !== undefined) {
    if (received.contextIp === undefined) delete received.context.ip;
    else received.context.ip = received.contextIp;
  }
}

/** JSON text of a value, or `undefined` when it is nested too deeply to serialise. */
function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

export function isPresentId(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || typeof value === 'number';
}

function reject(
  index: number,
  message: unknown,
  code: RejectionCode,
  reason: string,
  sentText?: string,
): Rejection {
  let raw: string | undefined;
  let messageId: string | undefined;
  if (isJsonObject(message)) {
    const { writeKey: _secret, ...rest } = message;
    raw = sentText !== undefined && _secret === undefined ? sentText : safeStringify(rest);
    if (typeof message.messageId === 'string' && message.messageId.length <= 200)
      messageId = message.messageId;
  } else {
    raw = safeStringify(message) ?? 'undefined';
  }
  // A message nested too deeply to serialise cannot be kept whole; its reason and id still are.
  raw ??= JSON.stringify({ note: 'not kept: nested too deeply to serialise', messageId });
  return messageId === undefined ? { index, code, reason, raw } : { index, messageId, code, reason, raw };
}
