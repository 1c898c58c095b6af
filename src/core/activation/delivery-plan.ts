import { compareStrings } from '../identity/identifier';
import type { JsonValue } from '../profile/profile';
import { type ConsentPreferences, decideConsent } from './consent';
import type { Destination, DestinationKind, PayloadTemplate } from './destination-config';
import {
  applyPiiPolicy,
  type FieldPolicy,
  type HashOptions,
  type MemberRecord,
  type OutboundMember,
  sha256Hex,
} from './pii';
import { renderTemplate } from './template';

/**
 * How an audience reaches one destination, decided without I/O: members sorted by profile id and cut
 * into batches of the destination's size; each batch with an idempotency key that depends only on
 * (export, destination, batch index), so a retry or a replay of the same export sends the same batches
 * under the same keys; consent and PII policy applied per member; the payload built (template or the
 * default shape); and, where a transport cannot carry it, a pointer to the payload in S3 instead.
 */

/** One member of an audience, as read for delivery: its record and its consent preferences. */
export interface AudienceMember extends MemberRecord {
  /** `profile.consent.categoryPreferences`; absent when the profile never stated consent. */
  readonly consent?: ConsentPreferences;
}

/** A slice of the audience. */
export interface DeliveryBatch<T> {
  /** 0-based position. */
  readonly index: number;
  /** Batches in the delivery. */
  readonly total: number;
  readonly members: readonly T[];
}

/**
 * Cuts members into batches of at most `batchSize`, in profile-id order (code units), each profile
 * once (the first record of a repeated profile id is kept). The same members in any order give the
 * same batches, so batch `i` of a replayed export holds the same people as the first time.
 */
export function planBatches<T extends { readonly profileId: string }>(
  members: readonly T[],
  batchSize: number,
): DeliveryBatch<T>[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize is a positive integer');
  const seen = new Set<string>();
  const unique: T[] = [];
  for (const member of members) {
    if (seen.has(member.profileId)) continue;
    seen.add(member.profileId);
    unique.push(member);
  }
  unique.sort((a, b) => compareStrings(a.profileId, b.profileId));
  const total = Math.ceil(unique.length / batchSize);
  const batches: DeliveryBatch<T>[] = [];
  for (let index = 0; index < total; index++) {
    batches.push({ index, total, members: unique.slice(index * batchSize, (index + 1) * batchSize) });
  }
  return batches;
}

/**
 * The idempotency key of one batch: SHA-256 (hex) of (scheme, export id, destination, batch index) —
 * stable across retries and replays, distinct for any other export, destination or batch (the parts
 * are JSON-encoded, so no two tuples give the same text). Sent as the `Idempotency-Key` header and in
 * the default payload's `batch`.
 */
export function idempotencyKey(exportId: string, destination: string, batchIndex: number): string {
  return sha256Hex(JSON.stringify(['mosaic-delivery-v1', exportId, destination, batchIndex]));
}

/** What the payload of a batch knows about the batch. */
export interface BatchContext {
  readonly exportId: string;
  readonly segmentId: string;
  readonly destination: string;
  readonly idempotencyKey: string;
  readonly batch: { readonly index: number; readonly total: number; readonly size: number };
}

/**
 * The payload of a batch: the destination's template rendered, or the default shape
 * `{ exportId, segmentId, destination, batch: { index, total, size, idempotencyKey }, members }`.
 */
export function buildPayload(
  context: BatchContext,
  members: readonly OutboundMember[],
  template?: PayloadTemplate,
): JsonValue {
  const memberJson = members.map((member) =>
    template?.member === undefined
      ? (member as unknown as JsonValue)
      : renderTemplate(template.member as JsonValue, (name) => memberValue(member, name)),
  );
  if (template === undefined) {
    return {
      exportId: context.exportId,
      segmentId: context.segmentId,
      destination: context.destination,
      batch: { ...context.batch, idempotencyKey: context.idempotencyKey },
      members: memberJson,
    };
  }
  const values: Record<string, JsonValue> = {
    exportId: context.exportId,
    segmentId: context.segmentId,
    destination: context.destination,
    idempotencyKey: context.idempotencyKey,
    'batch.index': context.batch.index,
    'batch.total': context.batch.total,
    'batch.size': context.batch.size,
    members: memberJson,
  };
  return renderTemplate(template.body as JsonValue, (name) =>
    Object.hasOwn(values, name) ? values[name] : undefined,
  );
}

/** A member's value for a template placeholder (`profileId`, `identifiers.<type>`, `traits.<name>`). */
export function memberValue(member: OutboundMember, name: string): JsonValue | undefined {
  if (name === 'profileId') return member.profileId;
  const dot = name.indexOf('.');
  const group = name.slice(0, dot);
  const key = name.slice(dot + 1);
  if (group === 'identifiers' && Object.hasOwn(member.identifiers, key)) {
    return member.identifiers[key] as JsonValue;
  }
  if (group === 'traits' && Object.hasOwn(member.traits, key)) return member.traits[key];
  return undefined;
}

/** The largest payload sent inline through a size-capped transport (SQS, Lambda async, EventBridge). */
export const MAX_INLINE_PAYLOAD_BYTES = 256 * 1024;

/**
 * Whether a payload of `bytes` goes as an S3 pointer: only for transports with a message cap (SQS,
 * Lambda), above `limit`. Webhook bodies go inline (the receiver could not read Mosaic's bucket; the
 * batch size bounds them); S3 destinations are files already.
 */
export function needsS3Pointer(
  kind: DestinationKind,
  bytes: number,
  limit = MAX_INLINE_PAYLOAD_BYTES,
): boolean {
  return (kind === 'sqs' || kind === 'lambda') && bytes > limit;
}

/** What a target receives instead of a payload too large for its transport. */
export interface S3PayloadPointer {
  readonly mosaicPayloadPointer: {
    readonly version: 1;
    readonly bucket: string;
    readonly key: string;
    readonly bytes: number;
    /** SHA-256 (hex) of the object's bytes, to check what was read. */
    readonly sha256: string;
    readonly contentType: 'application/json';
  };
  readonly exportId: string;
  readonly segmentId: string;
  readonly destination: string;
  readonly idempotencyKey: string;
  readonly batch: BatchContext['batch'];
}

/** Whether a received message is an S3 pointer (for targets that read Mosaic's messages). */
export function isS3PayloadPointer(message: unknown): message is S3PayloadPointer {
  if (typeof message !== 'object' || message === null) return false;
  const pointer = (message as { mosaicPayloadPointer?: unknown }).mosaicPayloadPointer;
  return typeof pointer === 'object' && pointer !== null && (pointer as { version?: unknown }).version === 1;
}

/**
 * Where a large payload is stored: `<prefix>payloads/<exportId>/<destination>/<batch index, 6 digits>.json`
 * — fixed by (export, destination, batch), so a retry overwrites the same object.
 */
export function payloadPointerKey(
  prefix: string,
  context: Pick<BatchContext, 'exportId' | 'destination' | 'batch'>,
): string {
  const index = String(context.batch.index).padStart(6, '0');
  return `${prefix}payloads/${context.exportId}/${context.destination}/${index}.json`;
}

/** The payload of a batch ready to send: inline, or written to S3 with a pointer sent instead. */
export type PayloadTransport =
  | { readonly transport: 'inline'; readonly body: string; readonly bytes: number }
  | {
      readonly transport: 's3_pointer';
      /** The object to write first: the full payload. */
      readonly object: { readonly bucket: string; readonly key: string; readonly body: string };
      /** The pointer message (JSON) to send once the object is written. */
      readonly body: string;
      readonly bytes: number;
    };

/** Where large payloads are written. */
export interface PayloadBucket {
  readonly bucket: string;
  /** Key prefix, `''` or ending in `/`. */
  readonly prefix: string;
}

/** Decides how a serialised payload travels to a destination of `kind` (see {@link needsS3Pointer}). */
export function planPayloadTransport(
  kind: DestinationKind,
  body: string,
  context: BatchContext,
  bucket: PayloadBucket,
  limit = MAX_INLINE_PAYLOAD_BYTES,
): PayloadTransport {
  const bytes = utf8Bytes(body);
  if (!needsS3Pointer(kind, bytes, limit)) return { transport: 'inline', body, bytes };
  const key = payloadPointerKey(bucket.prefix, context);
  const pointer: S3PayloadPointer = {
    mosaicPayloadPointer: {
      version: 1,
      bucket: bucket.bucket,
      key,
      bytes,
      sha256: sha256Hex(body),
      contentType: 'application/json',
    },
    exportId: context.exportId,
    segmentId: context.segmentId,
    destination: context.destination,
    idempotencyKey: context.idempotencyKey,
    batch: context.batch,
  };
  const pointerBody = JSON.stringify(pointer);
  return {
    transport: 's3_pointer',
    object: { bucket: bucket.bucket, key, body },
    body: pointerBody,
    bytes: utf8Bytes(pointerBody),
  };
}

/** A batch with consent and PII policy applied, its payload built. */
export interface PreparedBatch {
  readonly context: BatchContext;
  /** The members that go (consent allowed), with their PII policy applied. */
  readonly members: readonly OutboundMember[];
  /** Members of the batch held back by consent (denied or unknown where the destination fails closed). */
  readonly suppressedByConsent: number;
  /** Hashed fields left out because their value did not normalise, over the batch's members. */
  readonly unhashableFields: number;
  /** The payload (JSON); `undefined` when no member of the batch may go (nothing to send). */
  readonly payload?: JsonValue;
}

export interface PrepareBatchInput {
  readonly exportId: string;
  readonly segmentId: string;
  readonly destination: Destination;
  readonly batch: DeliveryBatch<AudienceMember>;
  readonly fields: FieldPolicy;
  readonly hashOptions?: HashOptions;
}

/**
 * Prepares one batch: consent decided per member, PII policy applied to those allowed, payload built
 * (template for webhook, SQS and Lambda destinations that have one; the default shape otherwise).
 * Batches are cut before consent is applied, so a batch's key always covers the same people.
 */
export function prepareBatch(input: PrepareBatchInput): PreparedBatch {
  const { destination, batch } = input;
  const outbound: OutboundMember[] = [];
  let suppressed = 0;
  let unhashable = 0;
  for (const member of batch.members) {
    if (decideConsent(member.consent, destination).outcome !== 'allowed') {
      suppressed++;
      continue;
    }
    const result = applyPiiPolicy(member, input.fields, input.hashOptions);
    unhashable += result.unhashable.length;
    outbound.push(result.member);
  }
  const context: BatchContext = {
    exportId: input.exportId,
    segmentId: input.segmentId,
    destination: destination.name,
    idempotencyKey: idempotencyKey(input.exportId, destination.name, batch.index),
    batch: { index: batch.index, total: batch.total, size: outbound.length },
  };
  const template = destination.kind === 's3' ? undefined : destination.payload;
  return {
    context,
    members: outbound,
    suppressedByConsent: suppressed,
    unhashableFields: unhashable,
    ...(outbound.length === 0 ? {} : { payload: buildPayload(context, outbound, template) }),
  };
}

/** How one delivery of an export to a destination went. */
export interface DeliverySummary {
  readonly exportId: string;
  readonly segmentId: string;
  readonly destination: string;
  /** Members delivered (in batches the destination accepted). */
  readonly sent: number;
  /** Members held back by consent. */
  readonly suppressedByConsent: number;
  /** Members in batches that failed for good (now in the DLQ). */
  readonly failed: number;
  /** Hashed fields left out because their value did not normalise. */
  readonly unhashableFields: number;
  readonly batches: {
    readonly total: number;
    readonly sent: number;
    readonly failed: number;
    /** Batches with no member left after consent: nothing sent. */
    readonly empty: number;
  };
}

/** A summary with nothing counted yet. */
export function emptySummary(
  ids: Pick<DeliverySummary, 'exportId' | 'segmentId' | 'destination'>,
): DeliverySummary {
  return {
    exportId: ids.exportId,
    segmentId: ids.segmentId,
    destination: ids.destination,
    sent: 0,
    suppressedByConsent: 0,
    failed: 0,
    unhashableFields: 0,
    batches: { total: 0, sent: 0, failed: 0, empty: 0 },
  };
}

/**
 * The summary with one prepared batch's result counted (`sent` or `failed`; empty batches count as
 * empty).
 */
export function recordBatch(
  summary: DeliverySummary,
  batch: Pick<PreparedBatch, 'members' | 'suppressedByConsent' | 'unhashableFields'>,
  result: 'sent' | 'failed',
): DeliverySummary {
  const size = batch.members.length;
  const empty = size === 0;
  return {
    ...summary,
    sent: summary.sent + (!empty && result === 'sent' ? size : 0),
    failed: summary.failed + (!empty && result === 'failed' ? size : 0),
    suppressedByConsent: summary.suppressedByConsent + batch.suppressedByConsent,
    unhashableFields: summary.unhashableFields + batch.unhashableFields,
    batches: {
      total: summary.batches.total + 1,
      sent: summary.batches.sent + (!empty && result === 'sent' ? 1 : 0),
      failed: summary.batches.failed + (!empty && result === 'failed' ? 1 : 0),
      empty: summary.batches.empty + (empty ? 1 : 0),
    },
  };
}

function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

const encoder = new TextEncoder();
