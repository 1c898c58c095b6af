import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { CallLog, type ServiceCall, serviceError } from './service-calls';

/** Firehose PutRecordBatch limits, as the service enforces them. */
export const FIREHOSE_LIMITS = {
  recordsPerCall: 500,
  bytesPerCall: 4 * 1024 * 1024,
  /** One record's data, before base64. */
  bytesPerRecord: 1000 * 1024,
} as const;

/** What the emulator saw of one call. */
export type FirehoseCall = ServiceCall;

/** A record offered to the delivery stream: its bytes, its text, and how often it was offered before. */
export interface OfferedRecord {
  readonly data: Uint8Array;
  readonly text: string;
  /** 1 the first time these exact bytes are offered, 2 the second, ... */
  readonly attempt: number;
}

/** A whole-call failure as the SDK surfaces Firehose being unavailable. */
export function serviceUnavailable(): Error {
  return serviceError('ServiceUnavailableException', 'Slow down.', 'server', 503);
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/**
 * A Firehose DirectPut delivery stream behind aws-sdk-client-mock, keeping what it accepts:
 * PutRecordBatch validates the request against the service's limits (rejecting the whole call as
 * Firehose does), then accepts each record unless a fault refuses it (`ErrorCode` in its
 * `RequestResponses` entry, not kept); a whole-call fault rejects the call and keeps nothing. What
 * it kept reads back like the S3 objects Firehose writes: the records' bytes concatenated.
 */
export class FirehoseEmulator {
  readonly client: FirehoseClient;
  /** Every PutRecordBatch call, in the order they were sent. */
  private readonly mock: AwsClientStub<FirehoseClient>;
  private readonly deliveryStreamName: string;
  private readonly accepted: Uint8Array[] = [];
  private readonly offers = new Map<string, number>();
  private recordFault: ((record: OfferedRecord) => string | undefined) | undefined;
  private readonly log = new CallLog();

  constructor(options: { readonly deliveryStreamName: string }) {
    this.deliveryStreamName = options.deliveryStreamName;
    this.client = new FirehoseClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    this.mock = mockClient(this.client);
    this.mock
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => this.putRecordBatch(input));
  }

  /** From now on records `select` returns an error code for are refused individually; `undefined` stops it. */
  failRecords(select: ((record: OfferedRecord) => string | undefined) | undefined): void {
    this.recordFault = select;
  }

  /** Every call, in the order made. */
  get calls(): readonly FirehoseCall[] {
    return this.log.calls;
  }

  /** Every service limit a caller broke. */
  get limitViolations(): readonly string[] {
    return this.log.limitViolations;
  }

  /** From now on calls `select` returns an error for are rejected as a whole; `undefined` stops it. */
  failCalls(select: ((call: FirehoseCall, callIndex: number) => Error | undefined) | undefined): void {
    this.log.failCalls(select);
  }

  /** The records accepted, in the order accepted. */
  acceptedRecords(): readonly Uint8Array[] {
    return this.accepted;
  }

  /** What the delivered objects hold: every accepted record's bytes, concatenated, as UTF-8 text (throws if not UTF-8). */
  deliveredText(): string {
    return this.accepted.map((data) => decoder.decode(data)).join('');
  }

  /**
   * The delivered text as NDJSON lines (without their newlines); fails the test if the text does not
   * end with a newline, as every record of an NDJSON stream must.
   */
  deliveredLines(): string[] {
    const text = this.deliveredText();
    if (text === '') return [];
    if (!text.endsWith('\n')) throw new Error('The delivered text does not end with a newline.');
    return text.slice(0, -1).split('\n');
  }

  restore(): void {
    this.mock.restore();
  }

  private async putRecordBatch(
    input: PutRecordBatchCommandInput,
  ): Promise<Partial<PutRecordBatchCommandOutput>> {
    const records = (input.Records ?? []).map((r) => new Uint8Array(r.Data ?? new Uint8Array()));
    const bytes = records.reduce((sum, data) => sum + data.byteLength, 0);
    const violation = this.violation(records, bytes);
    const callIndex = this.log.calls.length;
    this.log.admit(
      { records: records.length, bytes },
      {
        target:
          input.DeliveryStreamName !== this.deliveryStreamName
            ? serviceError('ResourceNotFoundException', `Firehose ${input.DeliveryStreamName} not found.`)
            : undefined,
        violation,
      },
    );

    await new Promise((resolve) => setTimeout(resolve, 1));

    let failed = 0;
    const RequestResponses = records.map((data, i) => {
      const text = lenientDecoder.decode(data);
      const attempt = (this.offers.get(text) ?? 0) + 1;
      this.offers.set(text, attempt);
      const errorCode = this.recordFault?.({ data, text, attempt });
      if (errorCode !== undefined) {
        failed++;
        return { ErrorCode: errorCode, ErrorMessage: 'Slow down.' };
      }
      this.accepted.push(data);
      return { RecordId: `record-${callIndex}-${i}` };
    });
    return { FailedPutCount: failed, Encrypted: true, RequestResponses };
  }

  /** The error Firehose answers a request that breaks one of its limits with, if it does. */
  private violation(records: readonly Uint8Array[], bytes: number): Error | undefined {
    if (records.length < 1 || records.length > FIREHOSE_LIMITS.recordsPerCall) {
      return serviceError(
        'ValidationException',
        `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${FIREHOSE_LIMITS.recordsPerCall} (got ${records.length})`,
      );
    }
    for (const [i, data] of records.entries()) {
      if (data.byteLength > FIREHOSE_LIMITS.bytesPerRecord) {
        return serviceError(
          'ValidationException',
          `1 validation error detected: Value at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.bytesPerRecord} (got ${data.byteLength})`,
        );
      }
    }
    if (bytes > FIREHOSE_LIMITS.bytesPerCall) {
      return serviceError(
        'InvalidArgumentException',
        `Records size exceeds the 4 MiB limit of a PutRecordBatch request (got ${bytes} bytes)`,
      );
    }
    return undefined;
  }
}
