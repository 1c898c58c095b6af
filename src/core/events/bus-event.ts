import { BadRequestError, PayloadTooLargeError } from '../errors';

/**
 * Events Mosaic publishes on its event bus (DESIGN.md "Events on the bus"), and the envelope a bus
 * delivers them in. The same shape on EventBridge and on the local in-process bus.
 */

/** Every event Mosaic publishes has this `source`. */
export const BUS_SOURCE = 'mosaic';

/** The largest event entry EventBridge's PutEvents takes (as {@link busEntryBytes} counts it). */
export const MAX_BUS_EVENT_BYTES = 256 * 1024;

/** An event to publish; the bus adds `source: "mosaic"`, an id, the account and region. */
export interface BusEvent {
  /** What happened, e.g. `Profile Merged`; rules select on it. */
  readonly detailType: string;
  /** A JSON object: the versioned detail schema of `detailType`. */
  readonly detail: object;
  /** ISO-8601 time of the event; default the time it is published. */
  readonly time?: string;
  /** ARNs or ids the event concerns. */
  readonly resources?: readonly string[];
}

/** An event as a bus delivers it to targets: EventBridge's envelope. */
export interface BusEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** ISO-8601 UTC, to the second (`2026-11-22T16:05:12Z`), as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A {@link BusEvent} checked and serialised, ready to send. */
export interface PreparedBusEvent {
  /** Its position in the published batch (for errors that name it). */
  readonly index: number;
  readonly detailType: string;
  /** `detail` as JSON text (what PutEvents sends). */
  readonly detailJson: string;
  /** The event's time, if it has one. */
  readonly time?: Date;
  readonly resources: readonly string[];
  /** Its size as EventBridge counts it against {@link MAX_BUS_EVENT_BYTES}. */
  readonly bytes: number;
}

/**
 * An entry's size as EventBridge counts it ("Calculating PutEvents event entry size"): 14 bytes for a
 * time, plus the UTF-8 bytes of source, detail type, detail and each resource.
 */
export function busEntryBytes(entry: {
  readonly hasTime: boolean;
  readonly source: string;
  readonly detailType: string;
  readonly detailJson: string;
  readonly resources: readonly string[];
}): number {
  let bytes = entry.hasTime ? 14 : 0;
  bytes += utf8Bytes(entry.source) + utf8Bytes(entry.detailType) + utf8Bytes(entry.detailJson);
  for (const resource of entry.resources) bytes += utf8Bytes(resource);
  return bytes;
}

/**
 * Checks and serialises events before any is sent, so a batch with a bad event publishes nothing.
 * Throws {@link PayloadTooLargeError} for an event over {@link MAX_BUS_EVENT_BYTES} and
 * {@link BadRequestError} for one without a detail type, whose detail is not a JSON object or whose
 * time is not a time; both name the event (position and detail type).
 */
export function prepareBusEvents(events: readonly BusEvent[]): PreparedBusEvent[] {
  return events.map((event, index) => {
    const name = `Bus event ${index} (${event.detailType})`;
    if (typeof event.detailType !== 'string' || event.detailType.trim() === '') {
      throw new BadRequestError(`Bus event ${index} has no detail type`, { code: 'invalid_bus_event' });
    }
    if (typeof event.detail !== 'object' || event.detail === null || Array.isArray(event.detail)) {
      throw new BadRequestError(`${name}: detail must be a JSON object`, { code: 'invalid_bus_event' });
    }
    let detailJson: string;
    try {
      detailJson = JSON.stringify(event.detail);
    } catch (error) {
      throw new BadRequestError(`${name}: detail is not JSON`, { cause: error, code: 'invalid_bus_event' });
    }
    let time: Date | undefined;
    if (event.time !== undefined) {
      time = new Date(event.time);
      if (Number.isNaN(time.getTime())) {
        throw new BadRequestError(`${name}: time ${JSON.stringify(event.time)} is not an ISO-8601 time`, {
          code: 'invalid_bus_event',
        });
      }
    }
    const resources = [...(event.resources ?? [])];
    const bytes = busEntryBytes({
      hasTime: time !== undefined,
      source: BUS_SOURCE,
      detailType: event.detailType,
      detailJson,
      resources,
    });
    if (bytes > MAX_BUS_EVENT_BYTES) {
      throw new PayloadTooLargeError(
        `${name} is ${bytes} bytes; an event on the bus holds at most ${MAX_BUS_EVENT_BYTES}`,
      );
    }
    return { index, detailType: event.detailType, detailJson, ...(time ? { time } : {}), resources, bytes };
  });
}

/** An envelope's `time`: UTC to the second, as EventBridge writes it. */
export function envelopeTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

function utf8Bytes(text: string): number {
  // TextEncoder is available in every runtime the core runs in; no Buffer in the core.
  return encoder.encode(text).byteLength;
}

const encoder = new TextEncoder();
