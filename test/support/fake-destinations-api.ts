import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationTestView, DestinationView } from '../../src/core/activation/views';

/**
 * A fake Destinations API (core/activation/views.ts) on a real socket, for the `mosaic destinations`
 * tests. Answers are JSON indented by one space, so a CLI that re-serialised them would be caught.
 *
 * Tests: `esp` succeeds; `broken` answers `ok: false` with a 500; `down` `ok: false` with a network
 * error; `queue` is a kind the deployment cannot send to (409); any other name is 404.
 */

export const ADMIN_KEY = 'destinations-test-admin-key';

export interface FakeDestinationsApi {
  readonly url: string;
  readonly requests: { readonly method: string; readonly path: string }[];
  /** The last answer's body, exactly as sent. */
  lastBody(): string;
  close(): Promise<void>;
}

const RETRY = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 300_000, maxRetryAfterMs: 900_000 };

export function destinationView(name: string, overrides: Partial<DestinationView> = {}): DestinationView {
  return {
    name,
    kind: 'webhook',
    enabled: true,
    segments: ['vip'],
    fields: {
      identifiers: [{ name: 'email', pii: 'sha256' }],
      traits: [{ name: 'plan', pii: 'raw' }],
    },
    consent: { category: 'email_marketing', required: true, adType: false },
    batchSize: 1000,
    reservedConcurrency: 2,
    retry: RETRY,
    webhook: {
      host: `${name}.example.com`,
      method: 'POST',
      auth: 'api_key',
      signed: true,
      rateLimitPerSecond: 10,
      timeoutMs: 10_000,
      template: false,
    },
    localWorker: true,
    ...overrides,
  };
}

export const DESTINATIONS: readonly DestinationView[] = [
  destinationView('esp', { description: 'The email service' }),
  destinationView('broken'),
  destinationView('down'),
  (() => {
    const { webhook: _w, ...rest } = destinationView('print', {
      kind: 's3',
      consent: { category: null, required: true, adType: false },
      fields: { identifiers: [], traits: [{ name: 'name', pii: 'raw' }] },
      fileDrop: { bucket: 'mail-drops', prefix: 'direct-mail/', columns: ['Name'] },
    });
    return rest;
  })(),
  (() => {
    const { webhook: _w, ...rest } = destinationView('queue', {
      kind: 'sqs',
      enabled: false,
      sqs: { queue: 'arn:aws:sqs:eu-west-1:123456789012:audiences', template: false },
      localWorker: false,
    });
    return rest;
  })(),
];

function testResult(name: string): DestinationTestView {
  const base = {
    destination: name,
    kind: 'webhook' as const,
    attempts: 1,
    elapsedMs: 42,
    idempotencyKey: 'test-0123456789abcdef',
    testedAt: '2026-11-22T22:00:00.000Z',
  };
  if (name === 'broken') return { ...base, ok: false, status: 500, error: 'HTTP 500', retryable: true };
  if (name === 'down') return { ...base, ok: false, error: 'ECONNREFUSED', retryable: true };
  return { ...base, ok: true, status: 200 };
}

export async function startFakeDestinationsApi(): Promise<FakeDestinationsApi> {
  const requests: { method: string; path: string }[] = [];
  let last = '';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname });
      const send = (status: number, payload: unknown) => {
        last = JSON.stringify(payload, null, 1);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(last);
      };
      const fail = (status: number, code: string, message: string) =>
        send(status, { success: false, error: { code, message } });
      if (req.headers.authorization !== `Bearer ${ADMIN_KEY}`) return fail(403, 'forbidden', 'Forbidden');
      const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
      if (parts[0] !== 'v1' || parts[1] !== 'destinations') return send(404, { message: 'Not Found' });
      if (parts.length === 2 && method === 'GET') return send(200, { destinations: DESTINATIONS });
      const view = DESTINATIONS.find((d) => d.name === parts[2]);
      if (view === undefined) return fail(404, 'not_found', `No destination is named "${parts[2]}"`);
      if (parts.length === 3 && method === 'GET') return send(200, view);
      if (parts.length === 4 && parts[3] === 'test' && method === 'POST') {
        if (view.kind === 'sqs')
          return fail(409, 'not_testable_here', 'sqs destinations are delivered in AWS only');
        return send(200, testResult(view.name));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    lastBody: () => last,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
