import type { DestinationListView, DestinationTestView, DestinationView } from '../core/activation/views';
import type { EventsView, MergesView, ProfileView } from '../core/profile/profile-view';
import type {
  CreateSegmentRequest,
  ExportRequestInput,
  ExportView,
  PreviewView,
  SegmentListView,
  SegmentView,
  UpdateSegmentRequest,
} from '../core/segments/views';

/**
 * A small typed client for Mosaic's admin HTTP APIs (DESIGN.md "Contracts"), for the `mosaic` CLI and
 * for scripts: `fetch` only, a timeout on every request (body included), and every failure as an
 * {@link ApiError} subclass that says what happened — never a bare `TypeError: fetch failed`.
 *
 * The types are the server's own views, so a change of the API's shape breaks the CLI's typecheck.
 */

/** `{type}:{value}` — an identifier type (or `profile_id`) and a value, as the Profile API takes them. */
export interface ProfileIdentifier {
  readonly type: string;
  readonly value: string;
}

export interface ApiClientOptions {
  /** The API's base URL: `http://127.0.0.1:8080` locally, the stack's `CollectorUrl` in AWS. */
  readonly baseUrl: string;
  /** An admin key, sent as `Authorization: Bearer ...`. */
  readonly adminKey: string;
  /** Per request, from sending it to reading the whole answer. */
  readonly timeoutMs: number;
  /** Injected in tests; the global `fetch` otherwise. */
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /**
   * A light check that a success answer has the expected shape (the fields a reader relies on), so an
   * answer from something else is reported as such rather than half printed.
   */
  readonly expect?: (data: unknown) => boolean;
  /** This request's timeout instead of the client's (a wait's remaining time, say). */
  readonly timeoutMs?: number;
}

/** Per call: a timeout other than the client's. */
export interface CallOptions {
  readonly timeoutMs?: number;
}

/**
 * A successful answer: the parsed JSON and the text exactly as the API sent it. A 204 has no body:
 * `data` is `undefined` and `raw` is empty.
 */
export interface ApiResult<T> {
  readonly status: number;
  readonly data: T;
  readonly raw: string;
  /** The `Location` header, when the answer has one (a 202 names where to follow the job). */
  readonly location?: string;
}

/** One thing wrong with a request, as a 400 lists them: the JSON path of the bad value and why. */
export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

export interface MosaicApiClient {
  readonly baseUrl: string;
  /** `GET /v1/profiles/{type}:{value}` */
  profile(id: ProfileIdentifier): Promise<ApiResult<ProfileView>>;
  /** `GET /v1/profiles/{type}:{value}/events?limit=N` — newest first. */
  profileEvents(id: ProfileIdentifier, limit?: number): Promise<ApiResult<EventsView>>;
  /** `GET /v1/profiles/{type}:{value}/merges` — oldest first. */
  profileMerges(id: ProfileIdentifier): Promise<ApiResult<MergesView>>;
  /** `POST /v1/segments` → 201 (409 when the id exists; 400 with `issues` when the definition is bad). */
  createSegment(body: CreateSegmentRequest): Promise<ApiResult<SegmentView>>;
  /** `GET /v1/segments?limit=&next=` — one page; `next` names the following one. */
  listSegments(page?: {
    readonly limit?: number;
    readonly next?: string;
  }): Promise<ApiResult<SegmentListView>>;
  /** `GET /v1/segments/{id}` */
  segment(id: string): Promise<ApiResult<SegmentView>>;
  /** `PUT /v1/segments/{id}` */
  updateSegment(id: string, body: UpdateSegmentRequest): Promise<ApiResult<SegmentView>>;
  /** `DELETE /v1/segments/{id}` → 204, no body. */
  deleteSegment(id: string): Promise<ApiResult<undefined>>;
  /** `POST /v1/segments/{id}/preview` → 200 when done, 202 RUNNING with `location` to follow. */
  previewSegment(id: string, options?: CallOptions): Promise<ApiResult<PreviewView>>;
  /** `GET` a preview at `path` (from {@link followPath}, or {@link previewPath}) → 202 running, 200 done. */
  previewAt(path: string, options?: CallOptions): Promise<ApiResult<PreviewView>>;
  /** `POST /v1/segments/{id}/exports` → 202 RUNNING with `location` to follow. */
  exportSegment(id: string, body: ExportRequestInput, options?: CallOptions): Promise<ApiResult<ExportView>>;
  /** `GET` an export at `path` (from {@link followPath}, or {@link exportPath}). */
  exportAt(path: string, options?: CallOptions): Promise<ApiResult<ExportView>>;
  /** `GET /v1/destinations` — every configured destination, without secrets. */
  listDestinations(): Promise<ApiResult<DestinationListView>>;
  /** `GET /v1/destinations/{name}` */
  destination(name: string): Promise<ApiResult<DestinationView>>;
  /**
   * `POST /v1/destinations/{name}/test` → 200 whether the test delivery worked or not (`ok`); 409 for a
   * kind the deployment cannot send to.
   */
  testDestination(name: string, options?: CallOptions): Promise<ApiResult<DestinationTestView>>;
  /**
   * The path under this client's base URL that a `Location` header names (`/v1/...`, or an absolute
   * URL under the base URL); `undefined` for anything else, which is not followed with the admin key.
   */
  followPath(location: string | undefined): string | undefined;
  /**
   * Any admin API request (`path` starts with `/v1/`; every segment in it already encoded). The typed
   * methods above are built on it.
   */
  request<T>(method: string, path: string, options?: RequestOptions): Promise<ApiResult<T>>;
}

/**
 * Base of every failure the client reports; `retryable`: the same request may succeed later. Not a
 * `MosaicError`: those are the server's errors, mapped to an HTTP status at its edge; these describe
 * what came back (or did not) on the client's side of that edge.
 */
export abstract class ApiError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The API answered with an error status. `code` and `message` are the API's own
 * (`{"error":{"code","message"}}`); for an answer without that shape — API Gateway's
 * `{"message":"Forbidden"}`, a proxy's HTML page — `code` is derived from the status and
 * `mosaicError` is false.
 */
export class ApiResponseError extends ApiError {
  readonly retryable: boolean;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The body had Mosaic's error shape (the request reached a Mosaic handler). */
    readonly mosaicError: boolean,
    readonly method: string,
    readonly url: string,
    /** What a 400 found wrong, each with the path of the bad value (`definition.all[0].trait.op`). */
    readonly issues: readonly ApiIssue[] = [],
  ) {
    super(message);
    this.retryable = status >= 500 || status === 429;
  }
}

/** Nothing answered at the URL: connection refused, unknown host, connection reset, TLS failure. */
export class ApiUnreachableError extends ApiError {
  readonly retryable = true;
  constructor(
    readonly url: string,
    /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, ...). */
    readonly reason: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Cannot reach ${url}${reason === undefined ? '' : ` (${reason})`}`, options);
  }
}

/** No complete answer within the timeout. */
export class ApiTimeoutError extends ApiError {
  readonly retryable = true;
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`No answer from ${url} within ${formatSeconds(timeoutMs)}`);
  }
}

/** A success status whose body is not JSON: whatever answered is not a Mosaic API. */
export class ApiProtocolError extends ApiError {
  readonly retryable = false;
  constructor(
    readonly url: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The Profile API path of an identifier and view; type and value are percent-encoded separately. */
export function profilePath(id: ProfileIdentifier, view: 'profile' | 'events' | 'merges'): string {
  const base = `/v1/profiles/${encodeURIComponent(id.type)}:${encodeURIComponent(id.value)}`;
  return view === 'profile' ? base : `${base}/${view}`;
}

/** `/v1/segments/{id}`, the id percent-encoded. */
export function segmentPath(id: string, sub?: 'preview' | 'exports'): string {
  const base = `/v1/segments/${encodeURIComponent(id)}`;
  return sub === undefined ? base : `${base}/${sub}`;
}

/** `/v1/destinations/{name}[/test]`, the name percent-encoded. */
export function destinationPath(name: string, sub?: 'test'): string {
  const base = `/v1/destinations/${encodeURIComponent(name)}`;
  return sub === undefined ? base : `${base}/${sub}`;
}

export const previewPath = (previewId: string): string => `/v1/previews/${encodeURIComponent(previewId)}`;
export const exportPath = (exportId: string): string => `/v1/exports/${encodeURIComponent(exportId)}`;

/** A base URL with its trailing slashes removed; throws a `TypeError` when it is not http(s). */
export function normaliseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`"${text}" is not an http(s) URL`);
  if (url.search !== '' || url.hash !== '')
    throw new TypeError(`"${text}" must not have a query or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function createApiClient(options: ApiClientOptions): MosaicApiClient {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
    const url = `${baseUrl}${path}${queryString(opts.query)}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${options.adminKey}`,
    };
    if (options.userAgent !== undefined) headers['user-agent'] = options.userAgent;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? options.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    let location: string | undefined;
    try {
      const response = await doFetch(url, {
        method,
        headers,
        signal,
        // A redirect would be followed without the Authorization header (another origin) or to a
        // place nobody asked for: reported instead, with where it points.
        redirect: 'manual',
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
      status = response.status;
      text = await response.text();
      location = response.headers.get('location') ?? undefined;
      if (status >= 300 && status <= 399) {
        const location = response.headers.get('location') ?? 'another URL';
        throw new ApiResponseError(
          status,
          'redirect',
          `The API redirects to ${location.slice(0, 200)}; pass the URL it names with --api`,
          false,
          method,
          url,
        );
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (signal.aborted) throw new ApiTimeoutError(url, timeoutMs);
      throw new ApiUnreachableError(url, systemErrorCode(error), { cause: error });
    }
    if (status < 200 || status > 299) throw responseError(status, text, method, url);
    const extra = location === undefined ? {} : { location };
    if (status === 204) return { status, data: undefined as T, raw: '', ...extra };
    let data: T;
    try {
      data = JSON.parse(text) as T;
    } catch {
      throw new ApiProtocolError(
        url,
        status,
        `The answer from ${url} is not JSON (HTTP ${status}): is this the URL of a Mosaic API?`,
      );
    }
    if (opts.expect !== undefined && !opts.expect(data))
      throw new ApiProtocolError(
        url,
        status,
        `The answer from ${url} does not have the expected fields: is this the URL of a Mosaic API of this version?`,
      );
    return { status, data, raw: text, ...extra };
  }

  const call = (timeout: CallOptions | undefined) =>
    timeout?.timeoutMs === undefined ? {} : { timeoutMs: timeout.timeoutMs };

  return {
    baseUrl,
    request,
    profile: (id) =>
      request<ProfileView>('GET', profilePath(id, 'profile'), {
        expect: (data) => hasProfileId(data) && Array.isArray(data.identities) && isRecord(data.traits),
      }),
    profileEvents: (id, limit) =>
      request<EventsView>('GET', profilePath(id, 'events'), {
        query: { limit },
        expect: (data) => hasProfileId(data) && Array.isArray(data.events),
      }),
    profileMerges: (id) =>
      request<MergesView>('GET', profilePath(id, 'merges'), {
        expect: (data) => hasProfileId(data) && Array.isArray(data.merges),
      }),
    createSegment: (body) => request<SegmentView>('POST', '/v1/segments', { body, expect: isSegmentView }),
    listSegments: (page = {}) =>
      request<SegmentListView>('GET', '/v1/segments', {
        query: { limit: page.limit, next: page.next },
        expect: (data) =>
          isRecord(data) &&
          Array.isArray(data.segments) &&
          data.segments.every(isSegmentView) &&
          (data.next === undefined || typeof data.next === 'string'),
      }),
    segment: (id) => request<SegmentView>('GET', segmentPath(id), { expect: isSegmentView }),
    updateSegment: (id, body) =>
      request<SegmentView>('PUT', segmentPath(id), { body, expect: isSegmentView }),
    deleteSegment: (id) => request<undefined>('DELETE', segmentPath(id)),
    previewSegment: (id, timeout) =>
      request<PreviewView>('POST', segmentPath(id, 'preview'), { expect: isPreviewView, ...call(timeout) }),
    previewAt: (path, timeout) =>
      request<PreviewView>('GET', path, { expect: isPreviewView, ...call(timeout) }),
    exportSegment: (id, body, timeout) =>
      request<ExportView>('POST', segmentPath(id, 'exports'), {
        body,
        expect: isExportView,
        ...call(timeout),
      }),
    exportAt: (path, timeout) => request<ExportView>('GET', path, { expect: isExportView, ...call(timeout) }),
    listDestinations: () =>
      request<DestinationListView>('GET', '/v1/destinations', {
        expect: (data) =>
          isRecord(data) && Array.isArray(data.destinations) && data.destinations.every(isDestinationView),
      }),
    destination: (name) =>
      request<DestinationView>('GET', destinationPath(name), { expect: isDestinationView }),
    testDestination: (name, timeout) =>
      request<DestinationTestView>('POST', destinationPath(name, 'test'), {
        expect: isDestinationTestView,
        ...call(timeout),
      }),
    followPath: (location) => followPath(baseUrl, location),
  };
}

/** See {@link MosaicApiClient.followPath}. */
export function followPath(baseUrl: string, location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  let path: string;
  if (location.startsWith('/') && !location.startsWith('//')) path = location;
  else if (location.startsWith(`${baseUrl}/`)) path = location.slice(baseUrl.length);
  else return undefined;
  // Under the API's stage (`/prod/v1/...`) the handler may name the path with or without it.
  const stage = new URL(baseUrl).pathname.replace(/\/+$/, '');
  if (stage !== '' && path.startsWith(`${stage}/v1/`)) path = path.slice(stage.length);
  if (!path.startsWith('/v1/') || path.includes('#')) return undefined;
  // Where fetch would really go (`..` and `%2e%2e` resolved): still under the base URL's `/v1/`.
  const resolved = new URL(`${baseUrl}${path}`);
  return resolved.origin === new URL(baseUrl).origin && resolved.pathname.startsWith(`${stage}/v1/`)
    ? `${resolved.pathname.slice(stage.length)}${resolved.search}`
    : undefined;
}

function queryString(query: RequestOptions['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Names API Gateway (and the local runtime) answer with in `{"message": ...}`. */
const STATUS_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  429: 'too_many_requests',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/** The error answer, read as Mosaic's `{error:{code,message}}`, API Gateway's `{message}` or neither. */
export function responseError(status: number, text: string, method: string, url: string): ApiResponseError {
  const fallbackCode = STATUS_CODES[status] ?? `http_${status}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // `{"error":{"code","message","issues"?}}` (the Profile API's edge) or, flat,
  // `{"error":"code","message","issues"?}` (the Segments API's contract, core/segments/views.ts).
  if (isRecord(body) && isRecord(body.error) && typeof body.error.code === 'string') {
    const message = typeof body.error.message === 'string' ? body.error.message : fallbackCode;
    const issues = readIssues(body.error.issues ?? body.issues);
    return new ApiResponseError(status, body.error.code, message, true, method, url, issues);
  }
  if (isRecord(body) && typeof body.error === 'string' && /^[a-z][a-z0-9_]*$/.test(body.error)) {
    const message = typeof body.message === 'string' ? body.message : fallbackCode;
    return new ApiResponseError(status, body.error, message, true, method, url, readIssues(body.issues));
  }
  const message = isRecord(body) && typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  return new ApiResponseError(status, fallbackCode, message, false, method, url);
}

/** The well-formed `{path, message}` entries of an error's `issues`. */
function readIssues(value: unknown): ApiIssue[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (issue): issue is ApiIssue =>
        isRecord(issue) && typeof issue.path === 'string' && typeof issue.message === 'string',
    )
    .map((issue) => ({ path: issue.path, message: issue.message }));
}

function isSegmentView(data: unknown): data is SegmentView {
  return (
    isRecord(data) &&
    typeof data.id === 'string' &&
    typeof data.name === 'string' &&
    typeof data.version === 'number' &&
    'definition' in data
  );
}

const JOB_STATUSES: readonly unknown[] = ['RUNNING', 'SUCCEEDED', 'FAILED'];

function isPreviewView(data: unknown): data is PreviewView {
  return isRecord(data) && typeof data.previewId === 'string' && JOB_STATUSES.includes(data.status);
}

function isExportView(data: unknown): data is ExportView {
  return isRecord(data) && typeof data.exportId === 'string' && JOB_STATUSES.includes(data.status);
}

function isDestinationView(data: unknown): data is DestinationView {
  return (
    isRecord(data) &&
    typeof data.name === 'string' &&
    typeof data.kind === 'string' &&
    typeof data.enabled === 'boolean' &&
    Array.isArray(data.segments)
  );
}

function isDestinationTestView(data: unknown): data is DestinationTestView {
  return (
    isRecord(data) &&
    typeof data.destination === 'string' &&
    typeof data.ok === 'boolean' &&
    typeof data.attempts === 'number'
  );
}

function hasProfileId(data: unknown): data is Record<string, unknown> {
  return isRecord(data) && typeof data.profileId === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET`, ... from undici's `fetch failed` (its cause, or one of an AggregateError's). */
function systemErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const next = queue.shift();
    if (!isRecord(next) && !(next instanceof Error)) continue;
    if (seen.has(next)) continue;
    seen.add(next);
    const record = next as unknown as Record<string, unknown>;
    if (typeof record.code === 'string' && /^[A-Z][A-Z0-9_]{2,}$/.test(record.code)) return record.code;
    if (record.cause !== undefined) queue.push(record.cause);
    if (Array.isArray(record.errors)) queue.push(...record.errors);
  }
  return undefined;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
