import type { CollectorLimits } from '../config/limits';
import type { JsonObject } from '../events/stream-record';
import { parseJsonObject } from '../json-object';
import type { RequestStamp } from './normalize';
import { type CheckedContext, type IngestRoute, type PreparedIngest, prepareIngest } from './prepare-ingest';
import { prepareFromText } from './prepare-raw';
import { FIELD, type RawBody, RawKind } from './raw-json';
import type { RecordBuffer } from './record-buffers';
import { scanBody } from './scan-body';

/**
 * A request body as the collector reads it: scanned in place when its text is one the fast path
 * reads ({@link scanBody}), else parsed.
 */
export type IngestBody = { readonly text: string; readonly raw: RawBody } | { readonly parsed: JsonObject };

/** Reads a request's JSON text. Throws the 400 the API answers when it is not a JSON object. */
export function readIngestBody(
  text: string,
  route: IngestRoute,
  limits: Pick<CollectorLimits, 'maxDepth' | 'maxKeys'>,
): IngestBody {
  const raw = scanBody(text, route !== 'batch', limits);
  if (raw !== undefined) return { text, raw };
  return { parsed: parseJsonObject(text) };
}

/** The body's `writeKey` when it is a string (an Authorization header's wins: see the use case). */
export function bodyWriteKey(body: IngestBody): string | undefined {
  if ('parsed' in body) return typeof body.parsed.writeKey === 'string' ? body.parsed.writeKey : undefined;
  const member = body.raw.members.find((m) => m.field === FIELD.writeKey);
  if (member === undefined || (member.kind !== RawKind.String && member.kind !== RawKind.EscapedString))
    return undefined;
  return JSON.parse(body.text.slice(member.valueStart, member.end)) as string;
}

/**
 * Validates and stamps every message of the body ({@link prepareIngest}): from its text when every
 * message is accepted as it is, else through the general path. The records are encoded into `into`
 * as far as it has room.
 */
export function prepareIngestBody(
  body: IngestBody,
  route: IngestRoute,
  stamp: Omit<RequestStamp, 'batchContext' | 'batchIntegrations' | 'batchSentAt'>,
  ctx: CheckedContext,
  into?: RecordBuffer,
): PreparedIngest {
  if ('parsed' in body) return prepareIngest(body.parsed, route, stamp, ctx, into);
  return (
    prepareFromText(body.text, body.raw, route, stamp, ctx, into) ??
    prepareIngest(parseJsonObject(body.text), route, stamp, ctx, into)
  );
}
