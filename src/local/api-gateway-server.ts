import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Logger } from '../ports/logger';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** A route: a path prefix and the handler API Gateway would integrate it with. */
export interface LocalRoute {
  readonly prefix: string;
  readonly handler: HttpApiHandler;
}

export interface ApiGatewayServerOptions {
  readonly routes: readonly LocalRoute[];
  /** Bodies larger than this are refused before they are read to the end (API Gateway: 10 MB). */
  readonly maxBodyBytes?: number;
  readonly logger: Logger;
  /** Answered on `GET /health`: 200 while true, 503 otherwise. */
  readonly ready: () => boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): a node:http server that turns
 * each request into the event API Gateway would send and the handler's result into the response, so
 * the Lambda handlers run unchanged. Like API Gateway it passes a body as text when it is valid UTF-8
 * and not content-encoded, and as base64 otherwise.
 */
export class ApiGatewayServer {
  private readonly server: Server;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: ApiGatewayServerOptions) {
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
    if (url.pathname === '/health' && req.method === 'GET') {
      const ready = this.options.ready();
      return send(res, {
        statusCode: ready ? 200 : 503,
        body: JSON.stringify({ status: ready ? 'ok' : 'starting' }),
      });
    }
    const route = this.options.routes.find((r) => url.pathname.startsWith(r.prefix));
    if (route === undefined) {
      req.resume();
      return send(res, { statusCode: 404, body: '{"message":"Not Found"}' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      req.resume();
      return send(res, { statusCode: 413, body: '{"message":"Request Entity Too Large"}' }, true);
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === undefined)
      return send(res, { statusCode: 413, body: '{"message":"Request Entity Too Large"}' }, true);
    const result = await route.handler(toEvent(req, url, body));
    send(res, result);
  }
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

function toEvent(req: IncomingMessage, url: URL, body: Buffer | undefined): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  let text: string | undefined;
  let isBase64Encoded = false;
  if (body !== undefined && body.byteLength > 0) {
    const encoded = headers['content-encoding'] !== undefined && headers['content-encoding'] !== 'identity';
    text = encoded ? undefined : decodeUtf8(body);
    if (text === undefined) {
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }
  const method = req.method ?? 'GET';
  const now = Date.now();
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  return {
    version: '2.0',
    routeKey: `${method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${url.pathname}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: text,
    isBase64Encoded,
  };
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
