import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { ServiceUnavailableError } from '../../core/errors';
import {
  BUS_SOURCE,
  MAX_BUS_EVENT_BYTES,
  type PreparedBusEvent,
  prepareBusEvents,
} from '../../core/events/bus-event';
import type { BusEvent, EventBus } from '../../ports/event-bus';
import { type EntryRetryOptions, packRequests, type RetryPolicy, sendRetryingRefused } from './batched-calls';

/** EventBridge PutEvents limits: 10 entries and 256 KiB (as entries are counted) per call. */
export const EVENTBRIDGE_LIMITS = { entriesPerCall: 10, bytesPerCall: MAX_BUS_EVENT_BYTES } as const;

/** Default retries of entries EventBridge refuses (throttling, internal failures): 5 attempts, ≤ 1 s apart. */
export const DEFAULT_EVENTBRIDGE_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000 };

/** Entry error codes no retry can fix: the call rejects at once. */
const PERMANENT_CODES = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

export type EventBridgeEventBusOptions = EntryRetryOptions;

/**
 * {@link EventBus} on an EventBridge event bus: every event goes out with `source: "mosaic"` in
 * PutEvents calls within EventBridge's limits (10 entries, 256 KiB), one after another. Entries
 * EventBridge refuses (throttling, internal failures) are sent again, alone, after a jittered
 * back-off; `publish` resolves once every entry is accepted, and rejects with
 * `ServiceUnavailableError` if some still is not (or at once for an error code no retry fixes), or with
 * the SDK's error for a call refused whole. An event EventBridge can never take (over 256 KiB, ...)
 * rejects the call before anything is sent, naming the event.
 */
export class EventBridgeEventBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    private readonly options: EventBridgeEventBusOptions = {},
  ) {}

  async publish(events: readonly BusEvent[]): Promise<void> {
    const prepared = prepareBusEvents(events);
    const requests = packRequests(prepared, (event) => event.bytes, {
      maxItems: EVENTBRIDGE_LIMITS.entriesPerCall,
      maxBytes: EVENTBRIDGE_LIMITS.bytesPerCall,
    });
    for (const request of requests) {
      const refused = await sendRetryingRefused(request, (pending) => this.putEvents(pending), {
        ...this.options,
        defaultRetry: DEFAULT_EVENTBRIDGE_RETRY,
        isRetryable: (code) => !PERMANENT_CODES.has(code),
      });
      if (refused.length > 0) {
        const named = refused
          .slice(0, 3)
          .map(({ entry, code }) => `event ${entry.index} (${entry.detailType}): ${code}`)
          .join('; ');
        throw new ServiceUnavailableError(
          `${refused.length} of ${events.length} bus events were not accepted by EventBridge (${named})`,
        );
      }
    }
  }

  private async putEvents(events: readonly PreparedBusEvent[]) {
    const out = await this.client.send(
      new PutEventsCommand({ Entries: events.map((event) => this.entry(event)) }),
    );
    if (!out.FailedEntryCount) return [];
    return (out.Entries ?? []).flatMap((entry, index) =>
      entry.ErrorCode ? [{ index, code: entry.ErrorCode }] : [],
    );
  }

  private entry(event: PreparedBusEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.eventBusName,
      Source: BUS_SOURCE,
      DetailType: event.detailType,
      Detail: event.detailJson,
      ...(event.time ? { Time: event.time } : {}),
      ...(event.resources.length > 0 ? { Resources: [...event.resources] } : {}),
    };
  }
}
