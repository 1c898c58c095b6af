import { describe, expect, it } from 'vitest';
import { readDeliveryMessage } from '../../src/core/activation/delivery-message';
import { BadRequestError } from '../../src/core/errors';

const envelope = {
  version: '0',
  id: 'evt-1',
  'detail-type': 'Audience Export Completed',
  source: 'mosaic',
  account: '123456789012',
  time: '2026-11-23T00:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/x', 7],
  detail: { version: 1, exportId: 'exp-1' },
};

describe('readDeliveryMessage', () => {
  it('reads the envelope a rule delivered, keeping only string resources', () => {
    expect(readDeliveryMessage(JSON.stringify(envelope), 'crm')).toEqual({
      kind: 'event',
      event: { ...envelope, resources: ['arn:aws:events:eu-west-1:123456789012:rule/x'] },
    });
  });

  it('reads a continuation with where to go on and the attempts spent', () => {
    const body = { mosaicContinuation: 1, event: envelope, fromBatch: 3, attemptsSoFar: 2, onlyBatch: 3 };
    expect(readDeliveryMessage(JSON.stringify(body), 'crm')).toMatchObject({
      kind: 'continuation',
      fromBatch: 3,
      attemptsSoFar: 2,
      onlyBatch: 3,
      event: { id: 'evt-1' },
    });
  });

  it("reads this destination's dead letter as its batch alone", () => {
    const body = { idempotencyKey: 'k', destination: 'crm', batchIndex: 4, event: envelope };
    expect(readDeliveryMessage(JSON.stringify(body), 'crm')).toMatchObject({
      kind: 'redrive',
      onlyBatch: 4,
      event: { id: 'evt-1' },
    });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['not an object', '[1]', /not a JSON object/],
    ['not an EventBridge event', JSON.stringify({ id: 'x' }), /not an EventBridge event/],
    [
      'a continuation with a fractional batch',
      JSON.stringify({ mosaicContinuation: 1, event: envelope, fromBatch: 1.5, attemptsSoFar: 0 }),
      /fromBatch is not a whole number/,
    ],
    [
      'a continuation with negative attempts',
      JSON.stringify({ mosaicContinuation: 1, event: envelope, fromBatch: 0, attemptsSoFar: -1 }),
      /attemptsSoFar is not a whole number/,
    ],
    [
      "another destination's dead letter",
      JSON.stringify({ idempotencyKey: 'k', destination: 'other', batchIndex: 0, event: envelope }),
      /another destination's/,
    ],
    [
      'a dead letter without its event',
      JSON.stringify({ idempotencyKey: 'k', destination: 'crm', batchIndex: 0 }),
      /names no event/,
    ],
  ])('refuses %s with a clear reason', (_name, body, reason) => {
    expect(() => readDeliveryMessage(body, 'crm')).toThrow(BadRequestError);
    expect(() => readDeliveryMessage(body, 'crm')).toThrow(reason);
  });
});
