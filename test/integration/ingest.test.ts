import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessageCheck } from '../../src/core/collector/message-check';
import { buildMessageSchemas } from '../../src/core/collector/message-schemas';
import type { IngestRoute } from '../../src/core/collector/prepare-ingest';
import { prepareFromText } from '../../src/core/collector/prepare-raw';
import { scanBody } from '../../src/core/collector/scan-body';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import type { LocalRuntime } from '../../src/local/runtime';
import {
  basicAuth,
  eventsGlob,
  OTHER_SOURCE_KEY,
  quarantineGlob,
  queryLake,
  REVOKED_KEY,
  startTestRuntime,
  WRITE_KEY,
} from './local-runtime';

let runtime: LocalRuntime;
let stop: () => Promise<void>;
/** Every message id the collector answered as accepted, by any test in this file. */
const accepted = new Set<string>();

beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
});
afterAll(async () => {
  await stop();
});

const post = (path: string, init: { body: string | Buffer; headers?: Record<string, string> }) =>
  fetch(`${runtime.url}${path}`, { method: 'POST', ...init });

const json = (key: string | undefined, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  ...(key === undefined ? {} : { authorization: basicAuth(key) }),
  ...extra,
});

describe('real SDKs against the local runtime', () => {
  it('lands every call type sent by @segment/analytics-node, exactly once', async () => {
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: runtime.url,
      flushAt: 7,
      flushInterval: 100,
      maxRetries: 0,
    });
    const failures: unknown[] = [];
    const statuses: number[] = [];
    const ids: string[] = [];
    analytics.on('error', (error) => failures.push(error));
    analytics.on('http_response', (response) => statuses.push(response.status));
    analytics.on('http_request', (request) => {
      for (const m of (JSON.parse(request.body) as { batch: Array<{ messageId: string }> }).batch)
        ids.push(m.messageId);
    });
    analytics.track({ userId: 'seg-user', event: 'Order Completed', properties: { total: 42.5 } });
    analytics.identify({ userId: 'seg-user', traits: { email: 'jane@example.com', plan: 'pro' } });
    analytics.page({
      anonymousId: 'seg-anon',
      category: 'Docs',
      name: 'Pricing',
      properties: { path: '/pricing' },
    });
    analytics.screen({ userId: 'seg-user', category: 'Onboarding', name: 'Home' });
    analytics.group({ userId: 'seg-user', groupId: 'acme', traits: { seats: 10 } });
    analytics.alias({ userId: 'seg-user', previousId: 'seg-anon' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(failures).toEqual([]);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(ids).toHaveLength(6);
    for (const id of ids) accepted.add(id);

    await runtime.flush();
    const rows = await queryLake(
      `SELECT message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id, source,
              json_extract_string(properties, '$.total') AS total, json_extract_string(traits, '$.plan') AS plan,
              json_extract_string(context, '$.library.name') AS library, received_at IS NOT NULL AS stamped
         FROM read_parquet('${eventsGlob(runtime)}', hive_partitioning = true)
        WHERE message_id IN (${ids.map((id) => `'${id}'`).join(',')}) ORDER BY message_id`,
    );
    expect(rows).toHaveLength(6);
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    expect(byId.get(ids[0])).toMatchObject({
      type: 'track',
      event: 'Order Completed',
      user_id: 'seg-user',
      total: '42.5',
      source: 'website',
    });
    expect(byId.get(ids[1])).toMatchObject({ type: 'identify', plan: 'pro' });
    expect(byId.get(ids[2])).toMatchObject({
      type: 'page',
      name: 'Pricing',
      category: 'Docs',
      anonymous_id: 'seg-anon',
    });
    expect(byId.get(ids[3])).toMatchObject({ type: 'screen', name: 'Home', category: 'Onboarding' });
    expect(byId.get(ids[4])).toMatchObject({ type: 'group', group_id: 'acme' });
    expect(byId.get(ids[5])).toMatchObject({ type: 'alias', previous_id: 'seg-anon', user_id: 'seg-user' });
    for (const row of rows) expect(row).toMatchObject({ library: '@segment/analytics-node', stamped: true });
  });

  it('lands every call type sent gzip-compressed by @rudderstack/rudder-sdk-node', async () => {
    const rudder = new RudderAnalytics(OTHER_SOURCE_KEY, {
      dataPlaneUrl: runtime.url,
      flushAt: 100,
      flushInterval: 60_000,
      gzip: true,
      logLevel: 'error',
    });
    const ids = Array.from({ length: 6 }, () => randomUUID());
    // The SDK honours a given messageId (its typings just do not list it).
    const withId = <T>(message: T, id: string | undefined): T => ({ ...message, messageId: id });
    rudder.track(withId({ userId: 'rs-user', event: 'Trial Started', properties: { days: 14 } }, ids[0]));
    rudder.identify(withId({ userId: 'rs-user', traits: { plan: 'team' } }, ids[1]));
    rudder.page(withId({ anonymousId: 'rs-anon', name: 'Docs', category: 'Guides' }, ids[2]));
    rudder.screen(withId({ userId: 'rs-user', name: 'Settings' }, ids[3]));
    rudder.group(withId({ userId: 'rs-user', groupId: 'globex' }, ids[4]));
    rudder.alias(withId({ userId: 'rs-user', previousId: 'rs-anon' }, ids[5]));
    await new Promise<void>((resolve, reject) =>
      rudder.flush((error?: unknown) => (error ? reject(error) : resolve())),
    );
    for (const id of ids) accepted.add(id);

    await runtime.flush();
    const rows = await queryLake(
      `SELECT message_id, type, source, category, channel FROM read_parquet('${eventsGlob(runtime)}')
        WHERE message_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
    );
    expect(rows.map((r) => r.type).sort()).toEqual(['alias', 'group', 'identify', 'page', 'screen', 'track']);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['backend']));
    // The SDK says where it runs on every call.
    expect(new Set(rows.map((r) => r.channel))).toEqual(new Set(['server']));
    expect(rows.find((r) => r.type === 'page')).toMatchObject({ category: 'Guides' });
  });
});

/**
 * Whether the collector's text path itself (not the general path it falls back to) takes this body:
 * it copies each message's members as received, where the general path parses and serialises them.
 * The runtime runs with the default limits.
 */
function takenByTextPath(text: string, route: IngestRoute): boolean {
  const raw = scanBody(text, route !== 'batch', DEFAULT_LIMITS);
  const ctx = {
    schemas: buildMessageSchemas(DEFAULT_LIMITS),
    check: buildMessageCheck(DEFAULT_LIMITS),
    limits: DEFAULT_LIMITS,
    newId: randomUUID,
  };
  const stamp = { source: 'website', receivedAtMs: Date.now() };
  return raw !== undefined && prepareFromText(text, raw, route, stamp, ctx) !== undefined;
}

describe("the Segment spec's page category, channel and version reach the lake by either collector path", () => {
  const messages = () => [
    {
      type: 'page',
      messageId: randomUUID(),
      anonymousId: 'spec-anon',
      name: 'Guide',
      category: 'Docs',
      channel: 'web',
      properties: { path: '/guide' },
    },
    {
      type: 'track',
      messageId: randomUUID(),
      userId: 'spec-user',
      event: 'Signed Up',
      channel: 'server',
      version: 2,
    },
  ];

  /** Posts the text, checks every message was accepted, and reads their rows back from the lake. */
  async function land(route: IngestRoute, text: string, ids: readonly string[]) {
    const response = await post(`/v1/${route}`, { headers: json(WRITE_KEY), body: text });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: ids.length, rejected: [] });
    for (const id of ids) accepted.add(id);
    await runtime.flush();
    return queryLake(
      `SELECT message_id, type, name, event, category, channel, version
         FROM read_parquet('${eventsGlob(runtime)}')
        WHERE message_id IN (${ids.map((id) => `'${id}'`).join(',')}) ORDER BY type`,
    );
  }

  it('the text path: a batch as SDKs send it', async () => {
    const batch = messages();
    const text = JSON.stringify({ batch, sentAt: new Date().toISOString() });
    expect(takenByTextPath(text, 'batch')).toBe(true);
    expect(
      await land(
        'batch',
        text,
        batch.map((m) => m.messageId),
      ),
    ).toEqual([
      {
        message_id: batch[0]?.messageId,
        type: 'page',
        name: 'Guide',
        event: null,
        category: 'Docs',
        channel: 'web',
        version: null,
      },
      {
        message_id: batch[1]?.messageId,
        type: 'track',
        name: null,
        event: 'Signed Up',
        category: null,
        channel: 'server',
        version: '2',
      },
    ]);
  });

  it('the general path: a batch with a batch-level context to merge into each message', async () => {
    const batch = messages();
    const text = JSON.stringify({ batch, context: { library: { name: 'custom-backend' } } });
    expect(takenByTextPath(text, 'batch')).toBe(false);
    const rows = await land(
      'batch',
      text,
      batch.map((m) => m.messageId),
    );
    expect(rows).toEqual([
      expect.objectContaining({ type: 'page', category: 'Docs', channel: 'web', version: null }),
      expect.objectContaining({ type: 'track', category: null, channel: 'server', version: '2' }),
    ]);
  });

  it('single calls: a track by the text path, a page with escaped keys by the general path', async () => {
    const [page, track] = messages();
    const trackText = JSON.stringify(track);
    expect(takenByTextPath(trackText, 'track')).toBe(true);
    expect(await land('track', trackText, [track?.messageId as string])).toEqual([
      expect.objectContaining({ type: 'track', channel: 'server', version: '2' }),
    ]);
    // `cat\u0065gory` is `category` once parsed: the text path leaves escaped keys to the general path.
    const pageText = JSON.stringify(page)
      .replace('"category"', '"cat\\u0065gory"')
      .replace('"channel"', '"ch\\u0061nnel"');
    expect(pageText).toContain('cat\\u0065gory');
    expect(takenByTextPath(pageText, 'page')).toBe(false);
    expect(await land('page', pageText, [page?.messageId as string])).toEqual([
      expect.objectContaining({ type: 'page', name: 'Guide', category: 'Docs', channel: 'web' }),
    ]);
  });
});

describe('bad input gets the documented answer and costs nothing else', () => {
  const good = () => ({
    messageId: randomUUID(),
    userId: 'u-1',
    event: 'Good Event',
    type: 'track' as const,
  });
  const deep = (levels: number): unknown => (levels === 0 ? 'bottom' : { nested: deep(levels - 1) });

  const cases: Array<{ name: string; send: () => Promise<Response>; status: number; code?: string }> = [
    {
      name: 'unknown write key',
      send: () => post('/v1/track', { headers: json('not-a-key'), body: JSON.stringify(good()) }),
      status: 401,
    },
    {
      name: 'revoked write key',
      send: () => post('/v1/track', { headers: json(REVOKED_KEY), body: JSON.stringify(good()) }),
      status: 401,
    },
    {
      name: 'no write key',
      send: () => post('/v1/track', { headers: json(undefined), body: JSON.stringify(good()) }),
      status: 401,
    },
    {
      name: 'invalid JSON',
      send: () => post('/v1/batch', { headers: json(WRITE_KEY), body: '{"batch": [' }),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'no userId or anonymousId',
      send: () =>
        post('/v1/track', { headers: json(WRITE_KEY), body: JSON.stringify({ event: 'Anonymous?' }) }),
      status: 400,
      code: 'no_valid_messages',
    },
    {
      name: 'a message over 32 KB',
      send: () =>
        post('/v1/track', {
          headers: json(WRITE_KEY),
          body: JSON.stringify({ ...good(), properties: { blob: 'x'.repeat(40_000) } }),
        }),
      status: 413,
    },
    {
      name: 'a batch of more than 2,500 messages',
      send: () =>
        post('/v1/batch', {
          headers: json(WRITE_KEY),
          body: JSON.stringify({
            batch: Array.from({ length: 2501 }, () => ({ type: 'track', userId: 'u', event: 'e' })),
          }),
        }),
      status: 413,
    },
    {
      name: 'a body over 500 KB',
      send: () =>
        post('/v1/batch', {
          headers: json(WRITE_KEY),
          body: JSON.stringify({
            batch: Array.from({ length: 30 }, () => ({
              ...good(),
              properties: { blob: 'y'.repeat(20_000) },
            })),
          }),
        }),
      status: 413,
    },
    {
      name: 'a gzip bomb',
      send: () =>
        post('/v1/batch', {
          headers: json(WRITE_KEY, { 'content-encoding': 'gzip' }),
          body: gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)),
        }),
      status: 413,
    },
    {
      name: 'nesting 40 levels deep',
      send: () =>
        post('/v1/track', {
          headers: json(WRITE_KEY),
          body: JSON.stringify({ ...good(), properties: deep(40) }),
        }),
      status: 400,
    },
    {
      name: 'a multipart body',
      send: () =>
        post('/v1/track', {
          headers: { ...json(WRITE_KEY), 'content-type': 'multipart/form-data; boundary=x' },
          body: '--x--',
        }),
      status: 415,
    },
    {
      name: 'prototype-polluting keys',
      send: () =>
        post('/v1/track', {
          headers: json(WRITE_KEY),
          body: `{"userId":"u","event":"e","properties":{"__proto__":{"polluted":true}},"context":{"constructor":{"prototype":{"polluted":true}}}}`,
        }),
      status: 400,
    },
    {
      name: 'invalid UTF-8',
      send: () =>
        post('/v1/track', {
          headers: json(WRITE_KEY),
          body: Buffer.concat([
            Buffer.from('{"userId":"u","event":"'),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('"}'),
          ]),
        }),
      status: 400,
      code: 'invalid_utf8',
    },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const response = await c.send();
      expect(response.status).toBe(c.status);
      const body = (await response.json()) as { success: boolean; error?: { code: string; message: string } };
      expect(body.success).toBe(false);
      expect(body.error?.message).toEqual(expect.any(String));
      if (c.code) expect(body.error?.code).toBe(c.code);
    });
  }

  it('a mixed batch accepts the good messages and names the bad ones', async () => {
    const goods = [good(), good(), good()];
    const bad = { messageId: randomUUID(), type: 'track', userId: 'u-1' }; // no event
    const response = await post('/v1/batch', {
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({
        writeKey: WRITE_KEY,
        batch: [goods[0], bad, goods[1], { type: 'nonsense' }, goods[2]],
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      accepted: number;
      rejected: Array<{ index: number; messageId?: string; reason: string }>;
    };
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 3]);
    expect(body.rejected[0]?.messageId).toBe(bad.messageId);
    for (const g of goods) accepted.add(g.messageId);

    await runtime.flush();
    const quarantined = await queryLake(
      `SELECT code, reason, raw FROM read_json('${quarantineGlob(runtime)}') WHERE message_id = '${bad.messageId}'`,
    );
    expect(quarantined).toHaveLength(1);
    expect(String(quarantined[0]?.reason)).toContain('event');
    expect(String(quarantined[0]?.raw)).not.toContain(WRITE_KEY);
  });

  it('nothing was polluted and the server still serves', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await fetch(`${runtime.url}/health`);
    expect(health.status).toBe(200);
    const ok = good();
    const response = await post('/v1/track', { headers: json(WRITE_KEY), body: JSON.stringify(ok) });
    expect(response.status).toBe(200);
    accepted.add(ok.messageId);
  });
});

describe('the lake after everything above', () => {
  it('holds exactly the accepted messages: no loss, no duplicate', async () => {
    await runtime.flush();
    const rows = await queryLake(`SELECT message_id FROM read_parquet('${eventsGlob(runtime)}')`);
    const ids = rows.map((r) => r.message_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(accepted);
    expect(runtime.stats()).toMatchObject({ accepted: accepted.size, landed: accepted.size, inFlight: 0 });
  });
});
