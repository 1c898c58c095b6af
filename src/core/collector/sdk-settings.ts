import type { JsonObject } from '../events/stream-record';

/**
 * Where browsers reach the collector, as they addressed it: `host` is the host name with any port
 * (`collector.example.com`, `127.0.0.1:8080`), `protocol` the scheme without `://`.
 */
export interface CollectorOrigin {
  readonly host: string;
  readonly protocol: 'http' | 'https';
}

/**
 * The settings analytics.js 2.0 (`@segment/analytics-next`) loads before it sends anything, answered
 * at `GET /v1/projects/{writeKey}/settings` in place of Segment's CDN: its one integration,
 * `Segment.io`, sends every event back to this collector (`apiHost` is host and path without the
 * scheme, `/v1`, as analytics.js joins `{protocol}://{apiHost}/t`). Nothing else is configured
 * remotely: no device-mode destinations, middleware or remote plugins to fetch from a CDN, and
 * `metrics.sampleRate` 0 so the SDK does not post its own telemetry (`/m`), which Mosaic has no use for.
 * It holds nothing that the page does not already hold: the write key and the collector's address.
 */
export function segmentSettings(origin: CollectorOrigin, writeKey: string): JsonObject {
  return {
    integrations: {
      'Segment.io': { apiKey: writeKey, apiHost: `${origin.host}/v1`, protocol: origin.protocol },
    },
    metrics: { sampleRate: 0 },
    remotePlugins: [],
  };
}

/**
 * The source configuration RudderStack's JavaScript SDK v3 loads from its control plane
 * (`{configUrl}/sourceConfig/`) before it sends anything: an enabled source with no device-mode
 * destinations (events go only to the data plane URL the page gave it) and the SDK's own error and
 * metrics reporting off. The source's id is a fixed name: the SDK needs one, and the source's real name
 * in Mosaic's configuration is no business of a web page.
 */
export function rudderstackSourceConfig(): JsonObject {
  return {
    source: {
      id: 'mosaic',
      name: 'Mosaic',
      enabled: true,
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  };
}
