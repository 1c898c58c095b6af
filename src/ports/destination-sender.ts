import type { BatchContext } from '../core/activation/delivery-plan';
import type { HttpOutcome } from '../core/activation/http-retry';
import type { OutboundMember } from '../core/activation/pii';
import type { JsonValue } from '../core/profile/profile';

/** One batch ready to go: consent and PII policy applied, payload built. */
export interface OutboundBatch {
  readonly context: BatchContext;
  /** The members that go (for file drops, which render their own rows). */
  readonly members: readonly OutboundMember[];
  /** The payload (webhook, SQS, Lambda). */
  readonly payload: JsonValue;
}

/**
 * Sends one attempt of one batch to one destination and reports what happened, for
 * `classifyHttpOutcome`: a response (status, `Retry-After`) or a network error. It does not retry — the
 * delivery use case decides — and it never logs payloads, headers or secrets.
 *
 * Adapters: webhook (HTTP, signed), file drop (CSV; S3 in AWS, a folder locally), SQS, Lambda.
 */
export interface DestinationSender {
  send(batch: OutboundBatch): Promise<HttpOutcome>;
}

/**
 * Secret values by name (`secretRef`): AWS Secrets Manager in AWS; a map locally. Values are never
 * logged. Rejects with a `ConfigError` for a name it does not know.
 */
export interface SecretResolver {
  resolve(name: string): Promise<string>;
}
