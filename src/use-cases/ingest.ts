import {
  bodyWriteKey,
  type IngestBody,
  prepareIngestBody,
  readIngestBody,
} from '../core/collector/ingest-body';
import { buildMessageCheck } from '../core/collector/message-check';
import { buildMessageSchemas, type MessageSchemas } from '../core/collector/message-schemas';
import type { IngestRoute, PreparedIngest, Rejection } from '../core/collector/prepare-ingest';
import { RecordBuffers } from '../core/collector/record-buffers';
import type { WriteKeyRegistry } from '../core/collector/write-keys';
import type { CollectorLimits } from '../core/config/limits';
import { ServiceUnavailableError, UnauthorizedError } from '../core/errors';
import type { JsonObject } from '../core/events/stream-record';
import type { Clock, IdGenerator, Sleep } from '../ports/clock';
import type { EventStream } from '../ports/event-stream';
import type { IngestMetrics } from '../ports/ingest-metrics';
import type { QuarantineSink } from '../ports/quarantine-sink';
import { putAllOrFail, type RetryPolicy } from './put-all-or-fail';

export interface IngestDeps {
  readonly stream: EventStream;
  readonly quarantine: QuarantineSink;
  readonly keys: WriteKeyRegistry;
  readonly limits: CollectorLimits;
  readonly clock: Clock;
  readonly newId: IdGenerator;
  readonly sleep: Sleep;
  readonly metrics: IngestMetrics;
  readonly retry?: RetryPolicy;
}

export interface IngestRequest {
  readonly route: IngestRoute;
  /**
   * The request body: its JSON text as received (read here, with a fast path for valid traffic; text
   * that is not a JSON object is a 400), or already parsed.
   */
  readonly body: string | JsonObject;
  /** Write key from the Authorization header, if one was sent (it wins over `writeKey` in the body). */
  readonly headerWriteKey?: string;
  /** Client address as seen by the edge. */
  readonly ip?: string;
}

export interface IngestResult {
  readonly source: string;
  readonly accepted: number;
  readonly rejected: readonly Omit<Rejection, 'raw'>[];
}

export type Ingest = (request: IngestRequest) => Promise<IngestResult>;

/**
 * The collector's use case: authenticate the source, validate and stamp each message, write the
 * accepted ones to the event stream and the rejected ones to the quarantine. Resolves only when both
 * are durable; otherwise throws, and nothing is acknowledged.
 */
export function createIngest(deps: IngestDeps): Ingest {
  const schemas: MessageSchemas = buildMessageSchemas(deps.limits);
  const ctx = { schemas, check: buildMessageCheck(deps.limits), limits: deps.limits, newId: deps.newId };
  const recordBuffers = new RecordBuffers();
  /** Quarantines a request's rejected messages; undefined when there are none. */
  const quarantineRejected = (
    source: string,
    receivedAtMs: number,
    route: IngestRoute,
    { rejected, batchFields }: PreparedIngest,
  ) => {
    if (rejected.length === 0) return undefined;
    const receivedAt = new Date(receivedAtMs).toISOString();
    const messages = rejected.map((r) => ({
      source,
      receivedAt,
      code: r.code,
      reason: r.reason,
      index: r.index,
      raw: r.raw,
      route,
      ...(r.messageId === undefined ? {} : { messageId: r.messageId }),
      ...(batchFields === undefined ? {} : { batch: batchFields }),
    }));
    return deps.quarantine.put(messages).catch((cause: unknown) => {
      throw new ServiceUnavailableError(`${messages.length} rejected messages could not be quarantined`, {
        cause,
      });
    });
  };

  return async (request) => {
    const body: IngestBody =
      typeof request.body === 'string'
        ? readIngestBody(request.body, request.route, deps.limits)
        : { parsed: request.body };
    const bodyKey = bodyWriteKey(body);
    const source = deps.keys.authenticate(request.headerWriteKey ?? bodyKey);
    if (source === undefined) {
      throw new UnauthorizedError(
        request.headerWriteKey === undefined && bodyKey === undefined
          ? 'A write key is required: send it as the HTTP Basic username or as "writeKey" in the body'
          : 'The write key is not valid for any source',
      );
    }
    const receivedAtMs = deps.clock.now();
    const buffer = recordBuffers.lend();
    let putting: Promise<void> | undefined;
    let prepared: PreparedIngest;
    try {
      prepared = prepareIngestBody(
        body,
        request.route,
        { source, receivedAtMs, ip: request.ip },
        ctx,
        buffer,
      );
      putting =
        prepared.accepted.length === 0
          ? undefined
          : putAllOrFail(
              deps.stream,
              prepared.accepted.map((m) => ({ partitionKey: m.partitionKey, data: m.data })),
              { policy: deps.retry, sleep: deps.sleep, onRetry: (n) => deps.metrics.streamRetried(n) },
            );
      await Promise.all([putting, quarantineRejected(source, receivedAtMs, request.route, prepared)]);
    } finally {
      // The records' bytes may be written over only once no put of them can still be reading them
      // (the quarantine failing first must not hand the buffer to the next request mid-put).
      await putting?.catch(() => undefined);
      recordBuffers.giveBack(buffer);
    }

    if (prepared.accepted.length > 0) deps.metrics.accepted(source, prepared.accepted.length);
    for (const r of prepared.rejected) deps.metrics.rejected(source, r.code, 1);
    return {
      source,
      accepted: prepared.accepted.length,
      rejected: prepared.rejected.map(({ raw: _raw, ...rest }) => rest),
    };
  };
}
