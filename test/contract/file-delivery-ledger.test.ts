import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDeliveryLedger } from '../../src/adapters/local/file-delivery-ledger';
import { describeDeliveryLedgerContract } from './delivery-ledger.contract';

describeDeliveryLedgerContract('FileDeliveryLedger (local NDJSON)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mosaic-ledger-'));
  return {
    ledger: new FileDeliveryLedger(dir),
    reopen: async () => new FileDeliveryLedger(dir),
    close: () => rm(dir, { recursive: true, force: true }),
  };
});
