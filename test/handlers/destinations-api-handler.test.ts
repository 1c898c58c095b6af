import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDestinationsApiHandler } from '../../functions/destinations-api/handler';
import { type Destination, parseDestinationsConfig } from '../../src/core/activation/destination-config';
import type { HttpOutcome } from '../../src/core/activation/http-retry';
import { ManualClock } from '../../src/ports/clock';
import type { OutboundBatch } from '../../src/ports/destination-sender';
import { createDestinations } from '../../src/use-cases/destinations';
import { adminApiEvent, readAnswer } from '../support/admin-api-events';
import { RecordingLogger } from '../support/recording-logger';

const LIST = parseDestinationsConfig({
  destinations: [
    {
      kind: 'webhook',
      name: 'esp',
      url: 'https://hooks.esp.example.com/v2/audiences?token=tok_in_query',
      segments: ['vip'],
      auth: { type: 'basic', username: 'mosaic', secretRef: 'esp-password' },
      signingSecretRef: 'esp-signing',
      consent: { category: 'email_marketing' },
      fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
    },
    {
      kind: 'lambda',
      name: 'personalise',
      segments: ['vip'],
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:personalise',
      consent: { category: null },
    },
  ],
}).destinations;

let logger: RecordingLogger;
let sent: OutboundBatch[];
let answer: HttpOutcome;
let handler: ReturnType<typeof createDestinationsApiHandler>;

beforeEach(() => {
  logger = new RecordingLogger();
  sent = [];
  answer = { kind: 'response', status: 202 };
  const clock = new ManualClock(Date.parse('2026-11-22T22:00:00Z'));
  handler = createDestinationsApiHandler({
    destinations: createDestinations({
      destinations: LIST,
      senderOf: (destination: Destination) =>
        destination.kind === 'webhook'
          ? {
              async send(batch) {
                sent.push(batch);
                clock.advance(40);
                return answer;
              },
            }
          : undefined,
      clock,
      random: () => '0123456789abcdef',
      logger,
    }),
    logger,
  });
});

async function call(
  method: string,
  path: string,
  authorizer: Record<string, unknown> | null = { adminKey: 'ops' },
) {
  const event = adminApiEvent(path, { method, authorizer });
  return readAnswer((await handler(event)) as APIGatewayProxyStructuredResultV2);
}

describe('Destinations API handler', () => {
  it('lists the destinations without secrets or the URL’s path and query', async () => {
    const listed = await call('GET', '/v1/destinations');
    expect(listed.status).toBe(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    expect(listed.json.destinations.map((d: { name: string }) => d.name)).toEqual(['esp', 'personalise']);
    expect(listed.json.destinations[0].webhook).toMatchObject({
      host: 'hooks.esp.example.com',
      auth: 'basic',
      signed: true,
    });
    const text = JSON.stringify(listed.json);
    for (const hidden of ['tok_in_query', '/v2/audiences', 'esp-password', 'esp-signing', 'mosaic"'])
      expect(text).not.toContain(hidden);
  });

  it('shows one destination, and 404s an unknown or malformed name in the house error shape', async () => {
    expect(await call('GET', '/v1/destinations/personalise')).toMatchObject({
      status: 200,
      json: { name: 'personalise', kind: 'lambda', lambda: { template: false } },
    });
    expect(await call('GET', '/v1/destinations/nope')).toMatchObject({
      status: 404,
      json: { success: false, error: { code: 'not_found' } },
    });
    expect((await call('GET', '/v1/destinations/..%2f')).status).toBe(404);
    expect((await call('GET', '/v1/destinations/esp/other')).status).toBe(404);
  });

  it('tests a destination: 200 with the result, whether the delivery worked or not', async () => {
    const passed = await call('POST', '/v1/destinations/esp/test');
    expect(passed).toMatchObject({
      status: 200,
      json: {
        destination: 'esp',
        ok: true,
        status: 202,
        attempts: 1,
        elapsedMs: 40,
        idempotencyKey: 'test-0123456789abcdef',
        testedAt: '2026-11-22T22:00:00.000Z',
      },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.payload).toMatchObject({ test: true, members: [] });
    answer = { kind: 'response', status: 503 };
    expect(await call('POST', '/v1/destinations/esp/test')).toMatchObject({
      status: 200,
      json: { ok: false, status: 503, error: 'HTTP 503', retryable: true },
    });
    answer = { kind: 'network_error', code: 'TimeoutError' };
    expect(await call('POST', '/v1/destinations/esp/test')).toMatchObject({
      status: 200,
      json: { ok: false, error: 'TimeoutError' },
    });
  });

  it('409s a test of a kind this deployment cannot send to; 404s a test of an unknown one', async () => {
    expect(await call('POST', '/v1/destinations/personalise/test')).toMatchObject({
      status: 409,
      json: { error: { code: 'not_testable_here' } },
    });
    expect((await call('POST', '/v1/destinations/nope/test')).status).toBe(404);
  });

  it('401s without an admin key, before anything else', async () => {
    const refused = await call('GET', '/v1/destinations', null);
    expect(refused).toMatchObject({ status: 401, json: { success: false, error: { code: 'unauthorized' } } });
    expect((await call('POST', '/v1/destinations/esp/test', null)).status).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it('405s another method with Allow', async () => {
    const list = await call('POST', '/v1/destinations');
    expect(list.status).toBe(405);
    expect(list.headers.allow).toBe('GET');
    const test = await call('GET', '/v1/destinations/esp/test');
    expect(test.status).toBe(405);
    expect(test.headers.allow).toBe('POST');
    expect((await call('DELETE', '/v1/destinations/esp')).headers.allow).toBe('GET');
  });

  it('logs each request by route, name and status, never a URL or secret', async () => {
    await call('POST', '/v1/destinations/esp/test');
    await call('GET', '/v1/destinations');
    const access = logger.lines.filter((l) => l.message === 'destinations request');
    expect(access.map((l) => l.attributes)).toEqual([
      expect.objectContaining({
        adminKey: 'ops',
        method: 'POST',
        route: 'test',
        destination: 'esp',
        ok: true,
        statusCode: 200,
      }),
      expect.objectContaining({ method: 'GET', route: 'destinations', statusCode: 200 }),
    ]);
    expect(logger.text()).not.toContain('hooks.esp.example.com');
    expect(logger.text()).not.toContain('tok_in_query');
  });
});
