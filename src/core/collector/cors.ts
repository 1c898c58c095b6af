/**
 * Request headers a browser may send to the collector (CORS `Access-Control-Allow-Headers`, on API
 * Gateway's preflight answer and the local one): JSON and gzip bodies, the write key as Basic auth,
 * and `AnonymousId`, the anonymous id in base64 that the RudderStack JavaScript SDK adds to every
 * request. A header left out here fails the browser's preflight, and with it every event the SDK sends.
 */
export const COLLECTOR_ALLOWED_HEADERS: readonly string[] = [
  'content-type',
  'authorization',
  'content-encoding',
  'anonymousid',
];
