import type { Construct } from 'constructs';
import { SEGMENT_TABLE } from '../../src/adapters/aws/segment-table';
import { HouseTable, type HouseTableProps } from './house-table';

export type SegmentsTableProps = HouseTableProps;

/**
 * Segment definitions, exports and running previews: one DynamoDB table with the key shape of
 * `SEGMENT_TABLE` (string `pk` / `sk`, TTL attribute `expiresAt` for preview items), shared with the
 * local runtime, the adapter's tests and the export workflow, which updates export and segment items
 * directly. Kept as every house table is (`HouseTable`): definitions name traits and values chosen by
 * marketers, and export items name the files that hold personal data.
 */
export class SegmentsTable extends HouseTable {
  constructor(scope: Construct, id: string, props: SegmentsTableProps) {
    super(scope, id, { ...props, shape: SEGMENT_TABLE, keyDescription: 'Mosaic segments table encryption' });
  }
}
