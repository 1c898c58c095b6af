import { type TableShape, tableDefinition } from './table-shape';

/**
 * The delivery ledger table's shape (issue #5), shared by the DynamoDB adapter, the CDK construct and
 * the tests, so all three agree.
 *
 * One item per batch a destination accepted, string keys `pk` / `sk`:
 * - `pk = B#{destination}#{idempotencyKey}`, `sk = B` — `destination`, `idempotencyKey`, `exportId`,
 *   `batchIndex` (N), `members` (N), `deliveredAt`, `expiresAt` (TTL, epoch seconds).
 *
 * Keys are spread over partitions by the idempotency key (a SHA-256), so a 100,000-member export's
 * batches never share one hot partition. Items hold ids, counts and times only — never PII — so the
 * table needs no erasure path; they still expire (see `DEFAULT_LEDGER_RETENTION_DAYS`).
 */
export const DELIVERY_LEDGER_TABLE_SHAPE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB may delete an item. */
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableShape;

/** The sort key of every ledger item (one item per partition key). */
export const LEDGER_SORT_KEY = 'B';

/** The key of the ledger item of one batch of one destination. */
export const ledgerKey = (destination: string, idempotencyKey: string) => ({
  pk: `B#${destination}#${idempotencyKey}`,
  sk: LEDGER_SORT_KEY,
});

/** The CreateTable input for a table of this shape (dynalite, DynamoDB Local). */
export function deliveryLedgerTableDefinition(tableName: string) {
  return tableDefinition(DELIVERY_LEDGER_TABLE_SHAPE, tableName);
}
