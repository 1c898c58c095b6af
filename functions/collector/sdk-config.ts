import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  type CollectorOrigin,
  rudderstackSourceConfig,
  segmentSettings,
} from '../../src/core/collector/sdk-settings';
import type { WriteKeyRegistry } from '../../src/core/collector/write-keys';
import { BadRequestError, NotFoundError, UnauthorizedError } from '../../src/core/errors';
import type { JsonObject } from '../../src/core/events/stream-record';
import { basicAuthUser } from '../shared/http-edge';

/**
 * The settings browser SDKs load before they send anything, answered by the collector so that a web
 * page needs nothing from Segment's or RudderStack's servers:
 * - `segment`: analytics.js 2.0's `GET {cdnURL}/v1/projects/{writeKey}/settings`;
 * - `rudderstack`: RudderStack's JavaScript SDK v3's `GET {configUrl}/sourceConfig/?writeKey=...`,
 *   the write key also as HTTP Basic.
 */
export type SdkConfigRequest =
  | { readonly kind: 'segment'; readonly writeKey: string }
  | { readonly kind: 'rudderstack' };

/** Which SDK settings a path asks for; `undefined` for any other path. */
export function sdkConfigRequest(path: string): SdkConfigRequest | undefined {
  const segment = /^\/v1\/projects\/([^/]+)\/settings\/?$/.exec(path);
  if (segment?.[1] !== undefined) return { kind: 'segment', writeKey: segment[1] };
  if (/^\/sourceConfig\/?$/.test(path)) return { kind: 'rudderstack' };
  return undefined;
}

export interface SdkConfigAnswer {
  readonly body: JsonObject;
  /** The answer's `Cache-Control`. */
  readonly cacheControl: string;
}

/**
 * Browsers may keep the settings five minutes: a page view then costs no request for them, and a key
 * revoked meanwhile costs nothing either, as the collector refuses its events. Segment's settings are
 * the same for everyone (`public`); RudderStack's request carries the key as credentials (`private`).
 */
const SEGMENT_CACHE = 'public, max-age=300';
const RUDDERSTACK_CACHE = 'private, max-age=300';

/**
 * The settings for a request, only for an active write key: a write key is public (every page that
 * sends events shows it), so the answer holds nothing beyond it and the collector's own address.
 * An unknown or revoked key gets what each SDK's own service answers: 404 for Segment's settings (the
 * key names the resource), 401 for RudderStack's (the key is the credentials).
 */
export function answerSdkConfig(
  request: SdkConfigRequest,
  event: APIGatewayProxyEventV2,
  keys: WriteKeyRegistry,
): SdkConfigAnswer {
  if (request.kind === 'segment') {
    if (keys.authenticate(request.writeKey) === undefined)
      throw new NotFoundError('No source has this write key');
    return { body: segmentSettings(originOf(event), request.writeKey), cacheControl: SEGMENT_CACHE };
  }
  const query = event.queryStringParameters?.writeKey;
  const key = basicAuthUser(event.headers.authorization) ?? (query === '' ? undefined : query);
  if (key === undefined) throw new UnauthorizedError('No write key: send it as HTTP Basic user name');
  if (keys.authenticate(key) === undefined) throw new UnauthorizedError('Unknown or revoked write key');
  return { body: rudderstackSourceConfig(), cacheControl: RUDDERSTACK_CACHE };
}

/**
 * The collector as the browser addressed it: the domain API Gateway received the request on (its own
 * or a custom domain; the local runtime passes the Host header), and the scheme from
 * `X-Forwarded-Proto`, which API Gateway sets (always `https` there) and the local runtime sets to
 * `http` unless a proxy in front of it said otherwise.
 */
function originOf(event: APIGatewayProxyEventV2): CollectorOrigin {
  const host = event.requestContext.domainName;
  if (!HOST.test(host))
    throw new BadRequestError('The request names no valid host', { code: 'invalid_host' });
  const protocol = event.headers['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase();
  return { host, protocol: protocol === 'http' ? 'http' : 'https' };
}

/** A host name or IPv4 address, or an IPv6 address in brackets, with an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
