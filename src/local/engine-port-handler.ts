import type { MessagePort } from 'node:worker_threads';
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandlerOutput } from '@smithy/types';

/** A request to the embedded engine, as a message (the HTTP request the SDK would have sent). */
export interface EngineRequestMessage {
  readonly id: number;
  readonly method: string;
  /** Path and query string, as in an HTTP request line. */
  readonly path: string;
  /** Header names in lower case, as Node's HTTP server gives them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The engine's answer to {@link EngineRequestMessage} `id`. */
export interface EngineResponseMessage {
  readonly id: number;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

interface Pending {
  resolve(output: RequestHandlerOutput<HttpResponse>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** Stops listening to the request's abort signal (it may outlive the request). */
  unlisten?: () => void;
}

/**
 * The AWS SDK's request handler for the embedded engine on another thread of this process: each
 * request goes to dynalite's thread as a message on a `MessagePort` (`DynaliteThread.connect`) and
 * through dynalite's own request listener there, and its answer comes back the same way — the SDK's
 * serialisers, retries and error parsing are unchanged; the loopback socket, with its system calls and
 * HTTP parsing on both threads, is gone.
 *
 * A request fails (and the SDK's retry policy decides what next) after `timeoutMs`, when its abort
 * signal fires, or when the engine's end of the port closes (its thread stopped).
 */
export class EnginePortHandler {
  readonly metadata = { handlerProtocol: 'engine-port' };
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly port: MessagePort,
    private readonly timeoutMs: number,
  ) {
    port.on('message', (message: EngineResponseMessage) => this.answer(message));
    port.on('close', () => this.fail('the embedded engine closed its port'));
    // An idle client must not keep its thread alive; a request in flight has a timer that does.
    port.unref();
  }

  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<RequestHandlerOutput<HttpResponse>> {
    if (this.closed) return Promise.reject(new Error('the embedded engine client is closed'));
    const signal = options?.abortSignal;
    if (signal?.aborted) return Promise.reject(abortError());
    const id = this.nextId++;
    const timeoutMs = options?.requestTimeout ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.settle(id) === undefined) return;
        const error = new Error(`the embedded engine did not answer within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        reject(error);
      }, timeoutMs);
      const pending: Pending = { resolve, reject, timer };
      this.pending.set(id, pending);
      if (signal !== undefined) {
        const onAbort = () => {
          if (this.settle(id) !== undefined) reject(abortError());
        };
        if ('addEventListener' in signal) {
          signal.addEventListener('abort', onAbort, { once: true });
          pending.unlisten = () => signal.removeEventListener('abort', onAbort);
        } else {
          signal.onabort = onAbort;
          pending.unlisten = () => {
            if (signal.onabort === onAbort) signal.onabort = null;
          };
        }
      }
      const message: EngineRequestMessage = {
        id,
        method: request.method,
        path: pathOf(request),
        headers: lowerCaseNames(request.headers),
        body: bodyText(request.body),
      };
      this.port.postMessage(message);
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Fails what is in flight and closes the port (`DynamoDBClient.destroy` calls it). */
  destroy(): void {
    this.fail('the embedded engine client is closed');
    this.port.close();
  }

  private answer(message: EngineResponseMessage): void {
    this.settle(message.id)?.resolve({
      response: {
        statusCode: message.status,
        headers: { ...message.headers },
        body: Buffer.from(message.body),
      },
    });
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.unlisten?.();
    return pending;
  }

  private fail(reason: string): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new Error(reason));
  }
}

function pathOf(request: HttpRequest): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value === null) search.append(name, '');
    else for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
  }
  const query = search.toString();
  return query === '' ? request.path : `${request.path}?${query}`;
}

function lowerCaseNames(headers: HttpRequest['headers']): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return lower;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new TypeError('the embedded engine takes string or byte bodies, not streams');
}

function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}
