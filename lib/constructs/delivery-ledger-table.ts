import type { Construct } from 'constructs';
import { DELIVERY_LEDGER_TABLE_SHAPE } from '../../src/adapters/aws/delivery-ledger-table';
import { HouseTable, type HouseTableProps } from './house-table';

export type DeliveryLedgerTableProps = HouseTableProps;

/**
 * The delivery ledger: one item per batch a destination accepted, keyed by the batch's idempotency
 * key, so a retry, a redrive or an archive replay of the same export never sends a batch twice. The
 * key shape is `DELIVERY_LEDGER_TABLE_SHAPE` (string `pk` / `sk`, TTL attribute `expiresAt`), shared
 * with the DynamoDB adapter and its tests. Kept as every house table is (`HouseTable`); items name
 * exports and destinations, never members, and expire.
 */
export class DeliveryLedgerTable extends HouseTable {
  constructor(scope: Construct, id: string, props: DeliveryLedgerTableProps) {
    super(scope, id, {
      ...props,
      shape: DELIVERY_LEDGER_TABLE_SHAPE,
      keyDescription: 'Mosaic delivery ledger encryption',
    });
  }
}
