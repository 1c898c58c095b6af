/**
 * Every request header the browser SDKs add, as seen in Chromium: one the collector's CORS preflight
 * does not allow makes the browser drop the request. analytics.js 2.0 adds `x-retry-count` to a
 * retried delivery; RudderStack's JavaScript SDK v3 adds `anonymousid` and `sentat` to every event,
 * and the `rsa-*` headers to one it retries or recovers from storage. Written out here, apart from
 * `COLLECTOR_ALLOWED_HEADERS`, so that a header dropped from that list fails the tests.
 */
export const BROWSER_SDK_HEADERS = [
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
] as const;
