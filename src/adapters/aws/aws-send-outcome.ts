import type { HttpOutcome } from '../../core/activation/http-retry';

/** Error names AWS services use for throttling (answered as 400 by some, 429 or 503 by others). */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'SlowDown',
  'KmsThrottled',
  'KMSThrottlingException',
  'ProvisionedThroughputExceededException',
  'EC2ThrottledException',
]);

/** Errors of a call that never got an answer (connection, DNS, timeout). */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError']);

/**
 * An AWS SDK error of one delivery call (SQS, Lambda, S3) as the {@link HttpOutcome} the delivery's
 * retry policy classifies: throttling is a 429 (retried, with back-off), a server fault its 5xx
 * (retried), a call with no answer a network error (retried); anything else the client's own status
 * — access denied 403, a queue, function or bucket that does not exist 404/400 — which is permanent,
 * so the batch goes to the dead-letter queue at once. The SDK has already retried within its own
 * (short) policy; this is the destination's longer one. Reports names and statuses, never messages
 * (they can hold a queue URL or a key).
 */
export function awsErrorOutcome(error: unknown): HttpOutcome {
  if (!(error instanceof Error)) return { kind: 'network_error', code: 'unknown' };
  const e = error as Error & {
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
    code?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING_NAMES.has(e.name) || e.$retryable?.throttling === true || status === 429) {
    return { kind: 'response', status: 429 };
  }
  if (status === undefined || NETWORK_NAMES.has(e.name)) {
    return { kind: 'network_error', code: typeof e.code === 'string' ? e.code : e.name };
  }
  if (e.$fault === 'server' || status >= 500) {
    return { kind: 'response', status: status >= 500 && status <= 599 ? status : 500 };
  }
  return { kind: 'response', status };
}

/** The error's name and status for a log line (never its message). */
export function awsErrorCode(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? error.name : `${error.name}:${status}`;
}
