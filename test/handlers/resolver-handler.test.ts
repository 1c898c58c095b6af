import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { describe, expect, it, vi } from 'vitest';
import { createResolverHandler, decodeRecord } from '../../functions/resolver/handler';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { silentLogger } from '../../src/ports/logger';
import type { BatchOutcome } from '../../src/use-cases/resolve-identities';
import { lambdaContext } from '../support/api-gateway-event';
import { kinesisEvent, kinesisRecord } from '../support/kinesis-event';
import { streamRecord } from '../support/resolver-harness';

const records = (n: number): StreamRecord[] =>
  Array.from({ length: n }, (_, i) =>
    streamRecord({ type: 'track', anonymousId: `a-${i}`, event: 'Viewed' }),
  );

function handlerWith(outcome: (records: readonly StreamRecord[]) => BatchOutcome) {
  const resolve = vi.fn(async (batch: readonly StreamRecord[]) => outcome(batch));
  return { resolve, handler: createResolverHandler({ resolve, logger: silentLogger }) };
}

describe('resolver handler (functions/resolver/handler.ts)', () => {
  it('hands the decoded stream records to the use case in order; nothing failed → no batch item failures', async () => {
    const sent = records(3);
    const { resolve, handler } = handlerWith(() => ({ failed: [] }));
    expect(await handler(kinesisEvent(sent), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(resolve.mock.calls[0]?.[0]).toEqual(sent);
  });

  it('reports the records the use case did not resolve by their sequence numbers', async () => {
    const event = kinesisEvent(records(5));
    const { handler } = handlerWith(() => ({ failed: [2, 3, 4] }));
    const response = await handler(event, lambdaContext());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      event.Records.slice(2).map((r) => r.kinesis.sequenceNumber),
    );
  });

  it('fails a record that is not a stream record, and everything after it, without resolving them', async () => {
    const good = records(4);
    const event = kinesisEvent([
      good[0] as StreamRecord,
      'not json',
      good[2] as StreamRecord,
      good[3] as StreamRecord,
    ]);
    const { resolve, handler } = handlerWith(() => ({ failed: [] }));
    const response = await handler(event, lambdaContext());
    expect(resolve.mock.calls[0]?.[0]).toEqual([good[0]]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      event.Records.slice(1).map((r) => r.kinesis.sequenceNumber),
    );
  });

  it('throws when every record failed, so Lambda retries (and bisects) the batch', async () => {
    const { handler } = handlerWith((batch) => ({ failed: batch.map((_, i) => i) }));
    await expect(handler(kinesisEvent(records(3)), lambdaContext())).rejects.toBeInstanceOf(
      FullBatchFailureError,
    );
  });

  it('a use case that throws fails the invocation (nothing is acknowledged)', async () => {
    const handler = createResolverHandler({
      resolve: async () => {
        throw new Error('store unreachable');
      },
      logger: silentLogger,
    });
    await expect(handler(kinesisEvent(records(2)), lambdaContext())).rejects.toThrow('store unreachable');
  });
});

describe('decodeRecord', () => {
  it('accepts what the collector writes and refuses anything else', () => {
    const record = records(1)[0] as StreamRecord;
    expect(decodeRecord(kinesisRecord(record, 0))).toEqual(record);
    for (const bad of [
      'not json',
      '[]',
      'null',
      JSON.stringify({ ...record, type: 'purchase' }),
      JSON.stringify({ ...record, messageId: '' }),
      JSON.stringify({ ...record, source: undefined }),
      JSON.stringify({ ...record, receivedAt: 42 }),
      JSON.stringify({ ...record, timestamp: undefined }),
    ]) {
      expect(decodeRecord(kinesisRecord(bad, 0)), bad.slice(0, 40)).toBeUndefined();
    }
  });
});
