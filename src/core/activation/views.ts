import type {
  DeliveryRetryPolicy,
  DestinationKind,
  HashNormalizer,
  PiiPolicy,
  WebhookAuth,
} from './destination-config';

/**
 * The Destinations API's answers (issue #5), shared by the handler, the use case and the `mosaic` CLI,
 * so a change of shape breaks the CLI's typecheck:
 *
 * - `GET /v1/destinations` → 200 {@link DestinationListView}
 * - `GET /v1/destinations/{name}` → 200 {@link DestinationView} (404 for an unknown name)
 * - `POST /v1/destinations/{name}/test` → 200 {@link DestinationTestView}: one synthetic test batch
 *   sent through the destination's real sender; a failed delivery is `ok: false` in the answer, not
 *   an error status
 *
 * A view holds no secret and no secret name: auth is its type, signing a yes or no, and a webhook's
 * URL only its host (a path or query may carry a token).
 */

/** An identifier or trait a destination receives, with its PII policy. */
export interface DestinationFieldView {
  /** The identifier type or the trait name. */
  readonly name: string;
  readonly pii: PiiPolicy;
  /** The normaliser before hashing, when the configuration names one. */
  readonly normalize?: HashNormalizer;
}

export interface DestinationView {
  readonly name: string;
  readonly kind: DestinationKind;
  readonly description?: string;
  readonly enabled: boolean;
  /** Segment ids whose exports it receives. */
  readonly segments: readonly string[];
  readonly fields: {
    readonly identifiers: readonly DestinationFieldView[];
    readonly traits: readonly DestinationFieldView[];
  };
  /** The consent a member needs (`category: null`: none applies); ad-type destinations fail closed. */
  readonly consent: {
    readonly category: string | null;
    readonly required: boolean;
    readonly adType: boolean;
  };
  readonly batchSize: number;
  /** The delivery function's reserved concurrency (its own worker slots locally). */
  readonly reservedConcurrency: number;
  readonly retry: DeliveryRetryPolicy;
  /** Webhooks: where (host only), how, at what rate. */
  readonly webhook?: {
    /** `host[:port]` of the URL: never its path or query. */
    readonly host: string;
    readonly method: 'POST' | 'PUT';
    readonly auth: WebhookAuth['type'];
    /** Whether requests carry `Mosaic-Signature`. */
    readonly signed: boolean;
    readonly rateLimitPerSecond: number;
    readonly timeoutMs: number;
    /** Whether a payload template shapes the body. */
    readonly template: boolean;
  };
  /** File drops (S3 in AWS, a folder locally): the bucket, key prefix and CSV column headers. */
  readonly fileDrop?: {
    readonly bucket: string;
    readonly prefix: string;
    readonly columns: readonly string[];
  };
  readonly sqs?: { readonly queue: string; readonly template: boolean };
  readonly lambda?: { readonly functionArn: string; readonly template: boolean };
  /**
   * On the local runtime: whether this process delivers it (enabled webhooks and file drops); absent
   * in AWS, where every destination has its own function.
   */
  readonly localWorker?: boolean;
}

export interface DestinationListView {
  readonly destinations: readonly DestinationView[];
}

/** What one test delivery did. Never holds a payload, header or secret. */
export interface DestinationTestView {
  readonly destination: string;
  readonly kind: DestinationKind;
  /** The destination accepted the test batch (2xx; the file is in place). */
  readonly ok: boolean;
  /** The HTTP status it answered, when it answered. */
  readonly status?: number;
  /** Attempts made: 1, or 0 when the sender could not even try. */
  readonly attempts: number;
  readonly elapsedMs: number;
  /** Why it failed: `HTTP 500`, a network error's code (`ECONNREFUSED`, `TimeoutError`), a missing secret. */
  readonly error?: string;
  /** Whether a real delivery would retry this failure (429, 5xx, network errors). */
  readonly retryable?: boolean;
  /** The test batch's `Idempotency-Key` (`test-…`), to find it at the receiver. */
  readonly idempotencyKey: string;
  readonly testedAt: string;
}
