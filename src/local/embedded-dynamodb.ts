import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { identityTableDefinition } from '../adapters/aws/identity-table';
import { sdkClientConfig } from '../adapters/aws/sdk-config';
import { segmentTableDefinition } from '../adapters/aws/segment-table';
import { EnginePortHandler } from './engine-port-handler';

/** dynalite's options that Mosaic uses (it is CommonJS without type declarations). */
interface DynaliteOptions {
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
  /** LevelDB folder: tables survive a restart. In memory when absent. */
  readonly path?: string;
}

const require = createRequire(import.meta.url);

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  /** A client that can only reach the embedded engine (dummy credentials, localhost endpoint). */
  readonly client: DynamoDBClient;
  /** A new port to the engine, for a client on another thread (see {@link DynaliteThread.connect}). */
  connect(): MessagePort;
  close(): Promise<void>;
}

/** A dynalite server listening on 127.0.0.1. */
export interface DynaliteServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite in this process (pure JavaScript, speaks the DynamoDB API) on a free port of
 * 127.0.0.1. With a `path`, its tables persist under that folder across restarts; in memory
 * otherwise. A created table turns ACTIVE after `createTableMs` (by default at once, on the next
 * turn of the event loop; DynamoDB takes seconds).
 */
export async function startDynaliteServer(
  options: { readonly path?: string; readonly createTableMs?: number } = {},
): Promise<DynaliteServer> {
  const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;
  const server = dynalite({
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}

/**
 * The code of the thread that runs dynalite (CommonJS, evaluated by `Worker`): it starts the server
 * as {@link startDynaliteServer} does, reports its port, and closes it when told to. It also serves
 * requests that come as messages on a `MessagePort` it is given (`connect`): each goes through
 * dynalite's own request listener, as an HTTP request would, with a request and a response that
 * carry the message (see `engine-port-handler.ts` for the other end).
 *
 * Its LevelDB reads are synchronous. The thread does nothing but serve the engine, and a read from
 * LevelDB's memory table, block cache or the page cache takes microseconds. Each asynchronous read
 * went through libuv's thread pool instead (a hand-off each way) and queued there behind every
 * other read in flight. A 50-key BatchGetItem is 100 of them, the table description and the item
 * each time, so under load a read waited 3–6 ms from call to answer, against 0.2 ms idle. Writes
 * stay asynchronous, since they append to LevelDB's log.
 */
const DYNALITE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { EventEmitter } = require('node:events');
const dynalite = require(workerData.module);
// Reads straight from LevelDB on this thread (abstract-level's getSync) instead of through libuv's pool.
const { Level } = require('node:module').createRequire(workerData.module)('level');
Level.prototype._get = async function (key, options) { return this._getSync(key, options); };
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...workerData.options });
const listener = server.listeners('request')[0];
// Once closing, requests are not handed to dynalite (their callers fail when the port closes), and the
// error dynalite throws for a request the closing database cuts short is not a crash of this thread.
let closing = false;
process.on('uncaughtException', (error) => {
  if (!closing) throw error;
});
function serve(port) {
  port.on('message', (request) => {
    if (closing) return;
    const req = new EventEmitter();
    req.method = request.method;
    req.url = request.path;
    req.headers = request.headers;
    const headers = {};
    const res = {
      statusCode: 200,
      setHeader(name, value) { headers[String(name).toLowerCase()] = String(value); },
      end(body) {
        const text = body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
        port.postMessage({ id: request.id, status: res.statusCode, headers, body: text });
      },
    };
    listener(req, res);
    if (request.body.length > 0) req.emit('data', Buffer.from(request.body, 'utf8'));
    req.emit('end');
  });
}
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message.type === 'connect') return serve(message.port);
  if (message.type !== 'close') return;
  closing = true;
  server.close(() => parentPort.postMessage({ closed: true }));
  server.closeAllConnections();
});
`;

/** dynalite on a thread of its own, reachable over HTTP and over message ports. */
export interface DynaliteThread extends DynaliteServer {
  /**
   * A new port to the engine: hand it to {@link embeddedEngineClient} (on any thread: transfer it)
   * and that client's requests reach dynalite as messages instead of over a loopback socket.
   */
  connect(): MessagePort;
}

/**
 * {@link startDynaliteServer} on a thread of its own: dynalite's CPU work (every request is parsed,
 * checked and stored in JavaScript) no longer shares the event loop with the API handlers, so a
 * resolver writing flat out does not stall Profile API reads and collector requests behind it.
 */
export async function startDynaliteThread(options: { readonly path?: string } = {}): Promise<DynaliteThread> {
  const worker = new Worker(DYNALITE_THREAD, {
    eval: true,
    workerData: {
      module: require.resolve('dynalite'),
      options: options.path === undefined ? {} : { path: options.path },
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port: number }) => {
      worker.off('error', reject);
      resolve(message.port);
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connect() {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ type: 'connect', port: port1 }, [port1]);
      return port2;
    },
    async close() {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'close' });
      });
      await worker.terminate();
    },
  };
}

/**
 * DynamoDB for the local runtime: dynalite on its own thread ({@link startDynaliteThread}), reached
 * through the same AWS SDK client and adapter as in AWS.
 */
export async function startEmbeddedDynamoDb(
  options: { readonly path?: string } = {},
): Promise<EmbeddedDynamoDb> {
  const server = await startDynaliteThread(options);
  const client = embeddedEngineClient(server.endpoint);
  return {
    endpoint: server.endpoint,
    client,
    connect: () => server.connect(),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * Not signed: the embedded engine checks that a request carries an `Authorization` header of SigV4's
 * form and an `X-Amz-Date`, never the signature. Hashing the payload and signing cost about a quarter
 * of the SDK's main-thread time a call on this path, for nothing.
 */
const UNSIGNED: NonNullable<DynamoDBClientConfig['httpAuthSchemes']> = [
  {
    schemeId: 'aws.auth#sigv4',
    identityProvider: () => async () => ({}),
    signer: {
      async sign(request) {
        request.headers.authorization =
          'AWS4-HMAC-SHA256 Credential=local/20250101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned';
        request.headers['x-amz-date'] = '20250101T000000Z';
        return request;
      },
    },
  },
];

/** How long a request to the embedded engine may take (it is local, but may be busy). */
const ENGINE_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Middleware that does nothing for a loopback engine: the user agent (for AWS's own statistics), the
 * Lambda trace header (the local runtime is not in Lambda) and logging (no logger is configured).
 */
const IDLE_MIDDLEWARE = ['getUserAgentMiddleware', 'recursionDetectionMiddleware', 'loggerMiddleware'];

/**
 * The SDK client the local runtime's adapters use for the embedded engine: the same client and
 * commands as in AWS, configured for a loopback engine — a fixed endpoint instead of the endpoint
 * rule set, standard retries (the engine never throttles, so adaptive rate limiting only costs),
 * unsigned requests and no idle middleware. Together they halve the SDK's CPU a call (about 0.85 →
 * 0.45 ms measured on a GetItem/UpdateItem loop). Under the unify benchmark's load the SDK was about
 * half of the main thread's work, and the Profile API's reads wait for that thread.
 *
 * With a `port` from {@link DynaliteThread.connect}, the client's requests travel to the engine as
 * messages rather than over a loopback socket (`EnginePortHandler`): the same requests and answers,
 * without the socket writes and HTTP parsing on both threads.
 */
export function embeddedEngineClient(endpoint: string, port?: MessagePort): DynamoDBClient {
  const url = new URL(endpoint);
  const client = new DynamoDBClient({
    ...sdkClientConfig({ region: 'local', endpoint, requestTimeoutMs: ENGINE_REQUEST_TIMEOUT_MS }),
    ...(port === undefined ? {} : { requestHandler: new EnginePortHandler(port, ENGINE_REQUEST_TIMEOUT_MS) }),
    retryMode: 'standard',
    endpointProvider: () => ({ url }),
    // Unused by the unsigned scheme; given so the SDK's default credential chain never runs.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    httpAuthSchemes: UNSIGNED,
  });
  for (const name of IDLE_MIDDLEWARE) client.middlewareStack.remove(name);
  return client;
}

/** Creates the identity table unless it exists (a restart over the same data folder). */
export async function ensureIdentityTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await ensureTable(client, identityTableDefinition(tableName));
}

/** Creates the segments table (`segment-table.ts` shape) unless it exists. */
export async function ensureSegmentTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await ensureTable(client, segmentTableDefinition(tableName));
}

/** How long a table the engine is creating may take to become ACTIVE, and how often to look. */
const TABLE_ACTIVE_TIMEOUT_MS = 10_000;
const TABLE_ACTIVE_POLL_MS = 5;

/**
 * Creates the table unless it exists, and returns once it is ACTIVE. dynalite answers CreateTable
 * with the table still CREATING, and refuses requests to it with ResourceNotFoundException until a
 * timer marks it ACTIVE; a client on a port can send its next request before that timer fires.
 */
async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  let status = await tableStatus(client, definition.TableName);
  if (status === undefined) {
    const created = await client.send(new CreateTableCommand(definition));
    status = created.TableDescription?.TableStatus;
  }
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) {
      throw new Error(`Table ${definition.TableName} is still ${status} after ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, TABLE_ACTIVE_POLL_MS));
    status = await tableStatus(client, definition.TableName);
  }
}

async function tableStatus(
  client: DynamoDBClient,
  tableName: string | undefined,
): Promise<string | undefined> {
  try {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return described.Table?.TableStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
