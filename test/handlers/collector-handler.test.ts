import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCollectorHandler } from '../../functions/collector/handler';
import { FirehoseQuarantineSink } from '../../src/adapters/aws/firehose-quarantine-sink';
import { KinesisEventStream } from '../../src/adapters/aws/kinesis-event-stream';
import type { CollectorLimits } from '../../src/core/config/limits';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import type { JsonObject } from '../../src/core/events/stream-record';
import { ManualClock } from '../../src/ports/clock';
import { noMetrics } from '../../src/ports/ingest-metrics';
import { silentLogger } from '../../src/ports/logger';
import { createIngest } from '../../src/use-cases/ingest';
import { apiGatewayEvent, basicAuth, type HttpRequestSpec } from '../support/api-gateway-event';
import { BROWSER_SDK_HEADERS } from '../support/browser-sdk-headers';
import {
  BACKEND_WRITE_KEY,
  RECEIVED_AT,
  RECEIVED_AT_MS,
  REVOKED_WRITE_KEY,
  ROTATED_WRITE_KEY,
  SOURCE,
  sequentialIds,
  testRegistry,
  WRITE_KEY,
} from '../support/collector-fixtures';
import {
  decodePutRecordBatch,
  decodePutRecords,
  putRecordBatchAnswer,
  putRecordsAnswer,
  type QuarantineLine,
  type SentRecord,
} from '../support/kinesis-firehose-mocks';
import {
  aliasMessage,
  groupMessage,
  identifyMessage,
  padding,
  pageMessage,
  screenMessage,
  trackBatch,
  trackMessage,
} from '../support/segment-messages';

const STREAM = 'mosaic-events';
const DELIVERY_STREAM = 'mosaic-quarantine';
const kinesis = mockClient(KinesisClient);
const firehose = mockClient(FirehoseClient);

beforeEach(() => {
  kinesis.reset();
  firehose.reset();
  kinesis.on(PutRecordsCommand).callsFake((input) => putRecordsAnswer(input));
  firehose.on(PutRecordBatchCommand).callsFake((input) => putRecordBatchAnswer(input));
});

/** The collector as deployed: the real Kinesis and Firehose adapters over mocked SDK clients. */
function collector(limits: CollectorLimits = DEFAULT_LIMITS) {
  const sleeps: number[] = [];
  const keys = testRegistry();
  const ingest = createIngest({
    stream: new KinesisEventStream(new KinesisClient({ region: 'eu-west-1' }), STREAM),
    quarantine: new FirehoseQuarantineSink(new FirehoseClient({ region: 'eu-west-1' }), DELIVERY_STREAM),
    keys,
    limits,
    clock: new ManualClock(RECEIVED_AT_MS),
    newId: sequentialIds(),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    metrics: noMetrics,
  });
  return { handler: createCollectorHandler({ ingest, keys, limits, logger: silentLogger }), sleeps };
}

interface Response {
  readonly statusCode: number;
  readonly headers: Record<string, unknown>;
  readonly body: JsonObject;
}

async function send(spec: HttpRequestSpec, limits?: CollectorLimits): Promise<Response> {
  const result: APIGatewayProxyStructuredResultV2 = await collector(limits).handler(apiGatewayEvent(spec));
  return {
    statusCode: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, unknown>,
    body: result.body === undefined || result.body === '' ? {} : (JSON.parse(result.body) as JsonObject),
  };
}

const authed = (spec: HttpRequestSpec): HttpRequestSpec => ({
  ...spec,
  headers: { authorization: basicAuth(WRITE_KEY), ...spec.headers },
});

/** Every record written to Kinesis, in call order. */
const putRecordsCalls = (): SentRecord[][] =>
  kinesis.commandCalls(PutRecordsCommand).map((call) => decodePutRecords(call.args[0].input));
const written = (): SentRecord[] => putRecordsCalls().flat();
const quarantined = (): QuarantineLine[] =>
  firehose.commandCalls(PutRecordBatchCommand).flatMap((call) => decodePutRecordBatch(call.args[0].input));

describe('collector handler: routes', () => {
  it.each([
    ['/v1/track', 'track', trackMessage],
    ['/v1/t', 'track', trackMessage],
    ['/v1/identify', 'identify', identifyMessage],
    ['/v1/i', 'identify', identifyMessage],
    ['/v1/page', 'page', pageMessage],
    ['/v1/p', 'page', pageMessage],
    ['/v1/screen', 'screen', screenMessage],
    ['/v1/s', 'screen', screenMessage],
    ['/v1/group', 'group', groupMessage],
    ['/v1/g', 'group', groupMessage],
    ['/v1/alias', 'alias', aliasMessage],
    ['/v1/a', 'alias', aliasMessage],
  ] as const)('POST %s writes one %s record to the stream', async (path, type, make) => {
    const message = make({ messageId: 'm-1', type: undefined });
    const res = await send(authed({ path, body: message }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 1, rejected: [] });
    const records = written();
    expect(records).toHaveLength(1);
    expect(records[0]?.record).toMatchObject({
      type,
      messageId: 'm-1',
      source: SOURCE,
      receivedAt: RECEIVED_AT,
    });
    expect(kinesis.commandCalls(PutRecordsCommand)[0]?.args[0].input.StreamName).toBe(STREAM);
  });

  it.each(['/v1/batch', '/v1/b'])('POST %s writes every message of the batch', async (path) => {
    const batch = [
      trackMessage({ messageId: 'a' }),
      identifyMessage({ messageId: 'b' }),
      aliasMessage({ messageId: 'c' }),
    ];
    const res = await send(authed({ path, body: { batch } }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ success: true, accepted: 3 });
    expect(written().map((r) => [r.record.messageId, r.record.type])).toEqual([
      ['a', 'track'],
      ['b', 'identify'],
      ['c', 'alias'],
    ]);
  });

  it('stamps the client address from the request as context.ip', async () => {
    await send(authed({ path: '/v1/track', body: trackMessage(), sourceIp: '198.51.100.23' }));
    expect(written()[0]?.record.context).toEqual({ ip: '198.51.100.23' });
  });

  it.each([
    '/v1/unknown',
    '/v2/track',
    '/',
    '/v1',
    '/v1/track/extra',
    '/track',
    '/v1/constructor',
    '/v1/valueof',
    '/v1/beacon/batch',
    '/beacon/v1/track',
  ])('answers 404 for %s and writes nothing', async (path) => {
    const res = await send(authed({ path, body: trackMessage() }));
    expect(res.statusCode).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: { code: 'not_found' } });
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it.each(['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'])(
    'answers 405 with Allow for %s on a collector route',
    async (method) => {
      const res = await send(authed({ method, path: '/v1/track', body: trackMessage() }));
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('POST, OPTIONS');
      expect(res.body).toMatchObject({ success: false, error: { code: 'method_not_allowed' } });
      expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    },
  );
});

describe('collector handler: CORS', () => {
  it('answers a preflight OPTIONS with 204 and the CORS headers a browser SDK needs', async () => {
    const result = await collector().handler(
      apiGatewayEvent({ method: 'OPTIONS', path: '/v1/batch', headers: {} }),
    );
    expect(result.statusCode).toBe(204);
    const headers = result.headers ?? {};
    expect(headers['access-control-allow-origin']).toBe('*');
    expect(String(headers['access-control-allow-methods']).split(', ')).toEqual(['GET', 'POST', 'OPTIONS']);
    const allowed = String(headers['access-control-allow-headers']).toLowerCase().split(', ');
    // Every header a browser SDK adds: one missing fails the preflight, and the browser never sends the event.
    for (const h of BROWSER_SDK_HEADERS) expect(allowed).toContain(h);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it.each([
    ['a success', authed({ path: '/v1/track', body: trackMessage() }), 200],
    ['a bad request', authed({ path: '/v1/track', body: '{' }), 400],
    ['an unauthorised request', { path: '/v1/track', body: trackMessage() }, 401],
    ['an unknown path', authed({ path: '/v1/nope', body: trackMessage() }), 404],
  ] as const)('puts CORS headers on %s', async (_what, spec, status) => {
    const res = await send(spec);
    expect(res.statusCode).toBe(status);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('puts CORS headers on a 503', async () => {
    kinesis.on(PutRecordsCommand).rejects(new Error('down'));
    const res = await send(authed({ path: '/v1/track', body: trackMessage() }));
    expect(res.statusCode).toBe(503);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('collector handler: authentication', () => {
  it.each([
    ['the active key', WRITE_KEY, SOURCE],
    ['a second key being rotated in', ROTATED_WRITE_KEY, SOURCE],
    ['the key of another source', BACKEND_WRITE_KEY, 'backend'],
  ])('accepts %s as the HTTP Basic username and stamps its source', async (_what, key, source) => {
    const res = await send({
      path: '/v1/track',
      body: trackMessage(),
      headers: { authorization: basicAuth(key) },
    });
    expect(res.statusCode).toBe(200);
    expect(written()[0]?.record.source).toBe(source);
  });

  it('ignores the Basic password and accepts a lower-case scheme', async () => {
    const token = Buffer.from(`${WRITE_KEY}:whatever`).toString('base64');
    const res = await send({
      path: '/v1/track',
      body: trackMessage(),
      headers: { authorization: `basic ${token}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('accepts the write key in the body and never writes it to the stream', async () => {
    const res = await send({
      path: '/v1/batch',
      body: { writeKey: WRITE_KEY, batch: [trackMessage({ writeKey: WRITE_KEY })] },
    });
    expect(res.statusCode).toBe(200);
    const [record] = written();
    expect(record?.record).not.toHaveProperty('writeKey');
    expect(Buffer.from(record?.bytes ?? []).toString('utf8')).not.toContain(WRITE_KEY);
  });

  it.each([
    ['empty', ''],
    ['blank', '  '],
    ['Basic with an empty user name', basicAuth('')],
  ])('takes the key in the body when the Authorization header is %s', async (_what, authorization) => {
    const res = await send({
      path: '/v1/batch',
      headers: { authorization },
      body: { writeKey: BACKEND_WRITE_KEY, batch: [trackMessage()] },
    });
    expect(res.statusCode).toBe(200);
    expect(written()[0]?.record.source).toBe('backend');
  });

  it('lets a key in the Authorization header win over a key in the body', async () => {
    const res = await send({
      path: '/v1/batch',
      headers: { authorization: basicAuth('wk_nobody') },
      body: { writeKey: WRITE_KEY, batch: [trackMessage()] },
    });
    expect(res.statusCode).toBe(401);
    expect(written()).toHaveLength(0);
  });

  it('accepts a single call with the write key in its body (analytics.js style)', async () => {
    const res = await send({
      path: '/v1/t',
      headers: { 'content-type': 'text/plain' },
      body: trackMessage({ writeKey: WRITE_KEY }),
    });
    expect(res.statusCode).toBe(200);
    expect(written()[0]?.record).not.toHaveProperty('writeKey');
  });

  it.each([
    ['an unknown key', { authorization: basicAuth('wk_nobody') }, {}],
    ['a revoked key', { authorization: basicAuth(REVOKED_WRITE_KEY) }, {}],
    ['an unknown key in the body', {}, { writeKey: 'wk_nobody' }],
    ['a revoked key in the body', {}, { writeKey: REVOKED_WRITE_KEY }],
    ['no key', {}, {}],
    ['a Bearer token', { authorization: `Bearer ${WRITE_KEY}` }, {}],
    ['an empty Basic username', { authorization: basicAuth('') }, {}],
  ])('answers 401 for %s and writes nothing anywhere', async (_what, headers, bodyExtra) => {
    const res = await send({
      path: '/v1/batch',
      headers,
      body: { ...bodyExtra, batch: [trackMessage(), trackMessage({ event: '' })] },
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: { code: 'unauthorized' } });
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });
});

describe('collector handler: bodies', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'text/plain',
    'text/plain;charset=UTF-8',
    // What the RudderStack Node SDK labels its (gzip) JSON batches with, and curl -d sends.
    'application/x-www-form-urlencoded',
    'application/octet-stream',
  ])('accepts Content-Type %s', async (contentType) => {
    const res = await send(
      authed({ path: '/v1/track', headers: { 'content-type': contentType }, body: trackMessage() }),
    );
    expect(res.statusCode).toBe(200);
    expect(written()).toHaveLength(1);
  });

  it.each(['multipart/form-data; boundary=x', 'application/xml', 'text/html'])(
    'answers 415 for Content-Type %s',
    async (contentType) => {
      const res = await send(
        authed({ path: '/v1/track', headers: { 'content-type': contentType }, body: trackMessage() }),
      );
      expect(res.statusCode).toBe(415);
      expect(res.body).toMatchObject({ success: false, error: { code: 'unsupported_media_type' } });
      expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    },
  );

  it('accepts a gzip body (Content-Encoding: gzip)', async () => {
    const body = gzipSync(Buffer.from(JSON.stringify({ batch: trackBatch(3) })));
    const res = await send(authed({ path: '/v1/batch', headers: { 'content-encoding': 'gzip' }, body }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ accepted: 3 });
    expect(written().map((r) => r.record.messageId)).toEqual(['m-0', 'm-1', 'm-2']);
  });

  it('answers 413 quickly for a gzip bomb (50 MB of zeros) and writes nothing', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
    expect(bomb.byteLength).toBeLessThan(DEFAULT_LIMITS.maxRequestBytes);
    const started = performance.now();
    const res = await send(
      authed({ path: '/v1/batch', headers: { 'content-encoding': 'gzip' }, body: bomb }),
    );
    const elapsed = performance.now() - started;
    expect(res.statusCode).toBe(413);
    expect(res.body).toMatchObject({ success: false, error: { code: 'payload_too_large' } });
    expect(elapsed).toBeLessThan(2000);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('answers 413 for a gzip body that inflates past the request limit', async () => {
    const text = JSON.stringify({ batch: [trackMessage({ properties: { blob: padding(600 * 1024) } })] });
    const res = await send(
      authed({ path: '/v1/batch', headers: { 'content-encoding': 'gzip' }, body: gzipSync(text) }),
    );
    expect(res.statusCode).toBe(413);
  });

  it.each([
    ['garbage', Buffer.from('this is not gzip at all')],
    ['a truncated stream', gzipSync(JSON.stringify({ batch: trackBatch(3) })).subarray(0, 20)],
  ])('answers 400 for an invalid gzip body (%s)', async (_what, body) => {
    const res = await send(authed({ path: '/v1/batch', headers: { 'content-encoding': 'gzip' }, body }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: { code: 'invalid_gzip' } });
  });

  it('answers 415 for an unsupported Content-Encoding', async () => {
    const res = await send(
      authed({ path: '/v1/track', headers: { 'content-encoding': 'br' }, body: trackMessage() }),
    );
    expect(res.statusCode).toBe(415);
  });

  it('answers 413 for a body over 500 KB, as text or base64', async () => {
    const big = JSON.stringify({
      batch: [trackMessage({ properties: { blob: padding(DEFAULT_LIMITS.maxRequestBytes) } })],
    });
    expect((await send(authed({ path: '/v1/batch', body: big }))).statusCode).toBe(413);
    expect((await send(authed({ path: '/v1/batch', body: Buffer.from(big) }))).statusCode).toBe(413);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('accepts a body of exactly 500 KB and refuses one byte more', async () => {
    const text = JSON.stringify({ batch: trackBatch(100) });
    const exact = text + ' '.repeat(DEFAULT_LIMITS.maxRequestBytes - Buffer.byteLength(text));
    expect((await send(authed({ path: '/v1/batch', body: exact }))).statusCode).toBe(200);
    expect((await send(authed({ path: '/v1/batch', body: `${exact} ` }))).statusCode).toBe(413);
  });

  it('measures the 500 KB limit in UTF-8 bytes, not characters', async () => {
    // 180,000 three-byte characters: 540,000 bytes, though only 180,000 UTF-16 units.
    const body = JSON.stringify({ batch: [trackMessage({ properties: { text: '日'.repeat(180_000) } })] });
    expect(body.length).toBeLessThan(DEFAULT_LIMITS.maxRequestBytes);
    expect((await send(authed({ path: '/v1/batch', body }))).statusCode).toBe(413);
    expect((await send(authed({ path: '/v1/batch', body: Buffer.from(body) }))).statusCode).toBe(413);
  });

  it('answers 400 for a body that is not valid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"batch":[{"type":"track","event":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","anonymousId":"a"}]}'),
    ]);
    const res = await send(authed({ path: '/v1/batch', body: bytes }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: { code: 'invalid_utf8' } });
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('keeps multi-byte UTF-8 intact from a base64 body to the stream', async () => {
    const body = Buffer.from(
      JSON.stringify({ batch: [trackMessage({ properties: { name: 'Zoë 🚀 日本' } })] }),
      'utf8',
    );
    expect((await send(authed({ path: '/v1/batch', body }))).statusCode).toBe(200);
    expect(written()[0]?.record.properties).toEqual({ name: 'Zoë 🚀 日本' });
  });

  it.each([
    ['truncated JSON', '{"batch":['],
    ['not JSON', 'type=track&event=x'],
    ['a JSON array', '[{"type":"track"}]'],
    ['a JSON string', '"track"'],
    ['JSON null', 'null'],
  ])('answers 400 for %s', async (_what, body) => {
    const res = await send(authed({ path: '/v1/batch', body }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: { code: 'invalid_json' } });
  });

  it('answers 400 for an empty body', async () => {
    const res = await send(authed({ path: '/v1/track', body: '' }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false });
  });

  it.each([
    ['empty', { batch: [] }],
    ['not an array', { batch: { a: 1 } }],
    ['missing', { messages: [] }],
  ])('answers 400 for a batch that is %s', async (_what, body) => {
    const res = await send(authed({ path: '/v1/batch', body }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: { code: 'invalid_batch' } });
  });

  it('answers 413 for a batch of more than 2,500 messages and writes nothing', async () => {
    const batch = Array.from({ length: 2501 }, () => ({ type: 'track', event: 'e', anonymousId: 'a' }));
    const res = await send(authed({ path: '/v1/batch', body: { batch } }));
    expect(res.statusCode).toBe(413);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('answers a message nested far beyond maxDepth per message, not with a 500', async () => {
    const depth = 200_000;
    const body = `{"batch":[{"type":"track","event":"e","anonymousId":"a","properties":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}},{"type":"track","event":"ok","anonymousId":"b"}]}`;
    expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_LIMITS.maxRequestBytes);
    const res = await send(authed({ path: '/v1/batch', body }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: [{ index: 0, code: 'out_of_bounds' }] });
  });
});

describe('collector handler: per-message validation', () => {
  it('accepts the good messages of a mixed batch, lists the bad ones and quarantines exactly those', async () => {
    const bad1 = trackMessage({ messageId: 'bad-1', event: '' });
    const bad3 = trackMessage({ messageId: 'bad-3', anonymousId: undefined, userId: undefined });
    const bad4 = trackMessage({ messageId: 'bad-4', properties: { blob: padding(40_000) } });
    const batch = [
      trackMessage({ messageId: 'ok-0' }),
      bad1,
      identifyMessage({ messageId: 'ok-2' }),
      bad3,
      bad4,
      'nope',
    ];
    const res = await send(authed({ path: '/v1/batch', body: { batch } }));

    expect(res.statusCode).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.accepted).toBe(2);
    const rejected = res.body.rejected as JsonObject[];
    expect(rejected.map(({ index, messageId }) => ({ index, messageId }))).toEqual([
      { index: 1, messageId: 'bad-1' },
      { index: 3, messageId: 'bad-3' },
      { index: 4, messageId: 'bad-4' },
      { index: 5, messageId: undefined },
    ]);
    for (const r of rejected) expect(typeof r.reason).toBe('string');
    expect(written().map((r) => r.record.messageId)).toEqual(['ok-0', 'ok-2']);

    const lines = quarantined();
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe(
      DELIVERY_STREAM,
    );
    expect(lines.map((l) => [l.index, l.message_id, l.code])).toEqual([
      [1, 'bad-1', 'invalid_message'],
      [3, 'bad-3', 'missing_identity'],
      [4, 'bad-4', 'message_too_large'],
      [5, null, 'invalid_message'],
    ]);
    lines.forEach((line, i) => {
      expect(line.source).toBe(SOURCE);
      expect(line.received_at).toBe(RECEIVED_AT);
      expect(line.reason).toBe(rejected[i]?.reason);
    });
    expect(JSON.parse(lines[0]?.raw ?? '')).toEqual(bad1);
    expect(JSON.parse(lines[1]?.raw ?? '')).toEqual(bad3);
    expect(JSON.parse(lines[3]?.raw ?? '')).toBe('nope');
  });

  it('answers 400 when no message is valid, and still quarantines them all', async () => {
    const batch = [
      trackMessage({ messageId: 'x-0', event: '' }),
      groupMessage({ messageId: 'x-1', groupId: undefined }),
    ];
    const res = await send(authed({ path: '/v1/batch', body: { batch } }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ success: false, accepted: 0 });
    expect((res.body.rejected as JsonObject[]).map((r) => r.index)).toEqual([0, 1]);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    expect(quarantined().map((l) => l.message_id)).toEqual(['x-0', 'x-1']);
  });

  it('quarantines what a replay needs: the route called, and the batch-level fields without the write key', async () => {
    const single = await send(authed({ path: '/v1/t', body: { userId: 'V-1' } }));
    expect(single.statusCode).toBe(400);
    const batchFields = { context: { app: { name: 'shop' } }, sentAt: '2026-03-10T12:00:01.000Z' };
    const mixed = await send({
      path: '/v1/batch',
      body: {
        ...batchFields,
        writeKey: WRITE_KEY,
        batch: [trackMessage({ messageId: 'ok' }), { type: 'group', userId: 'V-1' }],
      },
    });
    expect(mixed.statusCode).toBe(200);

    const rows = quarantined();
    expect(rows.map((q) => [q.route, q.raw, q.batch])).toEqual([
      ['track', '{"userId":"V-1"}', null],
      ['batch', '{"type":"group","userId":"V-1"}', JSON.stringify(batchFields)],
    ]);
    // Sent again as they came, they are the same requests (and refused for the same reasons).
    const again = rows.map((q) =>
      q.route === 'batch'
        ? { ...JSON.parse(q.batch ?? '{}'), batch: [JSON.parse(q.raw)] }
        : JSON.parse(q.raw),
    );
    expect(again).toEqual([{ userId: 'V-1' }, { ...batchFields, batch: [{ type: 'group', userId: 'V-1' }] }]);
  });

  it('answers 400 for a batch whose batch-level context is refused, and quarantines each message', async () => {
    const text = `{"context":{"__proto__":{"polluted":1}},"batch":[${JSON.stringify(trackMessage({ messageId: 'p-0' }))},${JSON.stringify(trackMessage({ messageId: 'p-1' }))}]}`;
    const res = await send(authed({ path: '/v1/batch', body: text }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({
      success: false,
      accepted: 0,
      rejected: [
        {
          index: 0,
          messageId: 'p-0',
          code: 'out_of_bounds',
          reason: expect.stringContaining('batch context'),
        },
        {
          index: 1,
          messageId: 'p-1',
          code: 'out_of_bounds',
          reason: expect.stringContaining('batch context'),
        },
      ],
    });
    expect(written()).toEqual([]);
    expect(quarantined().map((q) => [q.index, q.message_id, q.code])).toEqual([
      [0, 'p-0', 'out_of_bounds'],
      [1, 'p-1', 'out_of_bounds'],
    ]);
  });

  it('answers 413 for a single message over 32 KB, and quarantines it', async () => {
    const res = await send(
      authed({
        path: '/v1/track',
        body: trackMessage({ messageId: 'big', properties: { blob: padding(40_000) } }),
      }),
    );
    expect(res.statusCode).toBe(413);
    expect(res.body).toMatchObject({ success: false, accepted: 0 });
    expect(quarantined().map((l) => [l.message_id, l.code])).toEqual([['big', 'message_too_large']]);
  });

  it('never writes the write key into the quarantine', async () => {
    await send({
      path: '/v1/batch',
      body: {
        writeKey: WRITE_KEY,
        batch: [trackMessage({ writeKey: WRITE_KEY, event: '' }), trackMessage()],
      },
    });
    const lines = quarantined();
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(WRITE_KEY);
  });
});

describe('collector handler: durability of what is acknowledged', () => {
  it('retries one failed entry among 500 alone and then answers 200 with all 500 accepted', async () => {
    kinesis
      .on(PutRecordsCommand)
      .callsFakeOnce((input) =>
        putRecordsAnswer(input, (r) =>
          r.record.messageId === 'm-137' ? 'ProvisionedThroughputExceededException' : undefined,
        ),
      )
      .callsFake((input) => putRecordsAnswer(input));
    const { handler, sleeps } = collector();
    const result = await handler(
      apiGatewayEvent(authed({ path: '/v1/batch', body: { batch: trackBatch(500) } })),
    );

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ success: true, accepted: 500, rejected: [] });
    const calls = putRecordsCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toHaveLength(500);
    expect(calls[1]?.map((r) => r.record.messageId)).toEqual(['m-137']);
    expect(calls[1]?.[0]?.partitionKey).toBe('anon-137');
    expect(calls[1]?.[0]?.bytes).toEqual(calls[0]?.[137]?.bytes);
    expect(sleeps).toHaveLength(1);
  });

  it('accepts a message whose id is longer than a Kinesis partition key may be, keyed by its SHA-256', async () => {
    const longId = `anon-${'z'.repeat(400)}`;
    const response = await send(
      authed({
        path: '/v1/batch',
        body: {
          batch: [
            trackMessage({ messageId: 'long', anonymousId: longId }),
            trackMessage({ messageId: 'short' }),
          ],
        },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ success: true, accepted: 2, rejected: [] });
    const sent = written();
    expect(sent.map((s) => [s.record.messageId, s.partitionKey])).toEqual([
      ['long', `sha256:${createHash('sha256').update(longId).digest('hex')}`],
      ['short', 'anon-1'],
    ]);
    expect(sent[0]?.record.anonymousId).toBe(longId);
  });

  it('answers 503 and reports nothing accepted when the stream keeps failing records', async () => {
    kinesis
      .on(PutRecordsCommand)
      .callsFake((input) => putRecordsAnswer(input, () => 'ProvisionedThroughputExceededException'));
    const res = await send(authed({ path: '/v1/batch', body: { batch: trackBatch(20) } }));
    expect(res.statusCode).toBe(503);
    expect(res.body.success).toBe(false);
    expect(res.body).not.toHaveProperty('accepted');
    expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
    expect(kinesis.commandCalls(PutRecordsCommand).length).toBeGreaterThan(1);
  });

  it('answers 503 when one record among 500 keeps failing', async () => {
    kinesis
      .on(PutRecordsCommand)
      .callsFake((input) =>
        putRecordsAnswer(input, (r) => (r.record.messageId === 'm-7' ? 'InternalFailure' : undefined)),
      );
    const res = await send(authed({ path: '/v1/batch', body: { batch: trackBatch(500) } }));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toHaveProperty('accepted');
    const calls = putRecordsCalls();
    expect(calls.slice(1).every((c) => c.length === 1 && c[0]?.record.messageId === 'm-7')).toBe(true);
  });

  it('answers 503 and reports nothing accepted when every PutRecords call throws', async () => {
    kinesis
      .on(PutRecordsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailableException' }));
    const res = await send(authed({ path: '/v1/batch', body: { batch: trackBatch(5) } }));
    expect(res.statusCode).toBe(503);
    expect(res.body.success).toBe(false);
    expect(res.body).not.toHaveProperty('accepted');
    expect(kinesis.commandCalls(PutRecordsCommand).length).toBeGreaterThan(1);
  });

  it('recovers with 200 when a throwing PutRecords call succeeds on retry', async () => {
    kinesis
      .on(PutRecordsCommand)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake((input) => putRecordsAnswer(input));
    const res = await send(authed({ path: '/v1/batch', body: { batch: trackBatch(5) } }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ accepted: 5 });
    expect(putRecordsCalls().map((c) => c.length)).toEqual([5, 5]);
  });

  it('splits a batch of 2,500 messages into PutRecords calls of at most 500 records, each message once', async () => {
    const batch = Array.from({ length: 2500 }, (_, i) => ({
      type: 'track',
      event: 'e',
      anonymousId: `a${i}`,
      messageId: `m${i}`,
    }));
    const res = await send(authed({ path: '/v1/batch', body: { batch } }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2500 });
    const calls = putRecordsCalls();
    expect(calls.length).toBeGreaterThanOrEqual(5);
    for (const call of calls) expect(call.length).toBeLessThanOrEqual(500);
    const ids = calls.flat().map((r) => r.record.messageId);
    expect(ids).toHaveLength(2500);
    expect(new Set(ids).size).toBe(2500);
  });

  it('keeps every PutRecords call within 5 MiB when a batch context is merged into every message', async () => {
    // A 30 KB batch context merged into 300 small messages: ~9 MB of records from a ~50 KB request.
    const batch = Array.from({ length: 300 }, (_, i) => ({
      type: 'track',
      event: 'e',
      anonymousId: `a${i}`,
      messageId: `m${i}`,
    }));
    const res = await send(
      authed({ path: '/v1/batch', body: { context: { blob: padding(30_000) }, batch } }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ accepted: 300 });
    const calls = putRecordsCalls();
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      const bytes = call.reduce((sum, r) => sum + r.bytes.byteLength + Buffer.byteLength(r.partitionKey), 0);
      expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(calls.flat()).toHaveLength(300);
  });

  it("keeps every quarantine record within Firehose's 1,000 KiB record limit, even for a 500 KB message", async () => {
    // One message filling the request with escaped quotes: its raw text doubles when embedded in a row.
    const head = '{"type":"track","event":"e","anonymousId":"a","messageId":"huge","properties":{"q":"';
    const tail = '"}}';
    const body =
      head +
      '\\"'.repeat(Math.floor((DEFAULT_LIMITS.maxRequestBytes - head.length - tail.length) / 2)) +
      tail;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxRequestBytes);
    const res = await send(authed({ path: '/v1/track', body }));
    expect(res.statusCode).toBe(413);
    const records = firehose
      .commandCalls(PutRecordBatchCommand)
      .flatMap((c) => c.args[0].input.Records ?? []);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record.Data?.byteLength ?? 0).toBeLessThanOrEqual(1000 * 1024);
  });

  it('answers 503 when the quarantine (Firehose) keeps failing records', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input) => putRecordBatchAnswer(input, () => 'ServiceUnavailableException'));
    const res = await send(
      authed({ path: '/v1/batch', body: { batch: [trackMessage(), trackMessage({ event: '' })] } }),
    );
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toHaveProperty('accepted');
    expect(firehose.commandCalls(PutRecordBatchCommand).length).toBeGreaterThan(1);
  });

  it('answers 503 when the quarantine (Firehose) call throws', async () => {
    firehose.on(PutRecordBatchCommand).rejects(new Error('Firehose is down'));
    const res = await send(
      authed({ path: '/v1/batch', body: { batch: [trackMessage(), trackMessage({ event: '' })] } }),
    );
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatchObject({ success: false, error: { code: 'service_unavailable' } });
    expect(res.body).not.toHaveProperty('accepted');
  });

  it('retries only the quarantine records Firehose failed', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .callsFakeOnce((input) =>
        putRecordBatchAnswer(input, (i) => (i === 1 ? 'ServiceUnavailableException' : undefined)),
      )
      .callsFake((input) => putRecordBatchAnswer(input));
    const batch = [
      trackMessage({ messageId: 'q-0', event: '' }),
      trackMessage({ messageId: 'q-1', event: '' }),
      trackMessage(),
    ];
    const res = await send(authed({ path: '/v1/batch', body: { batch } }));
    expect(res.statusCode).toBe(200);
    const calls = firehose
      .commandCalls(PutRecordBatchCommand)
      .map((c) => decodePutRecordBatch(c.args[0].input));
    expect(calls.map((c) => c.map((l) => l.message_id))).toEqual([['q-0', 'q-1'], ['q-1']]);
  });

  it('does not leak internal error details in a 503', async () => {
    kinesis
      .on(PutRecordsCommand)
      .rejects(new Error('arn:aws:kinesis:eu-west-1:123456789012:stream/secret-name'));
    const res = await send(authed({ path: '/v1/track', body: trackMessage() }));
    expect(res.statusCode).toBe(503);
    expect(JSON.stringify(res.body)).not.toContain('arn:aws');
  });
});

describe('collector handler: analytics.js settings (GET /v1/projects/{writeKey}/settings)', () => {
  const settings = (key: string, spec: HttpRequestSpec = {}) =>
    send({ method: 'GET', path: `/v1/projects/${key}/settings`, headers: {}, ...spec });

  it('answers an active key with settings that send every event back to this collector, over https', async () => {
    const res = await settings(WRITE_KEY);
    expect(res.statusCode).toBe(200);
    expect(res.body).toEqual({
      integrations: {
        'Segment.io': { apiKey: WRITE_KEY, apiHost: 'collector.example.com/v1', protocol: 'https' },
      },
      metrics: { sampleRate: 0 },
      remotePlugins: [],
    });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('names the host the request came to, and http only when X-Forwarded-Proto says so', async () => {
    const local = await settings(WRITE_KEY, {
      domainName: '127.0.0.1:8080',
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(local.body.integrations).toEqual({
      'Segment.io': { apiKey: WRITE_KEY, apiHost: '127.0.0.1:8080/v1', protocol: 'http' },
    });
    const custom = await settings(WRITE_KEY, {
      domainName: 'events.shop.example',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(custom.body.integrations).toMatchObject({
      'Segment.io': { apiHost: 'events.shop.example/v1', protocol: 'https' },
    });
  });

  it("answers a key being rotated out, and reveals nothing of the key's source", async () => {
    const res = await settings(ROTATED_WRITE_KEY);
    expect(res.statusCode).toBe(200);
    // The write key is the only thing in it that varies: the source's name is nowhere.
    expect(res.body).toEqual({
      integrations: {
        'Segment.io': { apiKey: ROTATED_WRITE_KEY, apiHost: 'collector.example.com/v1', protocol: 'https' },
      },
      metrics: { sampleRate: 0 },
      remotePlugins: [],
    });
  });

  it.each([
    ['an unknown key', 'wk_nobody'],
    ['a revoked key', REVOKED_WRITE_KEY],
  ])('answers 404 for %s, as Segment does, with nothing in the answer but the error', async (_what, key) => {
    const res = await settings(key);
    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({
      success: false,
      error: { code: 'not_found', message: 'No source has this write key' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers 405 with Allow for a POST', async () => {
    const res = await settings(WRITE_KEY, { method: 'POST', body: trackMessage() });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, OPTIONS');
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('answers 400 for a request whose host is not a host name', async () => {
    const res = await settings(WRITE_KEY, { domainName: 'evil.example/x?' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_host' } });
  });
});

describe('collector handler: RudderStack source config (GET /sourceConfig)', () => {
  const sourceConfig = (spec: HttpRequestSpec) =>
    send({ method: 'GET', path: '/sourceConfig/', headers: {}, ...spec });
  const SDK_QUERY = { p: 'npm', v: '3.34.1', build: 'modern' };

  it.each(['/sourceConfig/', '/sourceConfig'])(
    'answers %s for a key sent as HTTP Basic with an enabled source and no device-mode destinations',
    async (path) => {
      const res = await sourceConfig({
        path,
        headers: { authorization: basicAuth(WRITE_KEY) },
        query: { ...SDK_QUERY, writeKey: WRITE_KEY },
      });
      expect(res.statusCode).toBe(200);
      // What the SDK checks before it sends anything: an object source with an id, a config object,
      // a destinations array, and not disabled.
      expect(res.body).toEqual({
        source: {
          id: 'mosaic',
          name: 'Mosaic',
          enabled: true,
          config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
          destinations: [],
        },
      });
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['cache-control']).toBe('private, max-age=300');
      expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    },
  );

  it('accepts the key from the query string alone', async () => {
    const res = await sourceConfig({ query: { ...SDK_QUERY, writeKey: WRITE_KEY } });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['no key', {}],
    ['an empty key', { query: { writeKey: '' } }],
    ['an unknown key', { query: { writeKey: 'wk_nobody' } }],
    ['a revoked key', { headers: { authorization: basicAuth(REVOKED_WRITE_KEY) } }],
    [
      'an unknown Basic key beside a valid one in the query (the header wins)',
      { headers: { authorization: basicAuth('wk_nobody') }, query: { writeKey: WRITE_KEY } },
    ],
  ] as const)('answers 401 for %s', async (_what, spec) => {
    const res = await sourceConfig(spec);
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: { code: 'unauthorized' } });
    expect(res.body).not.toHaveProperty('source');
  });

  it('answers 404 for another path under /sourceConfig/', async () => {
    const res = await sourceConfig({ path: '/sourceConfig/other', query: { writeKey: WRITE_KEY } });
    expect(res.statusCode).toBe(404);
  });
});

describe('collector handler: RudderStack beacon batches (POST /beacon/v1/batch?writeKey=...)', () => {
  // navigator.sendBeacon: a text/plain batch, no Authorization header, the key in the query string.
  const beacon = (
    query: Record<string, string>,
    body: unknown = { batch: [trackMessage({ messageId: 'b-1' })] },
  ) =>
    send({ path: '/beacon/v1/batch', headers: { 'content-type': 'text/plain;charset=UTF-8' }, query, body });

  it('accepts a batch with the write key in the query string and writes it to the stream', async () => {
    const res = await beacon({ writeKey: WRITE_KEY });
    expect(res.statusCode).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 1, rejected: [] });
    expect(written().map((r) => [r.record.messageId, r.record.source])).toEqual([['b-1', SOURCE]]);
  });

  it.each([
    ['no key', {}],
    ['an empty key', { writeKey: '' }],
    ['an unknown key', { writeKey: 'wk_nobody' }],
    ['a revoked key', { writeKey: REVOKED_WRITE_KEY }],
  ])('answers 401 for %s and writes nothing', async (_what, query) => {
    const res = await beacon(query);
    expect(res.statusCode).toBe(401);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('reads a key in the query string on the beacon path only', async () => {
    const res = await send({
      path: '/v1/batch',
      query: { writeKey: WRITE_KEY },
      body: { batch: [trackMessage()] },
    });
    expect(res.statusCode).toBe(401);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });
});
