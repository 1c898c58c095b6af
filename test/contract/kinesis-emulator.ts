import {
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { shardIndexOf } from '../../src/adapters/local/kinesis-shape';
import { CallLog, type ServiceCall, serviceError } from './service-calls';

/** Kinesis PutRecords limits, as the service enforces them. */
export const KINESIS_LIMITS = {
  recordsPerCall: 500,
  /** Data plus partition keys of one call. */
  bytesPerCall: 5 * 1024 * 1024,
  /** Data of one record. */
  bytesPerRecord: 1024 * 1024,
  partitionKeyChars: 256,
} as const;

/** A record the emulated stream holds, as a consumer reads it. */
export interface KinesisStoredRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** What the emulator saw of one call. */
export type KinesisCall = ServiceCall;

export interface KinesisEmulatorOptions {
  readonly streamName: string;
  /** Default 4. */
  readonly shardCount?: number;
  /**
   * How long the service takes before it stores a call's records, in ms. The default models transfer
   * time: proportional to the request's bytes, so of two calls in flight together the smaller one can
   * be stored first, as with the real service (it defines no order between concurrent requests).
   */
  readonly latencyMs?: (call: { readonly records: number; readonly bytes: number }) => number;
}

const encoder = new TextEncoder();

/**
 * Latency that grows with the request's size, as transfer time does (logarithmically, so a 5 MiB call
 * stays near 50 ms): 7 ms for 1 KiB, 27 ms for 100 KiB, 50 ms for 5 MiB.
 */
export function transferLatencyMs(call: { readonly bytes: number }): number {
  return Math.ceil(4 * Math.log2(2 + call.bytes / 1024));
}

/**
 * A Kinesis data stream behind aws-sdk-client-mock, faithful enough to read back what was written:
 * PutRecords validates the request against the service's limits (rejecting the whole call as Kinesis
 * does), then stores each record in the shard its partition key hashes to, in request order, with an
 * increasing sequence number; records a fault selects come back with an `ErrorCode` and are not
 * stored; a whole-call fault rejects the call and stores nothing.
 */
export class KinesisEmulator {
  readonly client: KinesisClient;
  /** Every PutRecords call, in the order they were sent. */
  private readonly mock: AwsClientStub<KinesisClient>;
  private readonly shards: KinesisStoredRecord[][];
  private readonly streamName: string;
  private readonly latencyMs: (call: { readonly records: number; readonly bytes: number }) => number;
  private sequence = 0;
  private recordFault:
    | ((record: { partitionKey: string; data: Uint8Array }) => string | undefined)
    | undefined;
  private readonly log = new CallLog();

  constructor(options: KinesisEmulatorOptions) {
    this.streamName = options.streamName;
    this.latencyMs = options.latencyMs ?? transferLatencyMs;
    this.shards = Array.from({ length: options.shardCount ?? 4 }, () => []);
    this.client = new KinesisClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    this.mock = mockClient(this.client);
    this.mock.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => this.putRecords(input));
  }

  /** From now on records `select` returns an error code for are refused individually; `undefined` stops it. */
  failRecords(
    select: ((record: { partitionKey: string; data: Uint8Array }) => string | undefined) | undefined,
  ): void {
    this.recordFault = select;
  }

  /** Every call, in the order made. */
  get calls(): readonly KinesisCall[] {
    return this.log.calls;
  }

  /** Every service limit a caller broke. */
  get limitViolations(): readonly string[] {
    return this.log.limitViolations;
  }

  /** From now on calls `select` returns an error for are rejected as a whole; `undefined` stops it. */
  failCalls(select: ((call: KinesisCall, callIndex: number) => Error | undefined) | undefined): void {
    this.log.failCalls(select);
  }

  /** Every record stored, shard by shard, each shard in sequence order (a consumer's order per key). */
  stored(): KinesisStoredRecord[] {
    return this.shards.flat();
  }

  restore(): void {
    this.mock.restore();
  }

  private async putRecords(input: PutRecordsCommandInput): Promise<Partial<PutRecordsCommandOutput>> {
    // The request is taken as sent: later changes to the caller's buffers do not reach the service.
    const records = (input.Records ?? []).map((r) => ({
      partitionKey: r.PartitionKey ?? '',
      data: new Uint8Array(r.Data ?? new Uint8Array()),
    }));
    const bytes = records.reduce(
      (sum, r) => sum + r.data.byteLength + encoder.encode(r.partitionKey).length,
      0,
    );
    const violation = this.violation(records, bytes);
    this.log.admit(
      { records: records.length, bytes },
      {
        target:
          input.StreamName !== this.streamName
            ? serviceError('ResourceNotFoundException', `Stream ${input.StreamName} not found.`)
            : undefined,
        violation,
      },
    );

    await new Promise((resolve) => setTimeout(resolve, this.latencyMs({ records: records.length, bytes })));

    let failed = 0;
    const answers = records.map((record) => {
      const errorCode = this.recordFault?.(record);
      if (errorCode !== undefined) {
        failed++;
        return { ErrorCode: errorCode, ErrorMessage: `${errorCode} for this record.` };
      }
      const shard = shardIndexOf(record.partitionKey, this.shards.length);
      const stored: KinesisStoredRecord = {
        ...record,
        shardId: `shardId-${String(shard).padStart(12, '0')}`,
        sequenceNumber: String(++this.sequence).padStart(56, '0'),
      };
      this.shards[shard]?.push(stored);
      return { ShardId: stored.shardId, SequenceNumber: stored.sequenceNumber };
    });
    return { FailedRecordCount: failed, Records: answers, EncryptionType: 'KMS' };
  }

  /** The error Kinesis answers a request that breaks one of its limits with, if it does. */
  private violation(records: ReadonlyArray<{ partitionKey: string; data: Uint8Array }>, bytes: number) {
    if (records.length < 1 || records.length > KINESIS_LIMITS.recordsPerCall) {
      return serviceError(
        'ValidationException',
        `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${KINESIS_LIMITS.recordsPerCall} (got ${records.length})`,
      );
    }
    for (const [i, r] of records.entries()) {
      if (r.data.byteLength > KINESIS_LIMITS.bytesPerRecord) {
        return serviceError(
          'ValidationException',
          `1 validation error detected: Value at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${KINESIS_LIMITS.bytesPerRecord} (got ${r.data.byteLength})`,
        );
      }
      const keyChars = [...r.partitionKey].length;
      if (keyChars < 1 || keyChars > KINESIS_LIMITS.partitionKeyChars) {
        return serviceError(
          'ValidationException',
          `1 validation error detected: Value at 'records.${i + 1}.member.partitionKey' failed to satisfy constraint: Member must have length between 1 and ${KINESIS_LIMITS.partitionKeyChars}`,
        );
      }
    }
    if (bytes > KINESIS_LIMITS.bytesPerCall) {
      return serviceError('InvalidArgumentException', `Records size exceeds 5 MB limit (got ${bytes} bytes)`);
    }
    return undefined;
  }
}

/** A whole-call failure as the SDK surfaces a server error. */
export function internalFailure(): Error {
  return serviceError('InternalFailure', 'We encountered an internal error. Please try again.', 'server');
}
