import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDestinationDeliveryHandler } from '../../functions/destination-delivery/handler';
import { SqsDeliveryContinuations } from '../../src/adapters/aws/sqs-delivery-continuations';
import { type Destination, parseDestinationsConfig } from '../../src/core/activation/destination-config';
import type { HttpOutcome } from '../../src/core/activation/http-retry';
import { ManualClock } from '../../src/ports/clock';
import type { DeliveryOutcome } from '../../src/ports/delivery-metrics';
import { deliverAudience } from '../../src/use-cases/deliver-audience';
import {
  ArrayAudienceReader,
  audienceMembers,
  EXPORT_ID,
  exportEvent,
  exportRecord,
  MemoryDeadLetters,
  MemoryLedger,
  profilesOf,
  ScriptedSender,
} from '../support/delivery-fakes';
import { RecordingLogger } from '../support/recording-logger';

const sqs = mockClient(SQSClient);
const OWN_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-delivery-crm';

const MEMBERS = audienceMembers(50);
const destination = parseDestinationsConfig({
  destinations: [
    {
      kind: 'sqs',
      name: 'crm',
      queue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm',
      segments: ['pro-buyers'],
      consent: { category: 'email_marketing' },
      batchSize: 10,
      retry: { maxAttempts: 5 },
      fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
    },
  ],
}).destinations[0] as Destination;

/** A Lambda context whose remaining time is what the test says. */
function context(remainingMs: () => number): Context {
  return { getRemainingTimeInMillis: remainingMs, awsRequestId: 'req-1' } as unknown as Context;
}

function record(body: string, messageId = 'm-1'): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:mosaic-delivery-crm',
    awsRegion: 'eu-west-1',
  };
}
const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function setup(script?: (batch: number, attempt: number) => HttpOutcome) {
  const sender = new ScriptedSender(script);
  const ledger = new MemoryLedger();
  const deadLetters = new MemoryDeadLetters();
  const sleeps: number[] = [];
  const logger = new RecordingLogger();
  const results: DeliveryOutcome[] = [];
  let badMessages = 0;
  const reader = new ArrayAudienceReader(MEMBERS);
  const handler = createDestinationDeliveryHandler({
    destination,
    deliver: (input, budget) =>
      deliverAudience(
        {
          exports: { getExport: async (id) => (id === EXPORT_ID ? exportRecord : undefined) },
          reader,
          profiles: profilesOf(MEMBERS),
          ledger,
          deadLetters,
          sender,
          clock: new ManualClock(Date.parse('2026-11-22T12:00:00Z')),
          sleep: async (ms) => {
            sleeps.push(ms);
          },
          random: () => 0.5,
          logger,
          budget,
        },
        input,
      ),
    continuations: new SqsDeliveryContinuations({ client: new SQSClient({}), queueUrl: OWN_QUEUE }),
    metrics: {
      delivery: (result) => results.push(result),
      badMessage: () => {
        badMessages++;
      },
    },
    logger,
  });
  return { handler, sender, ledger, deadLetters, sleeps, logger, results, bad: () => badMessages };
}

/** The continuations re-queued to the function's own queue: body and delay. */
function continuations() {
  return sqs.commandCalls(SendMessageCommand).map((call) => ({
    queue: call.args[0].input.QueueUrl,
    body: JSON.parse(call.args[0].input.MessageBody ?? ''),
    delaySeconds: call.args[0].input.DelaySeconds,
  }));
}

const plenty = context(() => 290_000);
const event = exportEvent(50);

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'c-1' });
});

describe('destination delivery handler', () => {
  it('delivers the envelope its rule delivered: every batch once, the summary logged and counted, no failure', async () => {
    const { handler, sender, logger, results } = setup();
    const answer = await handler(sqsEvent(record(JSON.stringify(event))), plenty);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(sender.acceptedBatches()).toEqual([0, 1, 2, 3, 4]);
    expect(results).toEqual([
      expect.objectContaining({ outcome: 'delivered', summary: expect.objectContaining({ sent: 50 }) }),
    ]);
    const finished = logger.lines.find((l) => l.message === 'delivery finished');
    expect(finished?.attributes).toMatchObject({ sent: 50, suppressedByConsent: 0, failed: 0 });
    // No PII in the logs.
    expect(logger.text()).not.toContain('@example.com');
    expect(continuations()).toEqual([]);
  });

  it('a replay of the same envelope sends nothing again', async () => {
    const { handler, sender, results } = setup();
    await handler(sqsEvent(record(JSON.stringify(event))), plenty);
    const again = await handler(
      sqsEvent(record(JSON.stringify({ ...event, id: 'replay-1' }), 'm-2')),
      plenty,
    );
    expect(again).toEqual({ batchItemFailures: [] });
    expect(sender.accepted).toHaveLength(5);
    expect(results[1]).toMatchObject({ outcome: 'delivered', alreadyDelivered: 5, summary: { sent: 0 } });
  });

  it('a dead letter redriven from the DLQ delivers that batch alone', async () => {
    let denied = true;
    const { handler, sender, deadLetters } = setup((batch) =>
      batch === 2 && denied ? { kind: 'response', status: 403 } : { kind: 'response', status: 200 },
    );
    await handler(sqsEvent(record(JSON.stringify(event))), plenty);
    expect(sender.acceptedBatches()).toEqual([0, 1, 3, 4]);
    expect(deadLetters.letters).toHaveLength(1);
    const letter = deadLetters.letters[0];
    expect(letter).toMatchObject({ batchIndex: 2, reason: 'permanent', status: 403 });

    denied = false; // the receiver's permissions are fixed; the operator redrives the DLQ
    const answer = await handler(sqsEvent(record(JSON.stringify(letter), 'm-dlq')), plenty);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(sender.acceptedBatches()).toEqual([0, 1, 3, 4, 2]);
    expect(sender.attempts.filter((a) => a.batch !== 2)).toHaveLength(4);
  });

  it('a long Retry-After re-queues a continuation with that delay instead of sleeping; the continuation finishes within the attempts', async () => {
    const { handler, sender, sleeps } = setup((batch, attempt) =>
      batch === 1 && attempt <= 2
        ? { kind: 'response', status: 429, retryAfter: '120' }
        : { kind: 'response', status: 200 },
    );
    const answer = await handler(sqsEvent(record(JSON.stringify(event))), plenty);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(sleeps).toEqual([]);
    expect(sender.acceptedBatches()).toEqual([0]);
    const [first] = continuations();
    expect(first).toEqual({
      queue: OWN_QUEUE,
      delaySeconds: 120,
      body: { mosaicContinuation: 1, event, fromBatch: 1, attemptsSoFar: 1 },
    });

    // SQS hands the continuation back after its delay; batch 1 is rate limited once more.
    await handler(sqsEvent(record(JSON.stringify(first?.body), 'm-c1')), plenty);
    const second = continuations()[1];
    expect(second?.body).toMatchObject({ fromBatch: 1, attemptsSoFar: 2 });
    await handler(sqsEvent(record(JSON.stringify(second?.body), 'm-c2')), plenty);
    expect(sender.acceptedBatches()).toEqual([0, 1, 2, 3, 4]);
    expect(sender.attempts.filter((a) => a.batch === 1).map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([]);
  });

  it('a short back-off is slept in place; running short of time re-queues a continuation at the next batch', async () => {
    let remaining = 290_000;
    const { handler, sender, sleeps } = setup((batch, attempt) => {
      remaining -= 50_000;
      return batch === 0 && attempt === 1
        ? { kind: 'response', status: 503 }
        : { kind: 'response', status: 200 };
    });
    await handler(
      sqsEvent(record(JSON.stringify(event))),
      context(() => remaining),
    );
    // 503 then a back-off of a second or so (under 30 s): slept here.
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeLessThan(30_000);
    // 290 s - 5 × 50 s = 40 s left after batch 3: under the 60 s kept in hand.
    expect(sender.acceptedBatches()).toEqual([0, 1, 2, 3]);
    expect(continuations()).toEqual([
      {
        queue: OWN_QUEUE,
        delaySeconds: 0,
        body: { mosaicContinuation: 1, event, fromBatch: 4, attemptsSoFar: 0 },
      },
    ]);
  });

  it('an invocation that starts short of time still sends one batch before it re-queues the rest', async () => {
    const { handler, sender } = setup();
    await handler(
      sqsEvent(record(JSON.stringify(event))),
      context(() => 20_000),
    );
    expect(sender.acceptedBatches()).toEqual([0]);
    expect(continuations().map((c) => c.body.fromBatch)).toEqual([1]);
  });

  it('a message that cannot be read fails alone; the others are delivered', async () => {
    const { handler, sender, bad, logger } = setup();
    const answer = await handler(
      sqsEvent(
        record('{not json', 'm-bad'),
        record(JSON.stringify(event), 'm-good'),
        record(JSON.stringify({ hello: 'world' }), 'm-odd'),
      ),
      plenty,
    );
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }, { itemIdentifier: 'm-odd' }] });
    expect(sender.accepted).toHaveLength(5);
    expect(bad()).toBe(2);
    expect(logger.text()).not.toContain('{not json');
  });

  it("another destination's dead letter, or one without its event, fails", async () => {
    const { handler, sender } = setup();
    const letter = {
      destination: 'other',
      exportId: EXPORT_ID,
      segmentId: 'pro-buyers',
      batchIndex: 0,
      idempotencyKey: 'k',
      members: 10,
      reason: 'permanent',
      attempts: 1,
      failedAt: '2026-11-22T10:00:00.000Z',
      event,
    };
    const { event: _, ...noEvent } = { ...letter, destination: 'crm' };
    const answer = await handler(
      sqsEvent(record(JSON.stringify(letter), 'm-other'), record(JSON.stringify(noEvent), 'm-none')),
      plenty,
    );
    expect(answer.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-other', 'm-none']);
    expect(sender.accepted).toHaveLength(0);
  });

  it('a delivery whose dependency fails fails its message (SQS delivers it again)', async () => {
    const { handler } = setup();
    const unknownExport = exportEvent(50);
    (unknownExport.detail as Record<string, unknown>).exportId = 'x99999999990000000000';
    const answer = await handler(sqsEvent(record(JSON.stringify(unknownExport), 'm-x')), plenty);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-x' }] });
  });
});
