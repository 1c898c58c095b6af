import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { CALL_TYPES, type StreamRecord } from '../../src/core/events/stream-record';
import type { Logger } from '../../src/ports/logger';
import { recordData } from '../../src/ports/stream-record-data';
import type { BatchOutcome } from '../../src/use-cases/resolve-identities';

export interface ResolverHandlerDeps {
  readonly resolve: (records: readonly StreamRecord[]) => Promise<BatchOutcome>;
  readonly logger: Logger;
}

const CALL_TYPE_SET = new Set<string>(CALL_TYPES);

/** The stream record in a Kinesis record, or undefined if it is not one the collector writes. */
export function decodeRecord(record: KinesisStreamRecord): StreamRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(recordData(record.kinesis).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  const text = (key: string) => typeof r[key] === 'string' && (r[key] as string).length > 0;
  if (!CALL_TYPE_SET.has(r.type as string) || !text('source') || !text('messageId')) return undefined;
  if (!text('receivedAt') || !text('timestamp')) return undefined;
  return value as StreamRecord;
}

/**
 * The resolver Lambda on the events stream (event source mapping with `ReportBatchItemFailures`).
 * The use case resolves the batch as a whole (so it can coalesce writes per profile) and says which
 * records were not durably resolved; Powertools' `BatchProcessor` turns that into the partial batch
 * response, so Lambda redelivers from the first of them. A record that is not a stream record the
 * collector writes fails with a clear log line: the event source mapping's bounded retries then hand
 * it, whole, to the on-failure destination — it is never silently dropped, and nothing before it is
 * held back.
 */
export function createResolverHandler(deps: ResolverHandlerDeps) {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);

  return async (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
    const records: StreamRecord[] = [];
    let firstUndecodable = event.Records.length;
    for (const [index, record] of event.Records.entries()) {
      const decoded = decodeRecord(record);
      if (decoded === undefined) {
        firstUndecodable = index;
        deps.logger.error('not a stream record: failing it for the on-failure destination', {
          sequenceNumber: record.kinesis.sequenceNumber,
          partitionKeyLength: record.kinesis.partitionKey.length,
        });
        break;
      }
      records.push(decoded);
    }

    const outcome = await deps.resolve(records);
    const failed = new Set<string>();
    for (const index of outcome.failed) failed.add(event.Records[index]?.kinesis.sequenceNumber as string);
    for (const record of event.Records.slice(firstUndecodable)) failed.add(record.kinesis.sequenceNumber);

    return processPartialResponse(
      event,
      async (record: KinesisStreamRecord) => {
        if (failed.has(record.kinesis.sequenceNumber)) {
          throw new Error(`record ${record.kinesis.sequenceNumber} was not resolved`);
        }
      },
      processor,
      context === undefined ? {} : { context },
    );
  };
}
