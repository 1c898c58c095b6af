import { randomUUID } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { type BusEnvelope, busEntryBytes, envelopeTime } from '../../src/core/events/bus-event';
import { CallLog, type ServiceCall, serviceError } from './service-calls';

/** EventBridge PutEvents limits, as the service enforces them. */
export const EVENTBRIDGE_LIMITS = {
  entriesPerCall: 10,
  /** The request's entries together, counted as EventBridge counts an entry's size. */
  bytesPerCall: 256 * 1024,
} as const;

/** An entry offered to the bus: its detail type, its detail, and how often it was offered before. */
export interface OfferedEntry {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  /** 1 the first time this entry (detail type and detail) is offered, 2 the second, ... */
  readonly attempt: number;
}

/** A whole-call failure as the SDK surfaces EventBridge being unavailable. */
export function eventBridgeUnavailable(): Error {
  return serviceError('InternalException', 'Internal service error.', 'server', 500);
}

/** The size EventBridge counts for an entry of a request. */
function entryBytes(entry: PutEventsRequestEntry): number {
  return busEntryBytes({
    hasTime: entry.Time !== undefined,
    source: entry.Source ?? '',
    detailType: entry.DetailType ?? '',
    detailJson: entry.Detail ?? '',
    resources: entry.Resources ?? [],
  });
}

/**
 * An EventBridge event bus behind aws-sdk-client-mock, keeping what it accepts: PutEvents validates
 * the request against the service's limits (10 entries, 256 KiB; rejecting the whole call as
 * EventBridge does), refuses entries EventBridge would (`InvalidArgument` for a missing source,
 * detail type or detail, `MalformedDetail` for a detail that is not a JSON object) or a fault picks
 * (`ErrorCode` in its `Entries` result, not kept), and keeps the others as the envelopes EventBridge
 * would deliver to a rule's target. Calls go through the shared {@link CallLog}.
 */
export class EventBridgeEmulator {
  readonly client: EventBridgeClient;
  readonly account = '111122223333';
  readonly region = 'eu-west-1';
  private readonly mock: AwsClientStub<EventBridgeClient>;
  private readonly eventBusName: string;
  private readonly accepted: BusEnvelope[] = [];
  private readonly offers = new Map<string, number>();
  private entryFault: ((entry: OfferedEntry) => string | undefined) | undefined;
  private readonly log = new CallLog();

  constructor(options: { readonly eventBusName: string }) {
    this.eventBusName = options.eventBusName;
    this.client = new EventBridgeClient({
      region: this.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    this.mock = mockClient(this.client);
    this.mock.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => this.putEvents(input));
  }

  /** From now on entries `select` returns an error code for are refused individually; `undefined` stops it. */
  failEntries(select: ((entry: OfferedEntry) => string | undefined) | undefined): void {
    this.entryFault = select;
  }

  /** From now on calls `select` returns an error for are rejected as a whole; `undefined` stops it. */
  failCalls(select: ((call: ServiceCall, callIndex: number) => Error | undefined) | undefined): void {
    this.log.failCalls(select);
  }

  /** Every call, in the order made. */
  get calls(): readonly ServiceCall[] {
    return this.log.calls;
  }

  /** Every service limit a caller broke. */
  get limitViolations(): readonly string[] {
    return this.log.limitViolations;
  }

  /** The events accepted, in the order accepted, as a rule's target receives them. */
  acceptedEvents(): readonly BusEnvelope[] {
    return this.accepted;
  }

  restore(): void {
    this.mock.restore();
  }

  private async putEvents(input: PutEventsCommandInput): Promise<Partial<PutEventsCommandOutput>> {
    const entries = input.Entries ?? [];
    const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0);
    const otherBus = entries.find((entry) => (entry.EventBusName ?? 'default') !== this.eventBusName);
    this.log.admit(
      { records: entries.length, bytes },
      {
        target: otherBus
          ? serviceError('ResourceNotFoundException', `Event bus ${otherBus.EventBusName} does not exist.`)
          : undefined,
        violation: this.violation(entries.length, bytes),
      },
    );

    await new Promise((resolve) => setTimeout(resolve, 1));

    let failed = 0;
    const Entries = entries.map((entry) => {
      const errorCode = this.refusal(entry);
      if (errorCode !== undefined) {
        failed++;
        return { ErrorCode: errorCode, ErrorMessage: `Refused: ${errorCode}` };
      }
      const id = randomUUID();
      this.accepted.push({
        version: '0',
        id,
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: this.account,
        time: envelopeTime(entry.Time ?? new Date()),
        region: this.region,
        resources: entry.Resources ?? [],
        detail: JSON.parse(entry.Detail as string) as Record<string, unknown>,
      });
      return { EventId: id };
    });
    return { FailedEntryCount: failed, Entries };
  }

  /** The error code EventBridge (or a fault) refuses one entry with, if it does. */
  private refusal(entry: PutEventsRequestEntry): string | undefined {
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) return 'InvalidArgument';
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return 'MalformedDetail';
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return 'MalformedDetail';
    const key = `${entry.DetailType}\n${entry.Detail}`;
    const attempt = (this.offers.get(key) ?? 0) + 1;
    this.offers.set(key, attempt);
    return this.entryFault?.({
      detailType: entry.DetailType,
      detail: detail as Record<string, unknown>,
      attempt,
    });
  }

  /** The error EventBridge answers a request that breaks one of its limits with, if it does. */
  private violation(entries: number, bytes: number): Error | undefined {
    if (entries < 1 || entries > EVENTBRIDGE_LIMITS.entriesPerCall) {
      return serviceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${EVENTBRIDGE_LIMITS.entriesPerCall} (got ${entries})`,
      );
    }
    if (bytes > EVENTBRIDGE_LIMITS.bytesPerCall) {
      return serviceError(
        'ValidationException',
        `Total size of the entries in the request is over the limit (got ${bytes} bytes)`,
      );
    }
    return undefined;
  }
}
