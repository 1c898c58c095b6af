import type { Construct } from 'constructs';
import { IDENTITY_TABLE } from '../../src/adapters/aws/identity-table';
import { HouseTable, type HouseTableProps } from './house-table';

export type IdentityTableProps = HouseTableProps;

/**
 * The identity graph and profiles: one DynamoDB table with the key shape of `IDENTITY_TABLE` (string
 * `pk` / `sk`, TTL attribute `expiresAt`), shared with the local runtime and the adapter's tests.
 * Kept as every house table is (`HouseTable`).
 */
export class IdentityTable extends HouseTable {
  constructor(scope: Construct, id: string, props: IdentityTableProps) {
    super(scope, id, { ...props, shape: IDENTITY_TABLE, keyDescription: 'Mosaic identity table encryption' });
  }
}
