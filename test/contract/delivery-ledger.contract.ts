import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveredBatch, DeliveryLedger } from '../../src/ports/delivery-ledger';

/** What an adapter supplies to run the {@link DeliveryLedger} contract. */
export interface DeliveryLedgerHarness {
  readonly ledger: DeliveryLedger;
  /** A second ledger over the same store (another function instance, or the same after a restart). */
  reopen(): Promise<DeliveryLedger>;
  close(): Promise<void>;
}

const batch = (over: Partial<DeliveredBatch> = {}): DeliveredBatch => ({
  destination: 'esp',
  idempotencyKey: 'a'.repeat(64),
  exportId: 'x0000000001',
  batchIndex: 0,
  members: 1000,
  deliveredAt: '2026-11-22T10:00:00.000Z',
  ...over,
});

/**
 * The delivery ledger's contract, for every adapter (the local NDJSON file, DynamoDB on dynalite and on
 * DynamoDB Local): a recorded batch is seen as delivered, by this ledger and by another over the same
 * store; keys are per destination; recording twice (in sequence or racing) changes nothing.
 */
export function describeDeliveryLedgerContract(
  name: string,
  open: () => Promise<DeliveryLedgerHarness>,
): void {
  describe(`DeliveryLedger contract: ${name}`, () => {
    let harness: DeliveryLedgerHarness;
    beforeEach(async () => {
      harness = await open();
    });
    afterEach(async () => {
      await harness.close();
    });

    it('a batch not recorded is not delivered; once recorded it is, for this ledger and another over the same store', async () => {
      const { ledger } = harness;
      expect(await ledger.isDelivered('esp', 'a'.repeat(64))).toBe(false);
      await ledger.recordDelivered(batch());
      expect(await ledger.isDelivered('esp', 'a'.repeat(64))).toBe(true);
      const again = await harness.reopen();
      expect(await again.isDelivered('esp', 'a'.repeat(64))).toBe(true);
      expect(await again.isDelivered('esp', 'b'.repeat(64))).toBe(false);
    });

    it('keys are per destination: the same key for another destination is not delivered', async () => {
      await harness.ledger.recordDelivered(batch({ destination: 'esp' }));
      expect(await harness.ledger.isDelivered('sms-tool', 'a'.repeat(64))).toBe(false);
      expect(await (await harness.reopen()).isDelivered('sms-tool', 'a'.repeat(64))).toBe(false);
    });

    it('recording the same batch again, in sequence or racing, succeeds and changes nothing', async () => {
      const { ledger } = harness;
      await ledger.recordDelivered(batch());
      await ledger.recordDelivered(batch({ deliveredAt: '2026-11-22T11:00:00.000Z' }));
      const other = await harness.reopen();
      await Promise.all([
        ledger.recordDelivered(batch({ idempotencyKey: 'c'.repeat(64), batchIndex: 2 })),
        other.recordDelivered(batch({ idempotencyKey: 'c'.repeat(64), batchIndex: 2 })),
        ledger.recordDelivered(batch({ idempotencyKey: 'c'.repeat(64), batchIndex: 2 })),
      ]);
      const fresh = await harness.reopen();
      expect(await fresh.isDelivered('esp', 'a'.repeat(64))).toBe(true);
      expect(await fresh.isDelivered('esp', 'c'.repeat(64))).toBe(true);
    });

    it('many batches of one export are each recorded under their own key', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => i.toString(16).padStart(64, '0'));
      await Promise.all(
        keys.map((key, i) => harness.ledger.recordDelivered(batch({ idempotencyKey: key, batchIndex: i }))),
      );
      const fresh = await harness.reopen();
      for (const key of keys) expect(await fresh.isDelivered('esp', key)).toBe(true);
      expect(await fresh.isDelivered('esp', 'f'.repeat(64))).toBe(false);
    });
  });
}
