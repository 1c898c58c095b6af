import type { SdkClientOptions } from '../../src/adapters/aws/sdk-config';

/**
 * How long the collector may take to write a request, and so how long its function may run: it
 * answers 503 itself, so that SDKs retry, rather than being cut off by the Lambda timeout (which API
 * Gateway turns into a bare 500) or by API Gateway's 30 s.
 *
 * The event stream's writes are retried by the use case (`putAllOrFail`: 5 attempts, back-off at
 * most 1 s), which retries a call that throws as well as the records a call refuses, so the Kinesis
 * client makes one attempt per call. The quarantine's adapter retries only refused records, so its
 * Firehose client keeps one retry of a call that fails whole. Each attempt is bounded by its
 * connection and request timeouts. Worst cases, stream and quarantine written at once: 5 × 3 s + 4 × 1 s
 * = 19 s for the stream, 3 × (2 × 3 s + back-off) for the quarantine; the function's timeout is above
 * both and below 30 s (the CDK tests hold the three to it).
 */
export const COLLECTOR_KINESIS_SDK: SdkClientOptions = {
  maxAttempts: 1,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 2000,
};
export const COLLECTOR_FIREHOSE_SDK: SdkClientOptions = {
  maxAttempts: 2,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 2000,
};
/** The collector function's timeout, in seconds. */
export const COLLECTOR_TIMEOUT_SECONDS = 25;
