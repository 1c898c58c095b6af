/**
 * Activation's pure core (issue #5): destination configuration, routing (one rule per destination),
 * consent decisions, PII hashing, payload templates, webhook signing and requests (auth, OAuth
 * tokens), HTTP retry decisions, pacing and delivery plans. No I/O: the delivery adapters and
 * handlers build on these.
 */
export * from './consent';
export * from './csv-file';
export * from './delivery-plan';
export * from './destination-config';
export * from './http-retry';
export * from './pii';
export * from './rate-limit';
export * from './routing';
export * from './signing';
export * from './template';
export * from './webhook-request';
