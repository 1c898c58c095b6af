import { type TableShape, tableDefinition } from './table-shape';

/**
 * The identity table's shape, shared by the CDK construct, the local runtime (which creates it in
 * dynalite) and the tests (which create it in dynalite and DynamoDB Local), so all three agree.
 *
 * One table, string keys `pk` / `sk`:
 * - identifier: `pk = I#{type}:{value}`, `sk = I` — `profileId`, `linkedAt`, `idType`, and the message
 *   that (re)pointed it: `bySource`, `byMessage`, `how` (`linked` | `merged`);
 * - profile: `pk = P#{profileId}`, `sk = P` — `state`, `ver`, `doc` (the profile as JSON, gzipped
 *   from 1 KB: `profile-doc.ts`), `into`, `pending` (map: profile id → true), `createdAt`;
 * - ledger entry: `pk = P#{to}`, `sk = L#{entryId}` — `entry` (JSON; listed in `at` order by the reader).
 * Everything of one person is findable by profile id: its item, its ledger, and its identifiers
 * (listed in the profile).
 */
export const IDENTITY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB may delete an item (records that must expire). */
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableShape;

/** The CreateTable input for a table of this shape (dynalite, DynamoDB Local). */
export function identityTableDefinition(tableName: string) {
  return tableDefinition(IDENTITY_TABLE, tableName);
}
