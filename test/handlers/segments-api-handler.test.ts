import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSegmentsApiHandler } from '../../functions/segments-api/handler';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { ManualClock } from '../../src/ports/clock';
import { createSegments } from '../../src/use-cases/segments';
import { adminApiEvent, readAnswer } from '../support/admin-api-events';
import { RecordingLogger } from '../support/recording-logger';
import { MemorySegmentStore, RecordingExportRunner, ScriptedAudienceEngine } from '../support/segments-fakes';

const PRO = { trait: { name: 'plan', op: 'eq', value: 'pro' } };

let store: MemorySegmentStore;
let engine: ScriptedAudienceEngine;
let runner: RecordingExportRunner;
let logger: RecordingLogger;
let handler: ReturnType<typeof createSegmentsApiHandler>;

beforeEach(() => {
  let ids = 0;
  store = new MemorySegmentStore();
  engine = new ScriptedAudienceEngine('athena');
  runner = new RecordingExportRunner('athena', 's3://exports-bucket/exports');
  logger = new RecordingLogger();
  handler = createSegmentsApiHandler({
    segments: createSegments({
      store,
      engine,
      runner,
      clock: new ManualClock(Date.parse('2026-11-22T12:00:00Z')),
      random: () => `r${(ids++).toString().padStart(11, '0')}`,
      identity: DEFAULT_IDENTITY_CONFIG,
      previewWaitMs: 20_000,
      logger,
    }),
    logger,
  });
});

interface Call {
  readonly body?: unknown;
  readonly authorizer?: Record<string, unknown> | null;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

async function call(method: string, path: string, options: Call = {}) {
  const query = options.query === undefined ? '' : `?${new URLSearchParams(options.query)}`;
  const event = adminApiEvent(`${path}${query}`, {
    method,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    authorizer: options.authorizer === undefined ? { adminKey: 'ops' } : options.authorizer,
  });
  return readAnswer((await handler(event)) as APIGatewayProxyStructuredResultV2);
}

describe('Segments API handler: routes and answers', () => {
  it('creates (201 + Location), reads, lists, updates and deletes (204)', async () => {
    const created = await call('POST', '/v1/segments', { body: { id: 'pro', name: 'Pro', definition: PRO } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v1/segments/pro');
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.json).toMatchObject({ id: 'pro', version: 1 });
    expect((await call('GET', '/v1/segments/pro')).json).toMatchObject({ id: 'pro', name: 'Pro' });
    expect((await call('GET', '/v1/segments', { query: { limit: '10' } })).json).toMatchObject({
      segments: [{ id: 'pro' }],
    });
    const updated = await call('PUT', '/v1/segments/pro', { body: { name: 'Pro 2', definition: PRO } });
    expect(updated).toMatchObject({ status: 200, json: { version: 2, name: 'Pro 2' } });
    const deleted = await call('DELETE', '/v1/segments/pro');
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeUndefined();
    expect((await call('GET', '/v1/segments/pro')).status).toBe(404);
  });

  it('answers a finished preview 200 and a running one 202 with the URL to poll', async () => {
    await call('POST', '/v1/segments', { body: { id: 'pro', name: 'Pro', definition: PRO } });
    engine.next = () => ({
      status: 'SUCCEEDED',
      previewId: 'q1',
      count: 2,
      sample: ['a', 'b'],
      elapsedMs: 5,
    });
    expect(await call('POST', '/v1/segments/pro/preview')).toMatchObject({
      status: 200,
      json: { status: 'SUCCEEDED', count: 2, sample: ['a', 'b'], segmentId: 'pro' },
    });
    engine.next = () => ({ status: 'RUNNING', previewId: 'q2' });
    const running = await call('POST', '/v1/segments/pro/preview');
    expect(running.status).toBe(202);
    expect(running.headers.location).toBe('/v1/previews/q2');
    expect((await call('GET', '/v1/previews/q2')).status).toBe(202);
    engine.outcomes.set('q2', {
      status: 'FAILED',
      previewId: 'q2',
      error: 'Bytes scanned limit was exceeded',
    });
    expect(await call('GET', '/v1/previews/q2')).toMatchObject({
      status: 200,
      json: { status: 'FAILED', error: 'Bytes scanned limit was exceeded' },
    });
    expect((await call('GET', '/v1/previews/nope')).status).toBe(404);
  });

  it('starts an export (202 + Location), with or without a body, and reports it', async () => {
    await call('POST', '/v1/segments', { body: { id: 'pro', name: 'Pro', definition: PRO } });
    const plain = await call('POST', '/v1/segments/pro/exports');
    expect(plain.status).toBe(202);
    expect(plain.json).toMatchObject({ status: 'RUNNING', format: 'csv', identifiers: [], traits: [] });
    expect(plain.headers.location).toBe(`/v1/exports/${plain.json.exportId}`);
    const shaped = await call('POST', '/v1/segments/pro/exports', {
      body: { format: 'parquet', identifiers: ['email'] },
    });
    expect(shaped.json).toMatchObject({ format: 'parquet', identifiers: ['email'] });
    expect(await call('GET', `/v1/exports/${plain.json.exportId}`)).toMatchObject({
      status: 200,
      json: { exportId: plain.json.exportId, status: 'RUNNING' },
    });
    expect(runner.jobs).toHaveLength(2);
  });

  it('answers errors in the house shape: 400 with issue paths, 404, 405 with Allow, 409, 415', async () => {
    const invalid = await call('POST', '/v1/segments', {
      body: { id: 'x', name: 'X', definition: { trait: { name: 'plan', op: 'eq' } } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({
      success: false,
      error: { code: 'invalid_segment', issues: [{ path: expect.stringMatching(/^definition\.trait/) }] },
    });
    expect((await call('POST', '/v1/segments', { body: '{not json' })).json.error.code).toBe('invalid_json');
    expect(
      (await call('POST', '/v1/segments', { body: 'x', headers: { 'content-type': 'text/csv' } })).status,
    ).toBe(415);
    expect((await call('GET', '/v1/segments/../../etc')).status).toBe(404);
    expect((await call('GET', '/v1/segments/pro/members')).status).toBe(404);
    expect((await call('GET', '/v1/nothing')).status).toBe(404);
    const wrongMethod = await call('PATCH', '/v1/segments/pro');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, PUT, DELETE');
    expect((await call('GET', '/v1/segments/pro/preview')).headers.allow).toBe('POST');
    await call('POST', '/v1/segments', { body: { id: 'pro', name: 'Pro', definition: PRO } });
    expect(
      (await call('POST', '/v1/segments', { body: { id: 'pro', name: 'Pro', definition: PRO } })).status,
    ).toBe(409);
    expect((await call('GET', '/v1/segments', { query: { limit: 'lots' } })).status).toBe(400);
  });

  it('refuses a request without the authorizer’s admin key (401), touching nothing', async () => {
    const refused = await call('POST', '/v1/segments', {
      body: { id: 'pro', name: 'Pro', definition: PRO },
      authorizer: null,
    });
    expect(refused.status).toBe(401);
    expect(store.segments.size).toBe(0);
    expect((await call('GET', '/v1/segments', { authorizer: { other: 'x' } })).status).toBe(401);
  });

  it('logs each request with its route and admin key, never a definition or a profile id', async () => {
    await call('POST', '/v1/segments', {
      body: {
        id: 'pro',
        name: 'Pro',
        definition: { trait: { name: 'email', op: 'eq', value: 'jane@example.com' } },
      },
    });
    engine.next = () => ({
      status: 'SUCCEEDED',
      previewId: 'q1',
      count: 1,
      sample: ['p_jane'],
      elapsedMs: 5,
    });
    await call('POST', '/v1/segments/pro/preview');
    expect(logger.lines.map((line) => line.attributes)).toEqual([
      expect.objectContaining({ adminKey: 'ops', method: 'POST', route: 'segments', statusCode: 201 }),
      expect.objectContaining({
        adminKey: 'ops',
        method: 'POST',
        route: 'preview',
        id: 'pro',
        statusCode: 200,
      }),
    ]);
    expect(logger.text()).not.toContain('jane@example.com');
    expect(logger.text()).not.toContain('p_jane');
  });
});
