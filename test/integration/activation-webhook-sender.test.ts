import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookSender } from '../../src/adapters/http/webhook-sender';
import { MapSecretResolver } from '../../src/adapters/local/destination-secrets';
import { idempotencyKey } from '../../src/core/activation/delivery-plan';
import {
  parseDestinationsConfig,
  type WebhookAuth,
  type WebhookDestination,
} from '../../src/core/activation/destination-config';
import { verifySignature } from '../../src/core/activation/signing';
import { ManualClock } from '../../src/ports/clock';
import type { OutboundBatch } from '../../src/ports/destination-sender';

/**
 * The webhook sender against a real node:http server: what one attempt sends (auth, idempotency key,
 * a signature made at the attempt's time) and what it reports back for `classifyHttpOutcome` (status,
 * `Retry-After`, a network error's code), with the destination's timeout and no redirects followed.
 */
interface Seen {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Handler = (seen: Seen) => {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
};

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: Handler): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const answer = handler(request);
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? '');
      };
      if (answer.delayMs === undefined) reply();
      else setTimeout(reply, answer.delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function destination(url: string, extra: Record<string, unknown> = {}): WebhookDestination {
  const parsed = parseDestinationsConfig({
    destinations: [
      {
        kind: 'webhook',
        name: 'esp',
        segments: ['pro-buyers'],
        url,
        auth: { type: 'none' },
        consent: { category: null },
        ...extra,
      },
    ],
  }).destinations[0];
  if (parsed?.kind !== 'webhook') throw new Error('a webhook');
  return parsed;
}

/** Config refuses credentials over http; the sender itself is tested over loopback http with them. */
const withAuth = (d: WebhookDestination, auth: WebhookAuth): WebhookDestination => ({ ...d, auth });

const KEY = idempotencyKey('x00000000001', 'esp', 0);
const batch: OutboundBatch = {
  context: {
    exportId: 'x00000000001',
    segmentId: 'pro-buyers',
    destination: 'esp',
    idempotencyKey: KEY,
    batch: { index: 0, total: 1, size: 1 },
  },
  members: [{ profileId: 'p-1', identifiers: {}, traits: {} }],
  payload: { members: [{ profileId: 'p-1' }] },
};
const secrets = new MapSecretResolver({ signing: 'whsec_test', api: 'key-123', pw: 'pa ss', oauth: 'cs-1' });
const clock = new ManualClock(Date.parse('2026-11-22T12:00:00.000Z'));

describe('WebhookSender', { timeout: 20_000 }, () => {
  it('sends the payload as JSON with Idempotency-Key and a signature made at the attempt’s time', async () => {
    const { base, seen } = await serve(() => ({ status: 202 }));
    const sender = new WebhookSender({
      destination: destination(`${base}/hook`, { signingSecretRef: 'signing' }),
      secrets,
      clock,
    });
    expect(await sender.send(batch)).toEqual({ kind: 'response', status: 202 });
    clock.advance(90_000);
    await sender.send(batch);
    const [first, second] = seen;
    expect(first?.body).toBe(JSON.stringify(batch.payload));
    expect(first?.headers['idempotency-key']).toBe(KEY);
    expect(first?.headers['content-type']).toBe('application/json');
    const header = (s: Seen | undefined) => String(s?.headers['mosaic-signature']);
    expect(verifySignature(first?.body ?? '', header(first), 'whsec_test', clock.now() - 90_000).ok).toBe(
      true,
    );
    // The retry is signed afresh, under the same key.
    expect(header(second)).not.toBe(header(first));
    expect(second?.headers['idempotency-key']).toBe(KEY);
    expect(verifySignature(second?.body ?? '', header(second), 'whsec_test', clock.now()).ok).toBe(true);
  });

  it('reports the status and Retry-After; redirects are not followed', async () => {
    const answers: ReturnType<Handler>[] = [
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503 },
      { status: 302, headers: { location: '/elsewhere' } },
    ];
    const { base, seen } = await serve(() => answers.shift() ?? { status: 200 });
    const sender = new WebhookSender({ destination: destination(`${base}/hook`), secrets, clock });
    expect(await sender.send(batch)).toEqual({ kind: 'response', status: 429, retryAfter: '7' });
    expect(await sender.send(batch)).toEqual({ kind: 'response', status: 503 });
    expect(await sender.send(batch)).toEqual({ kind: 'response', status: 302 });
    expect(seen.map((s) => s.url)).toEqual(['/hook', '/hook', '/hook']);
  });

  it('a receiver slower than the timeout, or none at all, is a network error with a code', async () => {
    const { base } = await serve(() => ({ status: 200, delayMs: 2_000 }));
    const slow = new WebhookSender({
      destination: destination(`${base}/hook`, { timeoutMs: 100 }),
      secrets,
      clock,
    });
    expect(await slow.send(batch)).toEqual({ kind: 'network_error', code: 'TimeoutError' });
    const closed = await serve(() => ({ status: 200 }));
    const url = `${closed.base}/hook`;
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const refused = new WebhookSender({ destination: destination(url), secrets, clock });
    expect(await refused.send(batch)).toEqual({ kind: 'network_error', code: 'ECONNREFUSED' });
  });

  it('API key and basic auth come from the resolved secrets', async () => {
    const { base, seen } = await serve(() => ({ status: 200 }));
    const d = destination(`${base}/hook`);
    await new WebhookSender({
      destination: withAuth(d, { type: 'api_key', header: 'X-Api-Key', secretRef: 'api' }),
      secrets,
      clock,
    }).send(batch);
    await new WebhookSender({
      destination: withAuth(d, { type: 'basic', username: 'mosaic', secretRef: 'pw' }),
      secrets,
      clock,
    }).send(batch);
    expect(seen[0]?.headers['x-api-key']).toBe('key-123');
    expect(seen[1]?.headers.authorization).toBe(`Basic ${Buffer.from('mosaic:pa ss').toString('base64')}`);
  });

  it('OAuth client credentials: one token request, the token reused until it expires', async () => {
    let tokens = 0;
    const { base, seen } = await serve((s) =>
      s.url === '/token'
        ? {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ access_token: `tok-${++tokens}`, token_type: 'Bearer', expires_in: 3600 }),
          }
        : { status: 200 },
    );
    const sender = new WebhookSender({
      destination: withAuth(destination(`${base}/hook`), {
        type: 'oauth_client_credentials',
        tokenUrl: `${base}/token`,
        clientId: 'client',
        secretRef: 'oauth',
      }),
      secrets,
      clock,
    });
    await sender.send(batch);
    await sender.send(batch);
    clock.advance(3600_000);
    await sender.send(batch);
    expect(seen.map((s) => s.url)).toEqual(['/token', '/hook', '/hook', '/token', '/hook']);
    expect(seen.filter((s) => s.url === '/hook').map((s) => s.headers.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-2',
    ]);
  });

  it('a token endpoint that refuses is reported as its status (a 401 is permanent)', async () => {
    const { base } = await serve(() => ({ status: 401 }));
    const sender = new WebhookSender({
      destination: withAuth(destination(`${base}/hook`), {
        type: 'oauth_client_credentials',
        tokenUrl: `${base}/token`,
        clientId: 'client',
        secretRef: 'oauth',
      }),
      secrets,
      clock,
    });
    expect(await sender.send(batch)).toEqual({ kind: 'response', status: 401 });
  });
});
