import { type BatchContext, buildPayload } from '../core/activation/delivery-plan';
import { type Destination, retryPolicyOf } from '../core/activation/destination-config';
import { type HttpOutcome, isRetryableStatus } from '../core/activation/http-retry';
import type {
  DestinationFieldView,
  DestinationListView,
  DestinationTestView,
  DestinationView,
} from '../core/activation/views';
import { ConflictError, MosaicError, NotFoundError } from '../core/errors';
import type { JsonValue } from '../core/profile/profile';
import type { Clock } from '../ports/clock';
import type { DestinationSender } from '../ports/destination-sender';
import type { Logger } from '../ports/logger';

export interface DestinationsDeps {
  /** The parsed destinations (`parseDestinationsConfig`). */
  readonly destinations: readonly Destination[];
  /**
   * The destination's real sender (signed webhook with its auth, file drop, ...), or `undefined` when
   * this deployment cannot send to its kind (SQS and Lambda on the local runtime).
   */
  readonly senderOf: (destination: Destination) => DestinationSender | undefined;
  /** Names of the destinations this process delivers (the local runtime); absent in AWS. */
  readonly localWorkers?: readonly string[];
  readonly clock: Clock;
  /** Random text for a test's idempotency key (lowercase letters and digits are kept). */
  readonly random: () => string;
  readonly logger: Logger;
}

/** The Destinations API's use cases: see `core/activation/views.ts` for the shapes. */
export interface Destinations {
  list(): DestinationListView;
  /** Throws `NotFoundError` for an unknown name. */
  get(name: string): DestinationView;
  /**
   * Sends ONE synthetic test batch to the destination through its real sender — no member, marked
   * `test: true`, under an `Idempotency-Key` of `test-…` — and reports what happened. The delivery
   * ledger and dead letters are never touched, and nothing is retried: a 4xx, 5xx, timeout or missing
   * secret is reported in the answer, not thrown. Throws `NotFoundError` for an unknown name and
   * `ConflictError` when this deployment cannot send to the destination's kind.
   */
  test(name: string): Promise<DestinationTestView>;
}

export function createDestinations(deps: DestinationsDeps): Destinations {
  const byName = new Map(deps.destinations.map((d) => [d.name, d] as const));
  const workers = deps.localWorkers === undefined ? undefined : new Set(deps.localWorkers);
  const find = (name: string): Destination => {
    const destination = byName.get(name);
    if (destination === undefined) throw new NotFoundError(`No destination is named ${JSON.stringify(name)}`);
    return destination;
  };
  const view = (destination: Destination) => destinationView(destination, workers?.has(destination.name));

  return {
    list: () => ({ destinations: deps.destinations.map(view) }),
    get: (name) => view(find(name)),
    async test(name) {
      const destination = find(name);
      const sender = deps.senderOf(destination);
      if (sender === undefined) {
        throw new ConflictError(
          `${destination.kind} destinations are delivered in AWS only: this runtime cannot send to ${destination.name}`,
          { code: 'not_testable_here' },
        );
      }
      const token = testToken(deps.random());
      const idempotencyKey = `test-${token}`;
      const context: BatchContext = {
        // An export id by its shape (file drops name their folder by it), visibly a test's.
        exportId: `xtest${token}`,
        segmentId: destination.segments[0] as string,
        destination: destination.name,
        idempotencyKey,
        batch: { index: 0, total: 1, size: 0 },
      };
      const startedAt = deps.clock.now();
      let outcome: HttpOutcome | { readonly kind: 'threw'; readonly error: string };
      try {
        outcome = await sender.send({ context, members: [], payload: testPayload(destination, context) });
      } catch (error) {
        outcome = { kind: 'threw', error: describeThrown(error) };
      }
      const elapsedMs = Math.max(0, deps.clock.now() - startedAt);
      const base = {
        destination: destination.name,
        kind: destination.kind,
        elapsedMs,
        idempotencyKey,
        testedAt: new Date(startedAt).toISOString(),
      };
      let result: DestinationTestView;
      if (outcome.kind === 'threw') {
        result = { ...base, ok: false, attempts: 0, error: outcome.error, retryable: false };
      } else if (outcome.kind === 'network_error') {
        result = { ...base, ok: false, attempts: 1, error: outcome.code ?? 'network_error', retryable: true };
      } else if (outcome.status >= 200 && outcome.status <= 299) {
        result = { ...base, ok: true, status: outcome.status, attempts: 1 };
      } else {
        result = {
          ...base,
          ok: false,
          status: outcome.status,
          attempts: 1,
          error: `HTTP ${outcome.status}`,
          retryable: isRetryableStatus(outcome.status),
        };
      }
      deps.logger.info('destination test', {
        destination: destination.name,
        kind: destination.kind,
        ok: result.ok,
        status: result.status,
        error: result.error,
        elapsedMs,
      });
      return result;
    },
  };
}

/**
 * A destination as the API shows it: configuration without secrets or secret names, and a webhook's
 * URL as its host only.
 */
export function destinationView(destination: Destination, localWorker?: boolean): DestinationView {
  const field = (
    name: string,
    f: { pii: DestinationFieldView['pii']; normalize?: DestinationFieldView['normalize'] },
  ) => ({
    name,
    pii: f.pii,
    ...(f.normalize === undefined ? {} : { normalize: f.normalize }),
  });
  const common = {
    name: destination.name,
    kind: destination.kind,
    ...(destination.description === undefined ? {} : { description: destination.description }),
    enabled: destination.enabled,
    segments: [...destination.segments],
    fields: {
      identifiers: destination.fields.identifiers.map((f) => field(f.type, f)),
      traits: destination.fields.traits.map((f) => field(f.name, f)),
    },
    consent: {
      category: destination.consent.category,
      required: destination.consent.required,
      adType: destination.adType,
    },
    batchSize: destination.batchSize,
    reservedConcurrency: destination.reservedConcurrency,
    retry: retryPolicyOf(destination),
    ...(localWorker === undefined ? {} : { localWorker }),
  };
  switch (destination.kind) {
    case 'webhook':
      return {
        ...common,
        webhook: {
          host: new URL(destination.url).host,
          method: destination.method,
          auth: destination.auth.type,
          signed: destination.signingSecretRef !== undefined,
          rateLimitPerSecond: destination.rateLimitPerSecond,
          timeoutMs: destination.timeoutMs,
          template: destination.payload !== undefined,
        },
      };
    case 's3':
      return {
        ...common,
        fileDrop: {
          bucket: destination.bucket,
          prefix: destination.prefix,
          columns: destination.csv.columns.map((c) => c.header),
        },
      };
    case 'sqs':
      return { ...common, sqs: { queue: destination.queue, template: destination.payload !== undefined } };
    case 'lambda':
      return {
        ...common,
        lambda: { functionArn: destination.functionArn, template: destination.payload !== undefined },
      };
  }
}

/** The test batch's payload: the destination's own shape (its template, if any) with no member, marked. */
function testPayload(destination: Destination, context: BatchContext): JsonValue {
  const payload = buildPayload(context, [], 'payload' in destination ? destination.payload : undefined);
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? { test: true, ...payload }
    : payload;
}

/** Lowercase letters and digits of the random text, 16 at most; a fallback when none are left. */
function testToken(random: string): string {
  const token = random
    .toLowerCase()
    .replace(/[^0-9a-z]/g, '')
    .slice(0, 16);
  return token.length >= 8 ? token : `${token}00000000`.slice(0, 8);
}

/**
 * A sender that threw could not even try: a missing secret (its message names the secret, never a
 * value) or a bug (only its name).
 */
function describeThrown(error: unknown): string {
  if (error instanceof MosaicError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.name : 'unknown';
}
