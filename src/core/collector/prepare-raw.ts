import { type CallType, type JsonObject, partitionKeyOf, type StreamRecord } from '../events/stream-record';
import { isIsoDate } from './message-schemas';
import { normalizeMessage, type PreparedStamp, prepareStamp, type RequestStamp } from './normalize';
import {
  CALL_TYPE_SET,
  type CheckedContext,
  encodeAll,
  type IngestRoute,
  isPresentId,
  type PreparedIngest,
  recordCap,
  type StampedMessage,
} from './prepare-ingest';
import {
  FIELD,
  FIELDS,
  OTHER_FIELD,
  type RawBody,
  RawKind,
  type RawMember,
  type RawMessage,
} from './raw-json';
import type { RecordBuffer } from './record-buffers';

/**
 * The collector's fast path for a request whose text {@link scanRawBody} read: each record is written
 * from the message's text as received, with only the members stamping changes written anew, instead
 * of the message being parsed into objects and serialised again. The checks and the stamping are the
 * general path's own, run on the message's top-level members (nested objects stand in as
 * placeholders: the scan already held them to the bounds).
 *
 * It answers only when every message of the request is accepted, and the batch has no `context` or
 * `integrations` of its own to merge; otherwise `undefined`, and the general path (which words the
 * reasons of refusals) prepares the request. Either way the records mean the same JSON, encoded into
 * `into` as far as it has room (`encodeAll`).
 */
export function prepareFromText(
  text: string,
  raw: RawBody,
  route: IngestRoute,
  stamp: Omit<RequestStamp, 'batchContext' | 'batchIntegrations' | 'batchSentAt'>,
  ctx: CheckedContext,
  into?: RecordBuffer,
): PreparedIngest | undefined {
  let batchSentAt: string | undefined;
  if (route === 'batch') {
    for (const member of raw.members) {
      if (member.field === FIELD.context || member.field === FIELD.integrations) return undefined;
      if (member.field === FIELD.sentAt) {
        const sentAt = memberValue(text, member);
        if (typeof sentAt === 'string' && isIsoDate(sentAt)) batchSentAt = sentAt;
      }
    }
    if (raw.messages.length === 0 || raw.messages.length > ctx.limits.maxBatchMessages) return undefined;
  }
  const prepared = requestParts(prepareStamp(batchSentAt === undefined ? stamp : { ...stamp, batchSentAt }));
  const fixedType = route === 'batch' ? undefined : route;
  // Every message is read and checked before any is stamped: declining then costs nothing but time.
  const read: ReadMessage[] = [];
  for (const message of raw.messages) {
    const one = readMessage(text, message, prepared, ctx, fixedType);
    if (one === undefined) return undefined;
    read.push(one);
  }
  const stamped: StampedMessage[] = [];
  for (let index = 0; index < read.length; index++) {
    const record = stampedText(text, read[index] as ReadMessage, index, prepared, ctx);
    if (record === undefined) return undefined;
    stamped.push(record);
  }
  return { accepted: encodeAll(stamped, into), rejected: [] };
}

/** Stands in for a nested object or array the fast path copies as text and never looks into. */
const OBJECT_PLACEHOLDER: JsonObject = Object.freeze({});
const ARRAY_PLACEHOLDER: readonly unknown[] = Object.freeze([]);

/** The fields stamping may add, in the order it adds them: the first {@link APPENDABLE} of FIELDS. */
const APPENDABLE = FIELD.source + 1;

/** A message read from the text and found acceptable, before stamping. */
interface ReadMessage {
  readonly message: RawMessage;
  readonly type: CallType;
  /** The fields' values as received, by field number (nested objects as placeholders). */
  readonly received: readonly unknown[];
  /** One bit per field number the message has. */
  readonly present: number;
  /** The `context` member, when it is an object. */
  readonly context: RawMember | undefined;
  /** The general path's message object, of the fields only: what the checks and stamping see. */
  readonly view: JsonObject;
}

/** Reads and checks one message; `undefined` when the general path must decide it. */
function readMessage(
  text: string,
  message: RawMessage,
  stamp: PreparedStamp,
  ctx: CheckedContext,
  fixedType: CallType | undefined,
): ReadMessage | undefined {
  const members = message.members;
  const received: unknown[] = new Array(FIELDS.length);
  let present = 0;
  let context: RawMember | undefined;
  for (let i = 0; i < members.length; i++) {
    const member = members[i] as RawMember;
    const field = member.field;
    if (field === OTHER_FIELD) continue;
    if (field === FIELD.context && member.members !== undefined) {
      context = member;
      const ip = member.members.find(isIp);
      received[field] = ip === undefined ? {} : { ip: memberValue(text, ip) };
    } else {
      received[field] = memberValue(text, member);
    }
    present |= 1 << field;
  }
  const view = viewOf(received);

  const type = fixedType ?? view.type;
  if (typeof type !== 'string' || !CALL_TYPE_SET.has(type)) return undefined;
  if (!ctx.check(view, type as CallType)) return undefined;
  if (!isPresentId(view.userId) && !isPresentId(view.anonymousId)) return undefined;
  // The message as sent is never longer than its text (no exponents, escapes only shorten): within
  // the limit here, it is within it for the general path too. Past it, that path measures exactly.
  const span = message.end - message.start;
  if (
    span * 3 > ctx.limits.maxMessageBytes &&
    byteLength(text.slice(message.start, message.end)) > ctx.limits.maxMessageBytes
  ) {
    return undefined;
  }
  // A `context.ip` stamping would replace (empty, or not text) is left to the general path: rare.
  const ip = (received[FIELD.context] as JsonObject | undefined)?.ip;
  if (stamp.ip !== undefined && ip !== undefined && (typeof ip !== 'string' || ip === '')) return undefined;
  return { message, type: type as CallType, received, present, context, view };
}

/** The record text of a message {@link readMessage} accepted: what it sent, with the stamps. */
function stampedText(
  text: string,
  read: ReadMessage,
  index: number,
  stamp: RequestParts,
  ctx: CheckedContext,
): StampedMessage | undefined {
  const { message, received, present, context, view } = read;
  const members = message.members;
  normalizeMessage(view, read.type, stamp, ctx.limits, ctx.newId);
  const stamped = valuesOf(view);

  // The members in the order they came, each as received unless stamping changed it. Members kept as
  // received one after another are copied as one slice of the text, separators and all: the fewer the
  // pieces, the less it costs to join them when the record is encoded.
  let json = '{';
  let runStart = -1;
  let runEnd = -1;
  for (let i = 0; i < members.length; i++) {
    const member = members[i] as RawMember;
    const field = member.field;
    let part: string | undefined;
    if (field !== OTHER_FIELD) {
      const value = stamped[field];
      // Removed (the write key, empty ids): '', which ends a run and adds nothing.
      if (value === undefined) part = '';
      else if (value !== received[field]) part = memberText(field, value, stamp, received);
      else if (member === context) part = contextText(text, member, value as JsonObject);
    }
    if (part === undefined) {
      // As received: it extends the run (any member that is not ends the run before it).
      if (runStart < 0) runStart = member.start;
      runEnd = member.end;
      continue;
    }
    if (runStart >= 0) {
      json = joined(json, text.slice(runStart, runEnd));
      runStart = -1;
    }
    if (part !== '') json = joined(json, part);
  }
  if (runStart >= 0) json = joined(json, text.slice(runStart, runEnd));
  // ...then those stamping added.
  for (let field = 0; field < APPENDABLE; field++) {
    const value = stamped[field];
    if (value === undefined || (present & (1 << field)) !== 0) continue;
    json = joined(json, memberText(field, value, stamp, received));
  }
  json += '}';
  // Unreachable with the limits as they are (the stamps add far less than the allowance): a guard.
  const cap = recordCap(ctx.limits);
  if (json.length * 3 > cap && byteLength(json) > cap) return undefined;
  return { index, partitionKey: partitionKeyOf(view as StreamRecord), json };
}

/** The members so far (`{` and the first ones) with one more member (or run of them) after them. */
function joined(json: string, part: string): string {
  return json.length === 1 ? json + part : `${json},${part}`;
}

/**
 * `"context":{...}` as received, with the `ip` stamping added (last, where the general path's
 * serialisation puts a new key). {@link readMessage} declined the messages whose ip it would replace.
 */
function contextText(text: string, context: RawMember, stamped: JsonObject): string {
  const hadIp = context.members?.some(isIp) ?? false;
  if (hadIp || stamped.ip === undefined) return text.slice(context.start, context.end);
  const open = text.slice(context.start, context.valueStart + 1);
  const inner = text.slice(context.valueStart + 1, context.end - 1);
  const members = inner.trim() === '' ? '' : `${inner},`;
  return `${open}${members}"ip":${JSON.stringify(stamped.ip)}}`;
}

const isIp = (member: RawMember) => member.field === FIELD.ip;

/** The values by field number as a message object of one shape (absent fields `undefined`). */
function viewOf(v: readonly unknown[]): JsonObject {
  return {
    type: v[FIELD.type],
    messageId: v[FIELD.messageId],
    context: v[FIELD.context],
    integrations: v[FIELD.integrations],
    sentAt: v[FIELD.sentAt],
    originalTimestamp: v[FIELD.originalTimestamp],
    timestamp: v[FIELD.timestamp],
    receivedAt: v[FIELD.receivedAt],
    source: v[FIELD.source],
    userId: v[FIELD.userId],
    anonymousId: v[FIELD.anonymousId],
    previousId: v[FIELD.previousId],
    groupId: v[FIELD.groupId],
    writeKey: v[FIELD.writeKey],
    event: v[FIELD.event],
    name: v[FIELD.name],
    category: v[FIELD.category],
    properties: v[FIELD.properties],
    traits: v[FIELD.traits],
  };
}

/** The inverse of {@link viewOf}: a stamped view's values by field number. */
function valuesOf(view: JsonObject): unknown[] {
  const v: unknown[] = new Array(FIELDS.length);
  v[FIELD.type] = view.type;
  v[FIELD.messageId] = view.messageId;
  v[FIELD.context] = view.context;
  v[FIELD.integrations] = view.integrations;
  v[FIELD.sentAt] = view.sentAt;
  v[FIELD.originalTimestamp] = view.originalTimestamp;
  v[FIELD.timestamp] = view.timestamp;
  v[FIELD.receivedAt] = view.receivedAt;
  v[FIELD.source] = view.source;
  v[FIELD.userId] = view.userId;
  v[FIELD.anonymousId] = view.anonymousId;
  v[FIELD.previousId] = view.previousId;
  v[FIELD.groupId] = view.groupId;
  v[FIELD.writeKey] = view.writeKey;
  v[FIELD.event] = view.event;
  v[FIELD.name] = view.name;
  v[FIELD.category] = view.category;
  v[FIELD.properties] = view.properties;
  v[FIELD.traits] = view.traits;
  return v;
}

/** `"name":` of each field, and `"name":"` for a string value to follow. */
const MEMBER_NAMES = FIELDS.map((name) => `"${name}":`);
const MEMBER_NAMES_QUOTED = FIELDS.map((name) => `"${name}":"`);

/** `"name":value` for a member stamping wrote. */
function memberText(
  field: number,
  value: unknown,
  stamp: RequestParts,
  received: readonly unknown[],
): string {
  const name = MEMBER_NAMES[field] as string;
  if (value === stamp.receivedAtIso) return name + stamp.receivedAtJson;
  if (value === stamp.source) return name + stamp.sourceJson;
  if (value === stamp.batchSentAtIso && stamp.batchSentAtJson !== undefined)
    return name + stamp.batchSentAtJson;
  // A time as sent (`originalTimestamp`) passed the ISO check: nothing in it needs escaping.
  if (value === received[FIELD.timestamp] || value === received[FIELD.originalTimestamp])
    return `${MEMBER_NAMES_QUOTED[field] as string}${value as string}"`;
  return name + (typeof value === 'string' ? quoted(value) : JSON.stringify(value));
}

/** A request's stamp with the JSON of the values every message of it gets, written once. */
interface RequestParts extends PreparedStamp {
  readonly receivedAtJson: string;
  readonly sourceJson: string;
  readonly batchSentAtJson?: string;
}

function requestParts(stamp: PreparedStamp): RequestParts {
  return {
    ...stamp,
    receivedAtJson: JSON.stringify(stamp.receivedAtIso),
    sourceJson: JSON.stringify(stamp.source),
    ...(stamp.batchSentAtIso === undefined ? {} : { batchSentAtJson: JSON.stringify(stamp.batchSentAtIso) }),
  };
}

/** `JSON.stringify` of a string, without its cost for the plain ASCII of ids and times. */
function quoted(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(value);
  }
  return `"${value}"`;
}

/** The value of a member as `JSON.parse` reads it; objects and arrays as placeholders. */
function memberValue(text: string, member: RawMember): unknown {
  switch (member.kind) {
    case RawKind.String:
      return text.slice(member.valueStart + 1, member.end - 1);
    case RawKind.EscapedString:
      return JSON.parse(text.slice(member.valueStart, member.end)) as string;
    case RawKind.Number:
      return Number(text.slice(member.valueStart, member.end));
    case RawKind.True:
      return true;
    case RawKind.False:
      return false;
    case RawKind.Null:
      return null;
    case RawKind.Object:
      return OBJECT_PLACEHOLDER;
    default:
      return ARRAY_PLACEHOLDER;
  }
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');
