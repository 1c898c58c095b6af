import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiProtocolError,
  ApiResponseError,
  ApiTimeoutError,
  ApiUnreachableError,
  createApiClient,
  normaliseBaseUrl,
  profilePath,
} from '../../src/cli/api-client';
import { describeFailure, EXIT } from '../../src/cli/failures';
import { resolveSettings } from '../../src/cli/settings';

/** The error a promise rejects with (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const answering = (response: () => Response) =>
  createApiClient({
    baseUrl: 'http://api.test',
    adminKey: 'k',
    timeoutMs: 1000,
    fetch: async () => response(),
  });

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const localSettings = resolveSettings({}, {});
const remoteSettings = resolveSettings({ api: 'https://api.example.com', key: 'k' }, {});

describe('paths and base URLs', () => {
  it('encodes type and value separately and appends the view', () => {
    expect(profilePath({ type: 'email', value: 'a+b@c.d' }, 'profile')).toBe(
      '/v1/profiles/email:a%2Bb%40c.d',
    );
    expect(profilePath({ type: 'phone', value: '+33 6' }, 'events')).toBe(
      '/v1/profiles/phone:%2B33%206/events',
    );
    expect(profilePath({ type: 'custom', value: '100%' }, 'merges')).toBe(
      '/v1/profiles/custom:100%25/merges',
    );
  });

  it('keeps a stage path and drops trailing slashes', () => {
    expect(normaliseBaseUrl('https://x.execute-api.eu-west-1.amazonaws.com/prod/')).toBe(
      'https://x.execute-api.eu-west-1.amazonaws.com/prod',
    );
    expect(normaliseBaseUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(() => normaliseBaseUrl('file:///etc/passwd')).toThrow(TypeError);
  });
});

describe('error answers → typed errors → exit codes', () => {
  it('a Mosaic 404 is "not found" (exit 2) with the API code and message', async () => {
    const error = await rejectionOf(
      answering(() =>
        json(404, {
          success: false,
          error: { code: 'profile_not_found', message: 'No profile has this identifier' },
        }),
      ).profile({ type: 'user_id', value: 'x' }),
    );
    expect(error).toBeInstanceOf(ApiResponseError);
    expect(error).toMatchObject({
      status: 404,
      code: 'profile_not_found',
      mosaicError: true,
      retryable: false,
    });
    const failure = describeFailure(error, localSettings);
    expect(failure.exitCode).toBe(EXIT.notFound);
    expect(failure.lines).toEqual(['mosaic: profile_not_found: No profile has this identifier']);
  });

  it("API Gateway's own 404 (no such route) is not a missing profile: exit 4, pointing at --api", async () => {
    const error = await rejectionOf(
      answering(() => json(404, { message: 'Not Found' })).profile({ type: 'user_id', value: 'x' }),
    );
    expect(error).toMatchObject({ code: 'not_found', mosaicError: false });
    const failure = describeFailure(error, remoteSettings);
    expect(failure.exitCode).toBe(EXIT.unavailable);
    expect(failure.lines[0]).toMatch(
      /^mosaic: no_such_endpoint: GET \/v1\/profiles\/user_id:x is not served/,
    );
    expect(failure.lines[1]).toContain('--api');
  });

  it.each([
    [401, 'Unauthorized', 'unauthorized'],
    [403, 'Forbidden', 'forbidden'],
  ])('%i is an auth failure (exit 3) with a hint about the key', async (status, message, code) => {
    const error = await rejectionOf(
      answering(() => json(status, { message })).profile({ type: 'user_id', value: 'x' }),
    );
    const withDefault = describeFailure(error, localSettings);
    expect(withDefault.exitCode).toBe(EXIT.auth);
    expect(withDefault.lines[0]).toBe(`mosaic: ${code}: ${message}`);
    expect(withDefault.lines[1]).toContain('local development admin key was sent');
    expect(describeFailure(error, remoteSettings).lines[1]).toContain('from --key');
  });

  it.each([
    [400, 'invalid_identifier', EXIT.usage],
    [405, 'method_not_allowed', EXIT.usage],
    [429, 'too_many_requests', EXIT.unavailable],
    [500, 'internal_error', EXIT.unavailable],
    [503, 'service_unavailable', EXIT.unavailable],
  ])('%i %s → exit %i', async (status, code, exitCode) => {
    const error = await rejectionOf(
      answering(() => json(status, { success: false, error: { code, message: 'text' } })).profile({
        type: 'user_id',
        value: 'x',
      }),
    );
    const failure = describeFailure(error, remoteSettings);
    expect(failure.exitCode).toBe(exitCode);
    expect(failure.lines[0]).toBe(`mosaic: ${code}: text`);
  });

  it('an error page that is not JSON keeps the status as its code', async () => {
    const error = await rejectionOf(
      answering(() => new Response('<html>Bad Gateway</html>', { status: 502 })).profile({
        type: 'a',
        value: 'b',
      }),
    );
    expect(error).toMatchObject({ status: 502, code: 'bad_gateway', message: 'HTTP 502', retryable: true });
    expect(describeFailure(error, remoteSettings).exitCode).toBe(EXIT.unavailable);
  });

  it('a success that is not JSON, or lacks the fields, is "not a Mosaic API" (exit 4)', async () => {
    const html = await rejectionOf(
      answering(() => new Response('<html>hello</html>')).profile({ type: 'a', value: 'b' }),
    );
    expect(html).toBeInstanceOf(ApiProtocolError);
    expect(describeFailure(html, remoteSettings).exitCode).toBe(EXIT.unavailable);
    const other = await rejectionOf(
      answering(() => json(200, { hello: 'world' })).profile({ type: 'a', value: 'b' }),
    );
    expect(other).toBeInstanceOf(ApiProtocolError);
    const events = await rejectionOf(
      answering(() => json(200, { profileId: 'p', events: 'no' })).profileEvents({ type: 'a', value: 'b' }),
    );
    expect(events).toBeInstanceOf(ApiProtocolError);
  });

  it('a redirect is reported with where it points, not followed with the key', async () => {
    const error = await rejectionOf(
      answering(
        () => new Response(null, { status: 301, headers: { location: 'https://elsewhere.example/' } }),
      ).profile({
        type: 'a',
        value: 'b',
      }),
    );
    expect(error).toMatchObject({ code: 'redirect' });
    expect((error as Error).message).toContain('https://elsewhere.example/');
    expect(describeFailure(error, remoteSettings).exitCode).toBe(EXIT.usage);
  });

  it('anything else is a bug in the CLI: exit 5, with its stack', () => {
    const failure = describeFailure(new TypeError('x is undefined'), localSettings);
    expect(failure.exitCode).toBe(EXIT.internal);
    expect(failure.lines[0]).toContain('TypeError: x is undefined');
    expect(failure.lines[0]).toContain('\n    at ');
  });
});

describe('network failures (real sockets)', () => {
  let silent: Server;
  let silentUrl: string;
  let closedUrl: string;

  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('nothing listening: unreachable (ECONNREFUSED), exit 4, asking whether `npm start` runs', async () => {
    const client = createApiClient({ baseUrl: closedUrl, adminKey: 'k', timeoutMs: 5000 });
    const error = await rejectionOf(client.profile({ type: 'user_id', value: 'u' }));
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect(error).toMatchObject({ reason: 'ECONNREFUSED', retryable: true });
    const failure = describeFailure(error, resolveSettings({ api: closedUrl }, {}));
    expect(failure.exitCode).toBe(EXIT.unavailable);
    expect(failure.lines).toEqual([
      `mosaic: unreachable: nothing is listening at ${closedUrl} (connection refused)`,
      'hint: is `npm start` running? Or pass --api URL (or set MOSAIC_API_URL) for a deployed API.',
    ]);
  });

  it('no answer in time: a timeout, exit 4, suggesting --timeout', async () => {
    const client = createApiClient({ baseUrl: silentUrl, adminKey: 'k', timeoutMs: 200 });
    const started = Date.now();
    const error = await rejectionOf(client.profile({ type: 'user_id', value: 'u' }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ApiTimeoutError);
    const failure = describeFailure(error, localSettings);
    expect(failure.exitCode).toBe(EXIT.unavailable);
    expect(failure.lines[0]).toMatch(/^mosaic: timeout: No answer from .* within 0\.2 s$/);
    expect(failure.lines[1]).toContain('--timeout');
  });
});
