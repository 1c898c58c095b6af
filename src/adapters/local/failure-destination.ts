import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';

/**
 * What an event source mapping's on-failure destination receives when a batch still fails after its
 * retries: AWS's invocation record (request and response context, `KinesisBatchInfo`) with the batch
 * itself as `payload`, as an S3 on-failure destination stores it. Nothing is skipped without one.
 */
export interface FailedBatch {
  readonly version: '1.0';
  /** ISO-8601 time the batch was given up. */
  readonly timestamp: string;
  /** The subscription (event source mapping) that gave up. */
  readonly subscription: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted';
    /** How many times the batch (or its unprocessed tail) was handed to the handler. */
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    /** `Unhandled` when the handler threw, absent when it reported item failures. */
    readonly functionError?: string;
    /** The last error message, or which items the handler reported as failed. */
    readonly errorMessage: string;
  };
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  /** The whole records that were skipped, exactly as the handler last saw them. */
  readonly payload: KinesisStreamEvent;
}

/**
 * Receives batches a subscription gave up on. It must store the batch durably before it resolves; if
 * it rejects, the stream retries it (the shard waits) rather than lose the records.
 */
export type FailureDestination = (failure: FailedBatch) => Promise<void> | void;

/**
 * An on-failure destination that writes each failed batch as one JSON file,
 * `<dir>/<subscription>/<shardId>/<timestamp>-<uuid>.json`, atomically (temporary name, then rename),
 * like the S3 on-failure destination of an event source mapping.
 */
export function createFileFailureDestination(dir: string): FailureDestination {
  return async (failure) => {
    const folder = join(
      dir,
      safeSegment(failure.subscription),
      safeSegment(failure.KinesisBatchInfo.shardId),
    );
    await mkdir(folder, { recursive: true });
    const name = `${failure.timestamp.replace(/:/g, '.')}-${randomUUID()}.json`;
    const temporary = join(folder, `.${name}.tmp`);
    try {
      await writeFile(temporary, `${JSON.stringify(failure)}\n`);
      await rename(temporary, join(folder, name));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  };
}

function safeSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}
