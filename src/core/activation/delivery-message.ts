import { BadRequestError } from '../errors';
import type { BusEnvelope } from '../events/bus-event';

/**
 * What a message on a destination's delivery queue asks for (issue #5), one of:
 * - `event`: the `Audience Export Completed` envelope its EventBridge rule delivered → the whole delivery;
 * - `continuation`: one the delivery function re-queued (`mosaicContinuation`) → from a batch on;
 * - `redrive`: a dead letter moved back from the DLQ (`idempotencyKey`, `batchIndex`, `event`) → that
 *   batch alone.
 */
export interface DeliveryMessage {
  readonly kind: 'event' | 'continuation' | 'redrive';
  readonly event: BusEnvelope;
  /** Start at this batch (a continuation). */
  readonly fromBatch?: number;
  /** Attempts of the first batch already made (a continuation). */
  readonly attemptsSoFar?: number;
  /** Only this batch (a redriven dead letter, or its continuation). */
  readonly onlyBatch?: number;
}

/** What a queue message asks for; a `BadRequestError` when it is none of the three shapes. */
export function readDeliveryMessage(body: string, destination: string): DeliveryMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BadRequestError('the message is not JSON');
  }
  if (!isObject(value)) throw new BadRequestError('the message is not a JSON object');
  if (value.mosaicContinuation === 1) {
    const event = envelopeOf(value.event);
    const fromBatch = batchIndexOf(value.fromBatch, 'fromBatch');
    const attemptsSoFar = batchIndexOf(value.attemptsSoFar, 'attemptsSoFar');
    const onlyBatch = value.onlyBatch === undefined ? undefined : batchIndexOf(value.onlyBatch, 'onlyBatch');
    return {
      kind: 'continuation',
      event,
      fromBatch,
      attemptsSoFar,
      ...(onlyBatch === undefined ? {} : { onlyBatch }),
    };
  }
  if (typeof value.idempotencyKey === 'string' && 'batchIndex' in value) {
    if (value.destination !== destination) {
      throw new BadRequestError("the dead letter is another destination's");
    }
    if (value.event === undefined)
      throw new BadRequestError('the dead letter names no event to rebuild from');
    return {
      kind: 'redrive',
      event: envelopeOf(value.event),
      onlyBatch: batchIndexOf(value.batchIndex, 'batchIndex'),
    };
  }
  return { kind: 'event', event: envelopeOf(value) };
}

function envelopeOf(value: unknown): BusEnvelope {
  if (
    !isObject(value) ||
    typeof value.id !== 'string' ||
    typeof value['detail-type'] !== 'string' ||
    typeof value.source !== 'string' ||
    !isObject(value.detail)
  ) {
    throw new BadRequestError('the message is not an EventBridge event');
  }
  return {
    version: '0',
    id: value.id,
    'detail-type': value['detail-type'],
    source: value.source,
    account: typeof value.account === 'string' ? value.account : '',
    time: typeof value.time === 'string' ? value.time : '',
    region: typeof value.region === 'string' ? value.region : '',
    resources: Array.isArray(value.resources) ? value.resources.filter((r) => typeof r === 'string') : [],
    detail: value.detail,
  };
}

function batchIndexOf(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BadRequestError(`${name} is not a whole number`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
