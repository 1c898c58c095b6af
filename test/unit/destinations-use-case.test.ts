import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSender } from '../../src/adapters/http/webhook-sender';
import { MapSecretResolver } from '../../src/adapters/local/destination-secrets';
import { FileDropSender } from '../../src/adapters/local/file-drop-sender';
import {
  type Destination,
  type DestinationsConfigInput,
  parseDestinationsConfig,
} from '../../src/core/activation/destination-config';
import { ConflictError, NotFoundError } from '../../src/core/errors';
import { systemClock } from '../../src/ports/clock';
import type { DestinationSender } from '../../src/ports/destination-sender';
import { createDestinations, type Destinations } from '../../src/use-cases/destinations';
import { RecordingLogger } from '../support/recording-logger';
import { WebhookReceiver } from '../support/webhook-receiver';

const SIGNING_SECRET = 'whsec_test_signing_0123456789';
const API_KEY = 'ak_live_super_secret_value';
const SECRETS = { 'esp-signing': SIGNING_SECRET, 'esp-key': API_KEY };

let dataDir: string;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mosaic-destinations-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(status = 200): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(() => ({ status }), SIGNING_SECRET);
  receivers.push(started);
  return started;
}

function config(url: string): DestinationsConfigInput {
  return {
    destinations: [
      {
        kind: 'webhook',
        name: 'esp',
        description: 'The email service',
        // A token in the query and a path: neither may show.
        url: `${url}/secret-path?token=tok_query_secret`,
        segments: ['vip'],
        auth: { type: 'none' },
        signingSecretRef: 'esp-signing',
        consent: { category: 'email_marketing' },
        batchSize: 500,
        rateLimitPerSecond: 5,
        timeoutMs: 2_000,
        fields: {
          identifiers: [{ type: 'email', pii: 'sha256' }],
          traits: [
            { name: 'plan', pii: 'raw' },
            { name: 'phone', pii: 'omit' },
          ],
        },
      },
      {
        kind: 's3',
        name: 'print',
        segments: ['vip'],
        bucket: 'mail-drops',
        prefix: 'direct-mail/',
        consent: { category: null },
        fields: { traits: [{ name: 'name', pii: 'raw' }] },
        csv: { columns: [{ header: 'Name', value: 'traits.name' }] },
      },
      {
        kind: 'sqs',
        name: 'queue',
        enabled: false,
        segments: ['vip'],
        queue: 'arn:aws:sqs:eu-west-1:123456789012:audiences',
        consent: { category: null },
      },
    ],
  };
}

/**
 * The parsed destinations, the webhook with an API key: configuration refuses credentials over http,
 * and the test receiver is plain http on 127.0.0.1 (as the webhook sender's own tests do).
 */
function parsed(url: string): Destination[] {
  return parseDestinationsConfig(config(url)).destinations.map((d) =>
    d.kind === 'webhook'
      ? { ...d, auth: { type: 'api_key', header: 'X-Api-Key', secretRef: 'esp-key' } as const }
      : d,
  );
}

function destinations(
  url: string,
  logger = new RecordingLogger(),
): { use: Destinations; list: Destination[] } {
  const list = parsed(url);
  const secrets = new MapSecretResolver(SECRETS);
  const senderOf = (destination: Destination): DestinationSender | undefined => {
    if (destination.kind === 'webhook') return new WebhookSender({ destination, secrets });
    if (destination.kind === 's3') return new FileDropSender({ destination, dataDir });
    return undefined;
  };
  let n = 0;
  return {
    list,
    use: createDestinations({
      destinations: list,
      senderOf,
      localWorkers: ['esp', 'print'],
      clock: systemClock,
      random: () => `abcdef${(n++).toString().padStart(10, '0')}`,
      logger,
    }),
  };
}

describe('destinations: list and show', () => {
  it('shows each destination’s settings without secrets, secret names or the URL’s path and query', async () => {
    const hook = await receiver();
    const { use } = destinations(hook.url);
    const { destinations: views } = use.list();
    expect(views.map((v) => v.name)).toEqual(['esp', 'print', 'queue']);
    const esp = views[0];
    expect(esp).toMatchObject({
      kind: 'webhook',
      description: 'The email service',
      enabled: true,
      segments: ['vip'],
      consent: { category: 'email_marketing', required: true, adType: false },
      batchSize: 500,
      reservedConcurrency: 2,
      localWorker: true,
      webhook: {
        host: new URL(hook.url).host,
        method: 'POST',
        auth: 'api_key',
        signed: true,
        rateLimitPerSecond: 5,
        timeoutMs: 2_000,
        template: false,
      },
      fields: {
        identifiers: [{ name: 'email', pii: 'sha256' }],
        traits: [
          { name: 'plan', pii: 'raw' },
          { name: 'phone', pii: 'omit' },
        ],
      },
    });
    expect(esp?.retry.maxAttempts).toBe(8);
    expect(views[1]).toMatchObject({
      kind: 's3',
      localWorker: true,
      fileDrop: { bucket: 'mail-drops', prefix: 'direct-mail/', columns: ['Name'] },
    });
    expect(views[2]).toMatchObject({ kind: 'sqs', enabled: false, localWorker: false });
    const text = JSON.stringify(views);
    for (const hidden of [
      SIGNING_SECRET,
      API_KEY,
      'esp-key',
      'esp-signing',
      'secret-path',
      'tok_query_secret',
      'X-Api-Key',
    ]) {
      expect(text).not.toContain(hidden);
    }
  });

  it('shows one destination by name; an unknown name is NotFoundError', async () => {
    const { use } = destinations('http://127.0.0.1:9');
    expect(use.get('print').kind).toBe('s3');
    expect(() => use.get('nope')).toThrow(NotFoundError);
    expect(() => use.get('ESP')).toThrow(NotFoundError);
  });

  it('leaves localWorker out when no local workers are named (AWS)', () => {
    const list = parsed('http://127.0.0.1:9');
    const use = createDestinations({
      destinations: list,
      senderOf: () => undefined,
      clock: systemClock,
      random: () => 'r',
      logger: new RecordingLogger(),
    });
    expect(use.get('esp')).not.toHaveProperty('localWorker');
  });
});

describe('destinations: test', () => {
  it('sends one signed, authenticated test batch with no member that the receiver verifies', async () => {
    const hook = await receiver(200);
    const logger = new RecordingLogger();
    const { use } = destinations(hook.url, logger);
    const result = await use.test('esp');
    expect(result).toMatchObject({ destination: 'esp', kind: 'webhook', ok: true, status: 200, attempts: 1 });
    expect(result.idempotencyKey).toMatch(/^test-[0-9a-z]{8,16}$/);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(result.error).toBeUndefined();
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request?.verified).toBe(true);
    expect(request?.idempotencyKey).toBe(result.idempotencyKey);
    expect(request?.headers['x-api-key']).toBe(API_KEY);
    const body = JSON.parse(request?.body ?? '{}');
    expect(body).toMatchObject({ test: true, destination: 'esp', segmentId: 'vip', members: [] });
    expect(body.exportId).toMatch(/^xtest/);
    // Nothing secret in the logs either.
    expect(logger.text()).not.toContain(API_KEY);
    expect(logger.text()).not.toContain(SIGNING_SECRET);
    expect(logger.text()).not.toContain('tok_query_secret');
  });

  it('reports a 500 (once, not retried) instead of throwing', async () => {
    const hook = await receiver(500);
    const { use } = destinations(hook.url);
    const result = await use.test('esp');
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 1, error: 'HTTP 500', retryable: true });
    expect(hook.requests).toHaveLength(1);
  });

  it('reports a 401 as not retryable', async () => {
    const hook = await receiver(401);
    const { use } = destinations(hook.url);
    expect(await use.test('esp')).toMatchObject({ ok: false, status: 401, retryable: false });
  });

  it('reports nothing listening as a network error', async () => {
    const hook = await receiver();
    const url = hook.url;
    await hook.close();
    receivers.length = 0;
    const { use } = destinations(url);
    const result = await use.test('esp');
    expect(result).toMatchObject({ ok: false, attempts: 1, error: 'ECONNREFUSED', retryable: true });
    expect(result.status).toBeUndefined();
  });

  it('reports a missing secret by its name, never sending', async () => {
    const hook = await receiver();
    const list = parsed(hook.url);
    const use = createDestinations({
      destinations: list,
      senderOf: (destination) =>
        destination.kind === 'webhook'
          ? new WebhookSender({ destination, secrets: new MapSecretResolver({}) })
          : undefined,
      clock: systemClock,
      random: () => 'abcdefgh12345678',
      logger: new RecordingLogger(),
    });
    const result = await use.test('esp');
    expect(result).toMatchObject({ ok: false, attempts: 0, retryable: false });
    expect(result.error).toContain('esp-key');
    expect(hook.requests).toHaveLength(0);
  });

  it('writes a file drop’s test file: the header row, no member', async () => {
    const { use } = destinations('http://127.0.0.1:9');
    const result = await use.test('print');
    expect(result).toMatchObject({ destination: 'print', kind: 's3', ok: true, status: 200, attempts: 1 });
    const folder = join(dataDir, 'destinations', 'print');
    const [exportFolder] = (await readdir(folder)).filter((name) => name.startsWith('xtest'));
    expect(exportFolder).toBeDefined();
    const csv = await readFile(join(folder, exportFolder as string, 'batch-0.csv'), 'utf8');
    expect(csv).toBe('Name\r\n');
  });

  it('throws NotFoundError for an unknown name, ConflictError for a kind it cannot send', async () => {
    const { use } = destinations('http://127.0.0.1:9');
    await expect(use.test('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(use.test('queue')).rejects.toBeInstanceOf(ConflictError);
  });

  it('shapes the test batch with the destination’s payload template, still marked test', async () => {
    const hook = await receiver();
    const [esp] = parsed(hook.url);
    const templated = parseDestinationsConfig({
      destinations: [
        {
          kind: 'webhook',
          name: 'templated',
          url: hook.url,
          segments: ['vip'],
          auth: { type: 'none' },
          consent: { category: null },
          payload: {
            body: { list: 'Audience {{segmentId}}', key: '{{idempotencyKey}}', people: '{{members}}' },
          },
        },
      ],
    }).destinations;
    const use = createDestinations({
      destinations: [...templated, esp as Destination],
      senderOf: (destination) =>
        destination.kind === 'webhook'
          ? new WebhookSender({ destination, secrets: new MapSecretResolver(SECRETS) })
          : undefined,
      clock: systemClock,
      random: () => 'feedface00000000',
      logger: new RecordingLogger(),
    });
    expect((await use.test('templated')).ok).toBe(true);
    expect(JSON.parse(hook.requests[0]?.body ?? '{}')).toEqual({
      test: true,
      list: 'Audience vip',
      key: 'test-feedface00000000',
      people: [],
    });
  });

  it('uses a fresh idempotency key each time', async () => {
    const hook = await receiver();
    const { use } = destinations(hook.url);
    const first = await use.test('esp');
    const second = await use.test('esp');
    expect(first.idempotencyKey).not.toBe(second.idempotencyKey);
    expect(hook.requests).toHaveLength(2);
  });
});
