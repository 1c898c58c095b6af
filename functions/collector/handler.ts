import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { COLLECTOR_ALLOWED_HEADERS, COLLECTOR_ALLOWED_METHODS } from '../../src/core/collector/cors';
import type { IngestRoute } from '../../src/core/collector/prepare-ingest';
import type { WriteKeyRegistry } from '../../src/core/collector/write-keys';
import type { CollectorLimits } from '../../src/core/config/limits';
import { MethodNotAllowedError, NotFoundError } from '../../src/core/errors';
import type { Logger } from '../../src/ports/logger';
import type { Ingest } from '../../src/use-cases/ingest';
import { basicAuthUser, errorResponse, jsonResponse, readBodyText } from '../shared/http-edge';
import { answerSdkConfig, sdkConfigRequest } from './sdk-config';

export interface CollectorHandlerDeps {
  readonly ingest: Ingest;
  /** The sources' write keys, for the SDK settings (ingest checks keys itself). */
  readonly keys: WriteKeyRegistry;
  readonly limits: CollectorLimits;
  readonly logger: Logger;
}

export type CollectorHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** `/v1/track` and the short forms analytics.js uses (`/v1/t`). */
const ROUTES: Readonly<Record<string, IngestRoute>> = {
  track: 'track',
  t: 'track',
  identify: 'identify',
  i: 'identify',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  group: 'group',
  g: 'group',
  alias: 'alias',
  a: 'alias',
  batch: 'batch',
  b: 'batch',
};

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': COLLECTOR_ALLOWED_METHODS.join(', '),
  'access-control-allow-headers': COLLECTOR_ALLOWED_HEADERS.join(', '),
  'access-control-max-age': '86400',
};

/**
 * Content types whose body is read as JSON (the Tracking API has no other encoding). Beyond
 * application/json: text/plain is what browsers send to avoid a CORS preflight; the RudderStack Node
 * SDK labels its gzip JSON batches application/x-www-form-urlencoded (as does `curl -d`), and binary
 * uploads come as application/octet-stream. Anything else (multipart, XML, ...) is refused.
 */
const JSON_BODY_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
]);

/**
 * The collector's handler (API Gateway HTTP API payload v2), used unchanged by Lambda and by the local
 * runtime: read the JSON body and the Basic-auth write key, call the ingest use case, and map its
 * result or error to the Segment-compatible response. It also answers the settings browser SDKs load
 * before they send (`GET /v1/projects/{writeKey}/settings`, `GET /sourceConfig`, see `sdk-config.ts`),
 * and RudderStack's beacon batches (`POST /beacon/v1/batch?writeKey=...`: `navigator.sendBeacon` can
 * set no header, so the key comes in the query string there, and only there).
 */
export function createCollectorHandler(deps: CollectorHandlerDeps): CollectorHandler {
  return async (event) => {
    try {
      const method = event.requestContext.http.method;
      if (method === 'OPTIONS') return { statusCode: 204, headers: CORS_HEADERS };
      const config = sdkConfigRequest(event.rawPath);
      if (config !== undefined) {
        if (method !== 'GET')
          throw new MethodNotAllowedError(`${method} is not allowed; send GET`, {
            allow: ['GET', 'OPTIONS'],
          });
        const answer = answerSdkConfig(config, event, deps.keys);
        return jsonResponse(200, answer.body, { ...CORS_HEADERS, 'cache-control': answer.cacheControl });
      }
      const { route, beacon } = routeOf(event.rawPath);
      if (method !== 'POST')
        throw new MethodNotAllowedError(`${method} is not allowed; send POST`, {
          allow: ['POST', 'OPTIONS'],
        });
      const body = readBodyText(event, { ...deps.limits, contentTypes: JSON_BODY_TYPES });
      const queryKey = beacon ? event.queryStringParameters?.writeKey : undefined;
      const result = await deps.ingest({
        route,
        body,
        headerWriteKey:
          basicAuthUser(event.headers.authorization) ?? (queryKey === '' ? undefined : queryKey),
        ip: event.requestContext.http.sourceIp || undefined,
      });
      if (result.accepted === 0) {
        const tooLarge = result.rejected.every((r) => r.code === 'message_too_large');
        return json(tooLarge ? 413 : 400, {
          success: false,
          error: {
            code: tooLarge ? 'payload_too_large' : 'no_valid_messages',
            message: 'No message in the request was valid; see rejected',
          },
          accepted: 0,
          rejected: result.rejected,
        });
      }
      return json(200, { success: true, accepted: result.accepted, rejected: result.rejected });
    } catch (error) {
      return errorResponse(error, {
        logger: deps.logger,
        requestId: event.requestContext.requestId,
        headers: CORS_HEADERS,
      });
    }
  };
}

/** The call a path names, and whether it is RudderStack's beacon endpoint (`/beacon/v1/batch`). */
function routeOf(path: string): { route: IngestRoute; beacon: boolean } {
  if (/^\/beacon\/v1\/batch\/?$/.test(path)) return { route: 'batch', beacon: true };
  const match = /^\/v1\/([a-z]+)\/?$/.exec(path);
  // Own keys only: `/v1/constructor` must not find Object.prototype.constructor.
  const route = match?.[1] === undefined || !Object.hasOwn(ROUTES, match[1]) ? undefined : ROUTES[match[1]];
  if (route === undefined) throw new NotFoundError(`No such endpoint: ${path.slice(0, 100)}`);
  return { route, beacon: false };
}

const json = (statusCode: number, body: unknown) => jsonResponse(statusCode, body, CORS_HEADERS);
