import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayEventRequestContextLambdaAuthorizer,
  APIGatewayEventRequestContextV2WithAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import type { Logger } from '../ports/logger';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** A simple response of an HTTP API Lambda authorizer (payload format 2.0). */
export interface SimpleAuthorizerResult {
  readonly isAuthorized: boolean;
  /** Passed to the handler as `requestContext.authorizer.lambda` (a JSON object). */
  readonly context?: object;
}

export type HttpApiAuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<SimpleAuthorizerResult>;

/** A Lambda authorizer in front of a route (payload format 2.0, simple responses, no result caching). */
export interface LocalAuthorizer {
  readonly handler: HttpApiAuthorizerHandler;
  /**
   * Where the identity is read from, as API Gateway takes it: `$request.header.<name>` or
   * `$request.querystring.<name>`. Default `['$request.header.Authorization']` (as in the CDK).
   */
  readonly identitySource?: readonly string[];
}

/** A route: a path prefix, the handler API Gateway would integrate it with, and its authorizer. */
export interface LocalRoute {
  readonly prefix: string;
  readonly handler: HttpApiHandler;
  readonly authorizer?: LocalAuthorizer;
}

export interface ApiGatewayServerOptions {
  readonly routes: readonly LocalRoute[];
  /** Bodies larger than this are refused before they are read to the end (API Gateway: 10 MB). */
  readonly maxBodyBytes?: number;
  readonly logger: Logger;
  /** Answered on `GET /health` (and `HEAD`, for checkers that send it): 200 while true, 503 otherwise. */
  readonly ready: () => boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): a node:http server that turns
 * each request into the event API Gateway would send and the handler's result into the response, so
 * the Lambda handlers run unchanged. As HTTP API does, it:
 * - passes a body as text when it is valid UTF-8 and not content-encoded, and as base64 otherwise;
 * - sets `X-Forwarded-Proto` (`http`, unless a proxy in front already set it), as API Gateway sets it;
 * - percent-decodes the path once (`rawPath`, `requestContext.http.path`) and routes on the decoded
 *   path, keeping `rawQueryString` as sent; repeated query parameters are joined with `,`;
 * - runs a route's Lambda authorizer first: an identity source that is absent or empty → 401
 *   `{"message":"Unauthorized"}` without calling it; `isAuthorized: false` → 403
 *   `{"message":"Forbidden"}`; an authorizer that throws or answers without a boolean
 *   `isAuthorized` → 500 `{"message":"Internal Server Error"}`. In none of these is the handler
 *   called. When it allows, its `context` reaches the handler as `requestContext.authorizer.lambda`.
 *   (Results are not cached, as with a TTL of 0.)
 */
export class ApiGatewayServer {
  private readonly server: Server;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: ApiGatewayServerOptions) {
    for (const route of options.routes) {
      for (const source of route.authorizer?.identitySource ?? []) {
        if (!IDENTITY_SOURCE.test(source))
          throw new Error(
            `Unsupported identity source ${source}: use $request.header.* or $request.querystring.*`,
          );
      }
    }
    this.maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        options.logger.error('request failed', {
          error: error instanceof Error ? error.message : String(error),
        });
        if (!res.headersSent)
          send(res, { statusCode: 500, body: '{"success":false,"error":{"code":"internal_error"}}' });
        else res.destroy();
      });
    });
  }

  /** Starts listening; resolves with the base URL (port 0 picks a free port). */
  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  /** Stops accepting connections and waits for requests in flight to finish. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const ready = this.options.ready();
      return send(res, {
        statusCode: ready ? 200 : 503,
        body: JSON.stringify({ status: ready ? 'ok' : 'starting' }),
      });
    }
    const path = decodePath(url.pathname);
    if (path === undefined) {
      req.resume();
      return send(res, { statusCode: 400, body: '{"message":"Bad Request"}' });
    }
    const route = this.options.routes.find((r) => path.startsWith(r.prefix));
    if (route === undefined) {
      req.resume();
      return send(res, { statusCode: 404, body: '{"message":"Not Found"}' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      req.resume();
      return send(res, { statusCode: 413, body: '{"message":"Request Entity Too Large"}' }, true);
    }
    const request = toRequest(req, url, path, route.prefix);
    let authorizer: object | undefined;
    if (route.authorizer !== undefined) {
      const outcome = await this.authorize(route.authorizer, request);
      if (outcome.denied !== undefined) {
        req.resume();
        return send(res, outcome.denied);
      }
      authorizer = outcome.context;
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === undefined)
      return send(res, { statusCode: 413, body: '{"message":"Request Entity Too Large"}' }, true);
    const result = await route.handler(toEvent(request, body, authorizer));
    send(res, result);
  }

  /** Runs a route's authorizer as HTTP API does; `denied` is API Gateway's own answer. */
  private async authorize(
    authorizer: LocalAuthorizer,
    request: RequestParts,
  ): Promise<
    | { denied: APIGatewayProxyStructuredResultV2; context?: undefined }
    | { denied?: undefined; context: object }
  > {
    const identity: string[] = [];
    for (const source of authorizer.identitySource ?? ['$request.header.Authorization']) {
      const value = identityValue(source, request);
      if (value === undefined || value === '') return { denied: UNAUTHORIZED };
      identity.push(value);
    }
    let result: SimpleAuthorizerResult;
    try {
      result = await authorizer.handler(toAuthorizerEvent(request, identity));
    } catch (error) {
      this.options.logger.error('authorizer failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      return { denied: AUTHORIZER_FAILED };
    }
    if (typeof result?.isAuthorized !== 'boolean') {
      this.options.logger.error('authorizer answered without a boolean isAuthorized');
      return { denied: AUTHORIZER_FAILED };
    }
    return result.isAuthorized ? { context: result.context ?? {} } : { denied: FORBIDDEN };
  }
}

const UNAUTHORIZED: APIGatewayProxyStructuredResultV2 = {
  statusCode: 401,
  body: '{"message":"Unauthorized"}',
};
const FORBIDDEN: APIGatewayProxyStructuredResultV2 = { statusCode: 403, body: '{"message":"Forbidden"}' };
const AUTHORIZER_FAILED: APIGatewayProxyStructuredResultV2 = {
  statusCode: 500,
  body: '{"message":"Internal Server Error"}',
};

/**
 * A URL path as HTTP API hands it to Lambda (`rawPath`): percent-decoded once, so `%40` is `@`, `%2F`
 * is `/` and `%2540` is `%40`; `+` stays `+`. `undefined` for a malformed escape (`%zz`).
 */
export function decodePath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

/** What the request event and the authorizer event share. */
interface RequestParts {
  readonly method: string;
  readonly path: string;
  readonly rawQueryString: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly queryStringParameters: Readonly<Record<string, string>> | undefined;
  readonly cookies: readonly string[] | undefined;
  readonly requestContext: APIGatewayProxyEventV2['requestContext'];
}

function toRequest(req: IncomingMessage, url: URL, path: string, prefix: string): RequestParts {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // API Gateway tells the integration the scheme the client used (always https there); this server
  // speaks plain HTTP, unless a proxy in front of it terminates TLS and says so itself.
  headers['x-forwarded-proto'] ??= 'http';
  const method = req.method ?? 'GET';
  const now = Date.now();
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  return {
    method,
    path,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? query : undefined,
    cookies: headers.cookie?.split(/;\s*/).filter((cookie) => cookie !== ''),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      // The route matched, not the path: HTTP API names a greedy route so (`GET /v1/profiles/{proxy+}`),
      // and handlers log it, so it must not carry what the path does (an email in a profile lookup).
      routeKey: `${method} ${prefix}{proxy+}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
  };
}

/** The identity sources supported: a header (any case) or a query string parameter. */
const IDENTITY_SOURCE = /^\$request\.(header|querystring)\.(.+)$/;

/** The value an identity source selects (`$request.header.X`, `$request.querystring.x`). */
function identityValue(source: string, request: RequestParts): string | undefined {
  const [, kind, name = ''] = IDENTITY_SOURCE.exec(source) ?? [];
  return kind === 'header' ? request.headers[name.toLowerCase()] : request.queryStringParameters?.[name];
}

function toAuthorizerEvent(
  request: RequestParts,
  identity: readonly string[],
): APIGatewayRequestAuthorizerEventV2 {
  const { method, path } = request;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:local:local:local/$default/${method}${path}`,
    identitySource: [...identity],
    routeKey: request.requestContext.routeKey,
    rawPath: path,
    rawQueryString: request.rawQueryString,
    cookies: [...(request.cookies ?? [])],
    headers: { ...request.headers },
    ...(request.queryStringParameters === undefined
      ? {}
      : { queryStringParameters: { ...request.queryStringParameters } }),
    requestContext: request.requestContext,
  };
}

/** The request body, or `undefined` once it passes `max` bytes (the rest is not buffered). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(
  request: RequestParts,
  body: Buffer | undefined,
  authorizer: object | undefined,
): APIGatewayProxyEventV2 {
  let text: string | undefined;
  let isBase64Encoded = false;
  if (body !== undefined && body.byteLength > 0) {
    const encoding = request.headers['content-encoding'];
    text = encoding !== undefined && encoding !== 'identity' ? undefined : decodeUtf8(body);
    if (text === undefined) {
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }
  return {
    version: '2.0',
    routeKey: request.requestContext.routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString,
    ...(request.cookies === undefined ? {} : { cookies: [...request.cookies] }),
    headers: { ...request.headers },
    ...(request.queryStringParameters === undefined
      ? {}
      : { queryStringParameters: { ...request.queryStringParameters } }),
    requestContext: authorizer === undefined ? request.requestContext : withAuthorizer(request, authorizer),
    body: text,
    isBase64Encoded,
  };
}

/** The request context with the authorizer's context where API Gateway puts it. */
function withAuthorizer(
  request: RequestParts,
  context: object,
): APIGatewayEventRequestContextV2WithAuthorizer<APIGatewayEventRequestContextLambdaAuthorizer<unknown>> {
  return { ...request.requestContext, authorizer: { lambda: context } };
}

function decodeUtf8(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, closeConnection = false): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (closeConnection) headers.connection = 'close';
  const body =
    result.body === undefined
      ? undefined
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : result.body;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}
