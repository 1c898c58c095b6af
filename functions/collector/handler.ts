import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isJsonObject } from '../../src/core/collector/message-schemas';
import type { IngestRoute } from '../../src/core/collector/prepare-ingest';
import type { CollectorLimits } from '../../src/core/config/limits';
import {
  BadRequestError,
  MethodNotAllowedError,
  MosaicError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../src/core/errors';
import type { JsonObject } from '../../src/core/events/stream-record';
import type { Logger } from '../../src/ports/logger';
import type { Ingest } from '../../src/use-cases/ingest';

export interface CollectorHandlerDeps {
  readonly ingest: Ingest;
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
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, content-encoding',
  'access-control-max-age': '86400',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
 * The collector's HTTP edge (API Gateway HTTP API payload v2), used unchanged by Lambda and by the
 * local runtime: decode the body (base64, gzip with a cap, strict UTF-8, JSON), take the write key
 * from Basic auth, call the ingest use case, and map its result or error to the Segment-compatible
 * response.
 */
export function createCollectorHandler(deps: CollectorHandlerDeps): CollectorHandler {
  return async (event) => {
    try {
      const method = event.requestContext.http.method;
      if (method === 'OPTIONS') return { statusCode: 204, headers: CORS_HEADERS };
      const route = routeOf(event.rawPath);
      if (method !== 'POST') throw new MethodNotAllowedError(`${method} is not allowed; send POST`);
      const body = decodeBody(event, deps.limits);
      const result = await deps.ingest({
        route,
        body,
        headerWriteKey: writeKeyFromAuthorization(event.headers.authorization),
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
      return errorResponse(error, deps.logger, event.requestContext.requestId);
    }
  };
}

function routeOf(path: string): IngestRoute {
  const match = /^\/v1\/([a-z]+)\/?$/.exec(path);
  const route = match?.[1] === undefined ? undefined : ROUTES[match[1]];
  if (route === undefined) throw new NotFoundError(`No such endpoint: ${path.slice(0, 100)}`);
  return route;
}

function decodeBody(event: APIGatewayProxyEventV2, limits: CollectorLimits): JsonObject {
  const contentType =
    (event.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_BODY_TYPES.has(contentType)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${contentType.slice(0, 100)} is not accepted; send application/json (or text/plain)`,
    );
  }
  if (event.body === undefined || event.body === '') {
    throw new BadRequestError('The request has no body', { code: 'empty_body' });
  }
  const encoding = event.headers['content-encoding']?.trim().toLowerCase();
  const plain = encoding === undefined || encoding === '' || encoding === 'identity';
  if (!plain && encoding !== 'gzip') {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding ${encoding.slice(0, 50)} is not accepted; use gzip or none`,
    );
  }
  const text =
    plain && !event.isBase64Encoded
      ? checkedText(event.body, limits)
      : textOf(event.body, event.isBase64Encoded, plain, limits);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError('The body is not valid JSON', { code: 'invalid_json' });
  }
  if (!isJsonObject(parsed))
    throw new BadRequestError('The body must be a JSON object', { code: 'invalid_json' });
  return parsed;
}

/** A body API Gateway passed as text (valid UTF-8 already), after the size check. */
function checkedText(body: string, limits: CollectorLimits): string {
  // UTF-8 takes at least one byte per UTF-16 unit and at most three: count bytes only when it matters.
  if (
    body.length > limits.maxRequestBytes ||
    (body.length * 3 > limits.maxRequestBytes && Buffer.byteLength(body) > limits.maxRequestBytes)
  ) {
    throw new PayloadTooLargeError(`The request body is larger than ${limits.maxRequestBytes} bytes`);
  }
  return body;
}

/** A base64 or gzip body: size-checked bytes, decompressed with a cap, decoded as strict UTF-8. */
function textOf(body: string, base64: boolean, plain: boolean, limits: CollectorLimits): string {
  let bytes: Buffer = base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > limits.maxRequestBytes) {
    throw new PayloadTooLargeError(`The request body is larger than ${limits.maxRequestBytes} bytes`);
  }
  if (!plain) bytes = gunzip(bytes, limits);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequestError('The body is not valid UTF-8', { code: 'invalid_utf8' });
  }
}

function gunzip(bytes: Buffer, limits: CollectorLimits): Buffer {
  const cap = Math.min(limits.maxDecompressedBytes, limits.maxRequestBytes);
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(`The decompressed body is larger than ${cap} bytes`);
    }
    throw new BadRequestError('The body is not valid gzip', { code: 'invalid_gzip' });
  }
}

/** The write key is the HTTP Basic username (the password is empty), as Segment's SDKs send it. */
function writeKeyFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1])
    throw new UnauthorizedError('The Authorization header must be HTTP Basic with the write key as username');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}

function errorResponse(error: unknown, logger: Logger, requestId: string): APIGatewayProxyStructuredResultV2 {
  if (error instanceof MosaicError) {
    if (error.statusCode >= 500)
      logger.error('collector request failed', { code: error.code, requestId, error: error.message });
    return json(error.statusCode, {
      success: false,
      error: { code: error.code, message: error.publicMessage },
    });
  }
  logger.error('collector request failed unexpectedly', {
    requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return json(500, { success: false, error: { code: 'internal_error', message: 'Internal error' } });
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...CORS_HEADERS },
    body: JSON.stringify(body),
  };
}
