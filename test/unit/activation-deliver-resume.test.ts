import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/core/activation/delivery-plan';
import { type Destination, parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { ManualClock } from '../../src/ports/clock';
import { type DeliverAudienceDeps, deliverAudience } from '../../src/use-cases/deliver-audience';
import type { DeliveryBudget } from '../../src/use-cases/send-batch';
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

/**
 * The delivery use case's options for the AWS delivery function: a budget that pauses a delivery
 * instead of waiting (long back-off, running short of time), resuming from a batch with the attempts
 * already spent, and delivering a single batch (a dead letter redriven).
 */
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
      retry: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 4000 },
      fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
    },
  ],
}).destinations[0] as Destination;

function setup(sender: ScriptedSender, budget?: DeliveryBudget) {
  const sleeps: number[] = [];
  const ledger = new MemoryLedger();
  const deadLetters = new MemoryDeadLetters();
  const deps: DeliverAudienceDeps = {
    exports: { getExport: async (id) => (id === EXPORT_ID ? exportRecord : undefined) },
    reader: new ArrayAudienceReader(MEMBERS),
    profiles: profilesOf(MEMBERS),
    ledger,
    deadLetters,
    sender,
    clock: new ManualClock(Date.parse('2026-11-22T12:00:00Z')),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    logger: new RecordingLogger(),
    ...(budget === undefined ? {} : { budget }),
  };
  return { deps, sleeps, ledger, deadLetters };
}

const event = exportEvent(50);

describe('deliverAudience: pausing and resuming', () => {
  it('a back-off the budget defers pauses at that batch, with the attempts spent; nothing is slept', async () => {
    const sender = new ScriptedSender((batch, attempt) =>
      batch === 2 && attempt === 1
        ? { kind: 'response', status: 429, retryAfter: '120' }
        : { kind: 'response', status: 200 },
    );
    const { deps, sleeps } = setup(sender, { exhausted: () => false, defers: (ms) => ms > 30_000 });
    const result = await deliverAudience(deps, { event, destination });
    expect(result).toMatchObject({
      outcome: 'paused',
      resume: { batchIndex: 2, attempts: 1, delayMs: 120_000 },
      summary: { sent: 20 },
    });
    expect(sleeps).toEqual([]);
    expect(sender.acceptedBatches()).toEqual([0, 1]);

    // The continuation: from batch 2, one attempt already spent.
    const resumed = await deliverAudience(deps, { event, destination, fromBatch: 2, attemptsSoFar: 1 });
    expect(resumed).toMatchObject({ outcome: 'delivered', summary: { sent: 30 }, alreadyDelivered: 0 });
    expect(sender.acceptedBatches()).toEqual([0, 1, 2, 3, 4]);
    expect(sender.attempts.filter((a) => a.batch === 2).map((a) => a.attempt)).toEqual([1, 2]);
  });

  it("attempts carried over count against the destination's policy: the batch is dead-lettered when they are spent", async () => {
    const sender = new ScriptedSender((batch) =>
      batch === 0 ? { kind: 'response', status: 503 } : { kind: 'response', status: 200 },
    );
    const { deps, deadLetters, sleeps } = setup(sender);
    const result = await deliverAudience(deps, { event, destination, attemptsSoFar: 3 });
    // maxAttempts 4: three spent before, one here.
    expect(sender.attempts.filter((a) => a.batch === 0)).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]).toMatchObject({ batchIndex: 0, reason: 'exhausted', attempts: 4, event });
    expect(result).toMatchObject({ outcome: 'delivered', summary: { sent: 40, failed: 10 } });
  });

  it('an exhausted budget pauses before the next batch, with no attempt spent', async () => {
    let batches = 0;
    const sender = new ScriptedSender(() => {
      batches++;
      return { kind: 'response', status: 200 };
    });
    const { deps } = setup(sender, { exhausted: () => batches >= 3, defers: () => false });
    const result = await deliverAudience(deps, { event, destination });
    expect(result).toMatchObject({ outcome: 'paused', resume: { batchIndex: 3, attempts: 0, delayMs: 0 } });
    expect(sender.acceptedBatches()).toEqual([0, 1, 2]);
  });

  it('a replay finds every batch in the ledger and sends nothing; batches before fromBatch are not even looked up', async () => {
    const sender = new ScriptedSender();
    const { deps, ledger } = setup(sender);
    await deliverAudience(deps, { event, destination });
    expect(ledger.records.size).toBe(5);
    const replay = await deliverAudience(deps, { event, destination });
    expect(replay).toMatchObject({ outcome: 'delivered', alreadyDelivered: 5, summary: { sent: 0 } });
    const from = await deliverAudience(deps, { event, destination, fromBatch: 3 });
    expect(from).toMatchObject({ outcome: 'delivered', alreadyDelivered: 2 });
    expect(sender.accepted).toHaveLength(5);
  });

  it('onlyBatch delivers that batch alone (a redriven dead letter), and not again once it is in the ledger', async () => {
    const sender = new ScriptedSender();
    const { deps, ledger } = setup(sender);
    const result = await deliverAudience(deps, { event, destination, onlyBatch: 3 });
    expect(result).toMatchObject({ outcome: 'delivered', summary: { sent: 10, batches: { total: 1 } } });
    expect(sender.acceptedBatches()).toEqual([3]);
    expect([...ledger.records.values()].map((r) => r.idempotencyKey)).toEqual([
      idempotencyKey(EXPORT_ID, 'crm', 3),
    ]);
    expect(sender.accepted[0]?.members.map((m) => m.profileId)).toEqual(
      MEMBERS.slice(30, 40).map((m) => m.profileId),
    );
    const again = await deliverAudience(deps, { event, destination, onlyBatch: 3 });
    expect(again).toMatchObject({ outcome: 'delivered', alreadyDelivered: 1, summary: { sent: 0 } });
    expect(sender.accepted).toHaveLength(1);
    // The last batch too.
    await deliverAudience(deps, { event, destination, onlyBatch: 4 });
    expect(sender.acceptedBatches()).toEqual([3, 4]);
  });
});
