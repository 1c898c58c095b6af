/**
 * Request headers a browser may send to the collector (CORS `Access-Control-Allow-Headers`, on API
 * Gateway's preflight answer and the local one). A header left out here fails the browser's preflight,
 * and with it every event the SDK sends, so each one a browser SDK adds is listed:
 * - `content-type`, `content-encoding`: JSON and gzip bodies;
 * - `authorization`: the write key as HTTP Basic (analytics.js 2.0 and RudderStack's JavaScript SDK v3
 *   send it with every event, and RudderStack with its `/sourceConfig` request);
 * - `x-retry-count`: analytics.js 2.0 on a retried delivery;
 * - `anonymousid` (the anonymous id in base64) and `sentat`: RudderStack's JavaScript SDK v3 on every
 *   event; `rsa-recovered` and the `rsa-retry-*`/`rsa-since-*` headers on an event it retries or
 *   recovered from the page's storage.
 */
export const COLLECTOR_ALLOWED_HEADERS: readonly string[] = [
  'content-type',
  'authorization',
  'content-encoding',
  'x-retry-count',
  'anonymousid',
  'sentat',
  'rsa-recovered',
  'rsa-retry-attempt',
  'rsa-retry-reason',
  'rsa-since-first-attempt',
  'rsa-since-last-attempt',
];

/**
 * Methods a browser may use on the collector (CORS `Access-Control-Allow-Methods`): POST to send events,
 * GET for the SDK settings (`/v1/projects/{writeKey}/settings`, `/sourceConfig`).
 */
export const COLLECTOR_ALLOWED_METHODS: readonly ('GET' | 'POST' | 'OPTIONS')[] = ['GET', 'POST', 'OPTIONS'];
