import {
  type DeliverySummary,
  emptySummary,
  prepareBatch,
  recordBatch,
} from '../core/activation/delivery-plan';
import { type Destination, retryPolicyOf } from '../core/activation/destination-config';
import { coolDownMs, DOWN_AFTER_EXHAUSTED_BATCHES } from '../core/activation/http-retry';
import { type HashOptions, resolveFieldPolicy } from '../core/activation/pii';
import { createDestinationRouter } from '../core/activation/routing';
import { BadRequestError, NotFoundError } from '../core/errors';
import type { BusEnvelope } from '../core/events/bus-event';
import { AUDIENCE_EXPORT_COMPLETED, AudienceExportCompletedDetail } from '../core/events/bus-events';
import type { IdentifierTypeConfig } from '../core/identity/identity-config';
import type { AudienceSource } from '../ports/audience-reader';
import type { DeadLetterSink, DeliveryLedger } from '../ports/delivery-ledger';
import type { OutboundBatch } from '../ports/destination-sender';
import type { SegmentStore } from '../ports/segment-store';
import { type AudienceBatchDeps, type BatchProgress, batchesToSend, readAhead } from './audience-batches';
import { createPacer, type Pacer, type SendDeps, sendWithRetries } from './send-batch';

/**
 * Delivering one `Audience Export Completed` to ONE destination (issue #5) — the body of a
 * destination's delivery function in AWS (SQS → Lambda, one per destination) and of its in-process
 * worker locally:
 *
 * 1. route: the destination's own rule pattern must match the event (else nothing happens);
 * 2. read the export's members (its columns from the export record) in profile-id order, a page at a
 *    time, cut into batches of the destination's size and keyed by (export, destination, batch index)
 *    *before* consent, so a replay finds the same batches under the same keys;
 * 3. per batch: skip it if the ledger has its key; read the members' profiles in one batch read and
 *    decide consent (a profile that is gone is suppressed: fail closed); apply the PII policy; build
 *    the payload; send, retrying 429/5xx/network errors with back-off (honouring `Retry-After`) and
 *    failing other 4xx at once; record it in the ledger once accepted, or put it in the dead-letter
 *    queue once it failed for good;
 * 4. return the delivery summary (sent, suppressed by consent, failed).
 *
 * Step 2 and the consent of step 3 are `audience-batches.ts`; sending, pacing and retries are
 * `send-batch.ts`; this module runs them in order and keeps the summary, the ledger and the pauses.
 *
 * Logs hold ids, counts, statuses and field names — never identifier or trait values, payloads or
 * secrets. Throws only when a dependency fails (reader, profiles, ledger, dead-letter sink) or the
 * event or export is unusable; the whole event may then be retried: the ledger keeps it idempotent.
 */

/**
 * The delivery's dependencies: what reading the batches needs ({@link AudienceBatchDeps}), what
 * sending them needs ({@link SendDeps}), and the rest.
 */
export interface DeliverAudienceDeps extends AudienceBatchDeps, SendDeps {
  /** The export's record: its identifier and trait columns. */
  readonly exports: Pick<SegmentStore, 'getExport'>;
  /** Checked before each batch, and written once a batch is accepted. */
  readonly ledger: DeliveryLedger;
  readonly deadLetters: DeadLetterSink;
  /** The configured identifier types: the normaliser each hashed identifier uses. */
  readonly identifierTypes?: readonly Pick<IdentifierTypeConfig, 'name' | 'normalize'>[];
  /** Country of phone numbers without a country code, for hashing. */
  readonly hashOptions?: HashOptions;
  /** The destination's pacer; default one per call, at the destination's `rateLimitPerSecond`. */
  readonly pacer?: Pacer;
}

/** Where a paused delivery goes on: the batch to start at and the attempts already spent on it. */
export interface DeliveryResume {
  readonly batchIndex: number;
  /** Attempts of `batchIndex` already made (0 when it was not tried yet). */
  readonly attempts: number;
  /** How long to wait before the continuation runs (the back-off or `Retry-After` it stopped for). */
  readonly delayMs: number;
}

export interface DeliverAudienceInput {
  /** The bus envelope as EventBridge (or the local bus) delivered it. */
  readonly event: BusEnvelope;
  readonly destination: Destination;
  /** Start at this batch (a continuation): earlier batches are not looked at. Default 0. */
  readonly fromBatch?: number;
  /** Deliver this batch only (a dead letter redriven to the queue). */
  readonly onlyBatch?: number;
  /**
   * Attempts already made on the first batch this call tries (a continuation that paused for a
   * back-off), so its attempts in all stay within the destination's retry policy. Default 0.
   */
  readonly attemptsSoFar?: number;
}

export type DeliverAudienceResult =
  /** The destination's rule does not match the event (another segment, another destination, disabled). */
  | { readonly outcome: 'not_routed' }
  /** A detail version this code does not know (published beside v1 for newer consumers). */
  | { readonly outcome: 'ignored'; readonly reason: 'unknown_version' }
  | {
      readonly outcome: 'delivered';
      readonly summary: DeliverySummary;
      /** Batches skipped because the ledger had them (a retry or a replay). */
      readonly alreadyDelivered: number;
    }
  /** The budget ran out: what was done so far, and where a continuation goes on. */
  | {
      readonly outcome: 'paused';
      readonly summary: DeliverySummary;
      readonly alreadyDelivered: number;
      readonly resume: DeliveryResume;
    };

export async function deliverAudience(
  deps: DeliverAudienceDeps,
  input: DeliverAudienceInput,
): Promise<DeliverAudienceResult> {
  const { destination, event } = input;
  if (
    event['detail-type'] !== AUDIENCE_EXPORT_COMPLETED ||
    createDestinationRouter([destination])(event).length === 0
  ) {
    return { outcome: 'not_routed' };
  }
  if (event.detail.version !== 1) return { outcome: 'ignored', reason: 'unknown_version' };
  const parsed = AudienceExportCompletedDetail.safeParse(event.detail);
  if (!parsed.success) {
    throw new BadRequestError('the Audience Export Completed detail does not match its schema', {
      code: 'bad_event',
    });
  }
  const detail = parsed.data;
  const record = await deps.exports.getExport(detail.exportId);
  if (record === undefined) throw new NotFoundError(`export ${detail.exportId} is not known`);
  const source: AudienceSource = {
    membersLocation: detail.membersLocation,
    identifiers: record.identifiers,
    traits: record.traits,
  };
  const ids = { exportId: detail.exportId, segmentId: detail.segmentId, destination: destination.name };
  const log = { ...ids };
  const missing = missingFields(destination, source);
  if (missing.length > 0) {
    deps.logger.warn('the export lacks fields the destination receives; they are left out', {
      ...log,
      fields: missing,
    });
  }

  const fields = resolveFieldPolicy(destination.fields, deps.identifierTypes);
  const pacer =
    deps.pacer ??
    (destination.kind === 'webhook'
      ? createPacer(destination.rateLimitPerSecond, deps.clock, deps.sleep)
      : undefined);
  const count = await deps.reader.count(source);
  const total = Math.ceil(count / destination.batchSize);
  const first = input.onlyBatch ?? input.fromBatch ?? 0;
  if (!Number.isInteger(first) || first < 0) throw new RangeError('a batch index is a whole number');
  let attemptsSoFar = input.attemptsSoFar ?? 0;
  let summary = emptySummary(ids);
  let alreadyDelivered = 0;
  const progress: BatchProgress = { index: 0, finished: false };
  /** Batches in a row that spent all their retries: at {@link DOWN_AFTER_EXHAUSTED_BATCHES}, the destination looks down. */
  let exhaustedInARow = 0;

  // Each batch's ledger check and consent read run while the batch before it is being sent.
  const range = {
    exportId: detail.exportId,
    first,
    total,
    ...(input.onlyBatch === undefined ? {} : { only: input.onlyBatch }),
  };
  for await (const candidate of readAhead(batchesToSend(deps, source, destination, range, progress))) {
    const { batch, key } = candidate;
    if (candidate.delivered) {
      alreadyDelivered++;
      attemptsSoFar = 0;
      continue;
    }
    if (deps.budget?.exhausted() === true) {
      return paused(deps, log, summary, alreadyDelivered, {
        batchIndex: batch.index,
        attempts: attemptsSoFar,
        delayMs: 0,
      });
    }
    const withConsent = candidate.consent;
    const prepared = prepareBatch({
      exportId: detail.exportId,
      segmentId: detail.segmentId,
      destination,
      batch: withConsent.batch,
      fields,
      ...(deps.hashOptions === undefined ? {} : { hashOptions: deps.hashOptions }),
    });
    const counted = {
      ...prepared,
      suppressedByConsent: prepared.suppressedByConsent + withConsent.gone,
    };
    if (prepared.payload === undefined) {
      // Nobody in this batch may go: nothing is sent (and nothing recorded, so a member who
      // grants consent before a replay is still delivered then).
      summary = recordBatch(summary, counted, 'sent');
      continue;
    }
    const outbound: OutboundBatch = {
      context: prepared.context,
      members: prepared.members,
      payload: prepared.payload,
    };
    if (exhaustedInARow >= DOWN_AFTER_EXHAUSTED_BATCHES) {
      // The destination looks down: give it time, then send this batch as a probe.
      const delayMs = coolDownMs(retryPolicyOf(destination));
      if (deps.budget?.defers(delayMs) === true) {
        return paused(deps, log, summary, alreadyDelivered, {
          batchIndex: batch.index,
          attempts: attemptsSoFar,
          delayMs,
        });
      }
      deps.logger.warn('the destination looks down: waiting before the next batch', {
        ...log,
        batch: batch.index,
        exhaustedInARow,
        delayMs,
      });
      await deps.sleep(delayMs);
    }
    const result = await sendWithRetries(deps, destination, outbound, pacer, log, attemptsSoFar);
    attemptsSoFar = 0;
    if ('deferred' in result) {
      return paused(deps, log, summary, alreadyDelivered, {
        batchIndex: batch.index,
        attempts: result.attempts,
        delayMs: result.delayMs,
      });
    }
    exhaustedInARow = result.ok ? 0 : result.reason === 'exhausted' ? exhaustedInARow + 1 : exhaustedInARow;
    if (result.ok) {
      await deps.ledger.recordDelivered({
        destination: destination.name,
        idempotencyKey: key,
        exportId: detail.exportId,
        batchIndex: batch.index,
        members: prepared.members.length,
        deliveredAt: new Date(deps.clock.now()).toISOString(),
      });
      summary = recordBatch(summary, counted, 'sent');
    } else {
      await deps.deadLetters.put({
        destination: destination.name,
        exportId: detail.exportId,
        segmentId: detail.segmentId,
        batchIndex: batch.index,
        idempotencyKey: key,
        members: prepared.members.length,
        reason: result.reason,
        ...(result.status === undefined ? {} : { status: result.status }),
        ...(result.errorCode === undefined ? {} : { errorCode: result.errorCode }),
        attempts: result.attempts,
        failedAt: new Date(deps.clock.now()).toISOString(),
        event,
      });
      deps.logger.error('a batch failed for good and went to the dead-letter queue', {
        ...log,
        batch: batch.index,
        reason: result.reason,
        status: result.status,
        errorCode: result.errorCode,
        attempts: result.attempts,
      });
      summary = recordBatch(summary, counted, 'failed');
    }
  }
  if (!progress.finished && progress.index !== total) {
    throw new Error('the audience reader returned fewer members than it counted');
  }
  if (input.onlyBatch !== undefined && input.onlyBatch >= total) {
    deps.logger.warn('the batch to deliver is not in the export', { ...log, batch: input.onlyBatch, total });
  }
  deps.logger.info('delivery finished', {
    ...log,
    sent: summary.sent,
    suppressedByConsent: summary.suppressedByConsent,
    failed: summary.failed,
    unhashableFields: summary.unhashableFields,
    batches: summary.batches,
    alreadyDelivered,
  });
  return { outcome: 'delivered', summary, alreadyDelivered };
}

function paused(
  deps: DeliverAudienceDeps,
  log: Record<string, unknown>,
  summary: DeliverySummary,
  alreadyDelivered: number,
  resume: DeliveryResume,
): DeliverAudienceResult {
  deps.logger.info('delivery paused; a continuation goes on', {
    ...log,
    sent: summary.sent,
    suppressedByConsent: summary.suppressedByConsent,
    failed: summary.failed,
    batches: summary.batches,
    alreadyDelivered,
    resumeAt: resume.batchIndex,
    attempts: resume.attempts,
    delayMs: resume.delayMs,
  });
  return { outcome: 'paused', summary, alreadyDelivered, resume };
}

/** Fields the destination receives (not omitted) that the export does not hold. */
function missingFields(destination: Destination, source: AudienceSource): string[] {
  const identifiers = new Set(source.identifiers);
  const traits = new Set(source.traits);
  return [
    ...destination.fields.identifiers
      .filter((f) => f.pii !== 'omit' && !identifiers.has(f.type))
      .map((f) => `identifiers.${f.type}`),
    ...destination.fields.traits
      .filter((f) => f.pii !== 'omit' && !traits.has(f.name))
      .map((f) => `traits.${f.name}`),
  ];
}
