import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isJsonObject } from '../../src/core/collector/message-schemas';
import {
  BadRequestError,
  MethodNotAllowedError,
  MosaicError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../src/core/errors';
import type { JsonObject } from '../../src/core/events/stream-record';
import { parseJsonObject } from '../../src/core/json-object';
import type { Logger } from '../../src/ports/logger';

/**
 * What every Mosaic HTTP handler does at the edge (API Gateway HTTP API, payload format 2.0): read a
 * JSON body safely, read HTTP Basic credentials, and answer JSON — errors mapped from their type.
 */

export interface JsonBodyOptions {
  /** Largest body accepted, as sent (before decompression). */
  readonly maxRequestBytes: number;
  /** Largest body after gzip decompression (guards against decompression bombs). */
  readonly maxDecompressedBytes: number;
  /** Content types whose body is read as JSON (lowercase, without parameters). */
  readonly contentTypes: ReadonlySet<string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The request's body as a JSON object: {@link readBodyText}, parsed. */
export function readJsonBody(event: APIGatewayProxyEventV2, options: JsonBodyOptions): JsonObject {
  return parseJsonObject(readBodyText(event, options));
}

/**
 * The request's body as text, for a JSON reader: content type and encoding checked, size capped
 * before and after gzip, strict UTF-8. API Gateway passes a valid UTF-8 body that is not
 * content-encoded as text, anything else as base64.
 */
export function readBodyText(event: APIGatewayProxyEventV2, options: JsonBodyOptions): string {
  const contentType =
    (event.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!options.contentTypes.has(contentType)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${contentType.slice(0, 100)} is not accepted; send application/json`,
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
  return plain && !event.isBase64Encoded
    ? checkedText(event.body, options)
    : textOf(event.body, event.isBase64Encoded, plain, options);
}

/** A body API Gateway passed as text (valid UTF-8 already), after the size check. */
function checkedText(body: string, options: JsonBodyOptions): string {
  // UTF-8 takes at least one byte per UTF-16 unit and at most three: count bytes only when it matters.
  if (
    body.length > options.maxRequestBytes ||
    (body.length * 3 > options.maxRequestBytes && Buffer.byteLength(body) > options.maxRequestBytes)
  ) {
    throw new PayloadTooLargeError(`The request body is larger than ${options.maxRequestBytes} bytes`);
  }
  return body;
}

/** A base64 or gzip body: size-checked bytes, decompressed with a cap, decoded as strict UTF-8. */
function textOf(body: string, base64: boolean, plain: boolean, options: JsonBodyOptions): string {
  let bytes: Buffer = base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > options.maxRequestBytes) {
    throw new PayloadTooLargeError(`The request body is larger than ${options.maxRequestBytes} bytes`);
  }
  if (!plain) bytes = gunzip(bytes, Math.min(options.maxDecompressedBytes, options.maxRequestBytes));
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequestError('The body is not valid UTF-8', { code: 'invalid_utf8' });
  }
}

function gunzip(bytes: Buffer, cap: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(`The decompressed body is larger than ${cap} bytes`);
    }
    throw new BadRequestError('The body is not valid gzip', { code: 'invalid_gzip' });
  }
}

/**
 * The HTTP Basic user name (the password is ignored). `undefined` when the header names no key: absent,
 * empty, or Basic with an empty user name (`Og==`, what some clients send for a key they do not
 * have), so that a key in the body still counts.
 */
export function basicAuthUser(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError('The Authorization header must be HTTP Basic');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user === '' ? undefined : user;
}

/**
 * The context a Lambda authorizer returned for this request (`requestContext.authorizer.lambda`), or
 * `undefined` when no authorizer ran or it returned none.
 */
export function lambdaAuthorizerContext(
  event: APIGatewayProxyEventV2,
): Readonly<Record<string, unknown>> | undefined {
  const { authorizer } = event.requestContext as { readonly authorizer?: { readonly lambda?: unknown } };
  const context = authorizer?.lambda;
  return isJsonObject(context) ? context : undefined;
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * An error as its HTTP answer: a {@link MosaicError} by its status and code, with its message only
 * below 500; anything else as 500. Errors from 500 up are logged (never the request's contents).
 */
export function errorResponse(
  error: unknown,
  context: {
    readonly logger: Logger;
    readonly requestId: string;
    readonly headers?: Readonly<Record<string, string>>;
  },
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof MosaicError) {
    if (error.statusCode >= 500) {
      context.logger.error('request failed', {
        code: error.code,
        requestId: context.requestId,
        error: error.message,
      });
    }
    const issues = error.statusCode < 500 ? issuesOf(error) : undefined;
    const allow: Record<string, string> =
      error instanceof MethodNotAllowedError && error.allow.length > 0
        ? { allow: error.allow.join(', ') }
        : {};
    return jsonResponse(
      error.statusCode,
      {
        success: false,
        error: {
          code: error.code,
          message: error.publicMessage,
          ...(issues === undefined ? {} : { issues }),
        },
      },
      { ...context.headers, ...allow },
    );
  }
  context.logger.error('request failed unexpectedly', {
    requestId: context.requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return jsonResponse(
    500,
    { success: false, error: { code: 'internal_error', message: 'Internal error' } },
    context.headers,
  );
}

/** The `issues` (`[{ path, message }]`) an error below 500 carries, e.g. an invalid segment's. */
function issuesOf(error: MosaicError): readonly { path: string; message: string }[] | undefined {
  const issues = (error as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  return issues
    .filter(
      (issue): issue is { path: string; message: string } =>
        typeof issue?.path === 'string' && typeof issue?.message === 'string',
    )
    .map(({ path, message }) => ({ path, message }));
}

/**
 * The admin key the Lambda authorizer put in the request's context. Every admin API checks it even
 * though API Gateway refuses what the authorizer refused: a route deployed without the authorizer then
 * answers 401 rather than open data.
 */
export function requireAdminKey(event: APIGatewayProxyEventV2): string {
  const adminKey = lambdaAuthorizerContext(event)?.adminKey;
  if (typeof adminKey !== 'string' || adminKey === '') {
    throw new UnauthorizedError('The request carries no admin key');
  }
  return adminKey;
}

/** Refuses a method the resource does not allow (405, with `Allow`). */
export function requireMethod(method: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) {
    throw new MethodNotAllowedError(`${method} is not allowed; send ${allowed.join(' or ')}`, {
      allow: allowed,
    });
  }
}
