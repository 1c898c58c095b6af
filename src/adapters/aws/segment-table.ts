import { type TableShape, tableDefinition } from './table-shape';

/**
 * The segments table's shape, shared by the DynamoDB adapter, the export workflow (which updates
 * export items and the segment's `lastExport` with direct DynamoDB integrations), the CDK construct,
 * the local runtime and the tests.
 *
 * One table, string keys `pk` / `sk`:
 * - segment: `pk = SEGMENT`, `sk = S#{segmentId}` — `id`, `name`, `description`, `definition` (JSON
 *   text), `version` (N), `createdAt`, `updatedAt`, `lastExport` (map: `exportId`, `completedAt`,
 *   `count` (N)). All segments share one partition so they list in id order with one Query; a CDP has
 *   hundreds of segments, far below a partition's limits.
 * - export: `pk = X#{exportId}`, `sk = X` — every field of `ExportRecord`; `status` is `RUNNING`,
 *   `SUCCEEDED` or `FAILED`; `count`, `added`, `removed`, `segmentVersion` are numbers; `identifiers`
 *   and `traits` lists of strings.
 * - running preview: `pk = V#{previewId}`, `sk = V` — `previewId`, `segmentId`, `startedAt`,
 *   `expiresAt` (TTL, a day).
 */
export const SEGMENT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableShape;

export const SEGMENTS_PARTITION = 'SEGMENT';

export const segmentKey = (segmentId: string) => ({ pk: SEGMENTS_PARTITION, sk: `S#${segmentId}` });
export const exportKey = (exportId: string) => ({ pk: `X#${exportId}`, sk: 'X' });
export const previewKey = (previewId: string) => ({ pk: `V#${previewId}`, sk: 'V' });

/** The CreateTable input for a table of this shape (dynalite, DynamoDB Local). */
export function segmentTableDefinition(tableName: string) {
  return tableDefinition(SEGMENT_TABLE, tableName);
}
