import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMessageSchemas } from '../../src/core/collector/message-schemas';
import {
  type IngestRoute,
  type PreparedIngest,
  prepareIngest,
} from '../../src/core/collector/prepare-ingest';
import { type CollectorLimits, DEFAULT_LIMITS } from '../../src/core/config/limits';
import { BadRequestError, PayloadTooLargeError } from '../../src/core/errors';
import type { CallType, JsonObject } from '../../src/core/events/stream-record';
import {
  decodeJson,
  limitsWith,
  RECEIVED_AT,
  RECEIVED_AT_MS,
  SOURCE,
  sequentialIds,
  WRITE_KEY,
} from '../support/collector-fixtures';
import {
  aliasMessage,
  groupMessage,
  identifyMessage,
  jsonBytes,
  overTheWire,
  padding,
  pageMessage,
  trackBatch,
  trackMessage,
} from '../support/segment-messages';

const IP = '203.0.113.7';

interface PrepareOptions {
  readonly route?: IngestRoute;
  readonly ip?: string;
  readonly limits?: CollectorLimits;
  readonly newId?: () => string;
}

/** Runs prepareIngest on a body as it arrives over HTTP (JSON text parsed back). */
function prepare(body: unknown, options: PrepareOptions = {}): PreparedIngest {
  return prepareRaw(overTheWire(body) as JsonObject, options);
}

/** Runs prepareIngest on an already-parsed body (for bodies built from JSON text). */
function prepareRaw(body: JsonObject, options: PrepareOptions = {}): PreparedIngest {
  const limits = options.limits ?? DEFAULT_LIMITS;
  return prepareIngest(
    body,
    options.route ?? 'batch',
    { source: SOURCE, receivedAtMs: RECEIVED_AT_MS, ...(options.ip === undefined ? {} : { ip: options.ip }) },
    { schemas: buildMessageSchemas(limits), limits, newId: options.newId ?? sequentialIds() },
  );
}

/** What went on the stream: each accepted message's bytes, strictly decoded and parsed. */
const streamed = (prepared: PreparedIngest): JsonObject[] => prepared.accepted.map((a) => decodeJson(a.data));

/** The one record a single-message request produced. */
function onlyRecord(prepared: PreparedIngest): JsonObject {
  expect(prepared.rejected).toEqual([]);
  expect(prepared.accepted).toHaveLength(1);
  const [record] = streamed(prepared);
  if (record === undefined) throw new Error('no record');
  return record;
}

const hasOwnKeyDeep = (value: unknown, key: string): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => hasOwnKeyDeep(v, key));
  return Object.keys(value).some((k) => k === key || hasOwnKeyDeep((value as JsonObject)[k], key));
};

const depthOf = (value: unknown): number => {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
};

/** An object `levels` deep: `{ a: { a: { ... { leaf: 1 } } } }`. */
const nestedObject = (levels: number): JsonObject => {
  let value: JsonObject = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};

describe('prepareIngest: the record on the stream', () => {
  it('writes the message with its stamps as UTF-8 JSON, exactly and nothing else', () => {
    const message = trackMessage({
      messageId: 'm-1',
      userId: 'user-1',
      timestamp: '2026-03-10T11:59:00.000Z',
      context: { library: { name: 'analytics.js', version: '1.2.3' } },
      properties: { name: 'Zoë 🚀 "quoted" \\ back\nslash', nested: [1, [2, { x: null }]], big: 1e21 },
    });
    const prepared = prepare({ batch: [message] }, { ip: IP });
    expect(prepared.rejected).toEqual([]);
    const [accepted] = prepared.accepted;
    expect(decodeJson(accepted?.data ?? new Uint8Array())).toStrictEqual({
      ...overTheWire(message),
      context: { library: { name: 'analytics.js', version: '1.2.3' }, ip: IP },
      timestamp: '2026-03-10T11:59:00.000Z',
      originalTimestamp: '2026-03-10T11:59:00.000Z',
      receivedAt: RECEIVED_AT,
      source: SOURCE,
    });
    expect(accepted?.partitionKey).toBe('anon-1');
  });

  it('uses the route as the type of a single call, whatever the body says', () => {
    const record = onlyRecord(prepare(trackMessage({ type: undefined }), { route: 'track' }));
    expect(record.type).toBe('track');
    const other = onlyRecord(prepare(trackMessage({ type: 'identify' }), { route: 'track' }));
    expect(other.type).toBe('track');
  });

  it('each record keeps its own bytes while many requests share the buffers they are written to', () => {
    // Records are written into shared slabs: thousands of them, some multi-byte, some large enough
    // to get a buffer of their own, must each still read back as themselves after all the others.
    const kept: Array<{ n: number; data: Uint8Array }> = [];
    for (let request = 0; request < 300; request++) {
      const batch = Array.from({ length: 20 }, (_, i) => {
        const n = request * 20 + i;
        const pad = n % 97 === 0 ? 'x'.repeat(30_000) : 'é'.repeat(n % 400);
        return trackMessage({ messageId: `m-${n}`, properties: { n, pad } });
      });
      const prepared = prepare({ batch });
      expect(prepared.rejected).toEqual([]);
      for (const a of prepared.accepted) kept.push({ n: request * 20 + a.index, data: a.data });
    }
    for (const { n, data } of kept) {
      expect(decodeJson(data)).toMatchObject({ messageId: `m-${n}`, properties: { n } });
    }
  });
});

describe('prepareIngest: validation is per message', () => {
  it('accepts the valid messages of a batch and rejects each invalid one with index, messageId and reason', () => {
    const batch = [
      trackMessage({ messageId: 'ok-0' }),
      trackMessage({ messageId: 'bad-1', event: '' }),
      42,
      identifyMessage({ messageId: 'ok-3' }),
      trackMessage({ messageId: 'bad-4', type: undefined }),
      trackMessage({ messageId: 'bad-5', type: 'purchase' }),
      groupMessage({ messageId: 'bad-6', groupId: undefined }),
      pageMessage({ messageId: 'ok-7' }),
    ];
    const prepared = prepare({ batch });

    expect(prepared.accepted.map((a) => a.index)).toEqual([0, 3, 7]);
    expect(streamed(prepared).map((r) => r.messageId)).toEqual(['ok-0', 'ok-3', 'ok-7']);
    expect(streamed(prepared).map((r) => r.type)).toEqual(['track', 'identify', 'page']);

    expect(prepared.rejected.map(({ index, messageId, code }) => ({ index, messageId, code }))).toEqual([
      { index: 1, messageId: 'bad-1', code: 'invalid_message' },
      { index: 2, messageId: undefined, code: 'invalid_message' },
      { index: 4, messageId: 'bad-4', code: 'invalid_message' },
      { index: 5, messageId: 'bad-5', code: 'invalid_message' },
      { index: 6, messageId: 'bad-6', code: 'invalid_message' },
    ]);
    const reasons = prepared.rejected.map((r) => r.reason);
    expect(reasons[0]).toContain('event');
    expect(reasons[1]).toContain('object');
    expect(reasons[2]).toContain('type');
    expect(reasons[3]).toContain('type');
    expect(reasons[4]).toContain('groupId');
  });

  it('keeps the raw text of each rejected message for the quarantine', () => {
    const bad = trackMessage({ messageId: 'bad-1', event: 7, properties: { é: '✓' } });
    const prepared = prepare({ batch: [trackMessage(), bad, 'just a string', null] });
    expect(prepared.rejected.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(JSON.parse(prepared.rejected[0]?.raw ?? '')).toStrictEqual(overTheWire(bad));
    expect(JSON.parse(prepared.rejected[1]?.raw ?? '')).toBe('just a string');
    expect(JSON.parse(prepared.rejected[2]?.raw ?? '')).toBeNull();
  });

  it.each([
    ['neither is present', { userId: undefined, anonymousId: undefined }],
    ['both are empty strings', { userId: '', anonymousId: '' }],
    ['both are null', { userId: null, anonymousId: null }],
  ])('rejects a message without userId or anonymousId (%s)', (_what, ids) => {
    const prepared = prepare({ batch: [trackMessage({ messageId: 'm-x', ...ids }), trackMessage()] });
    expect(prepared.rejected).toEqual([
      expect.objectContaining({ index: 0, messageId: 'm-x', code: 'missing_identity' }),
    ]);
    expect(prepared.rejected[0]?.reason).toMatch(/userId|anonymousId/);
    expect(prepared.accepted.map((a) => a.index)).toEqual([1]);
  });

  it('accepts a message with only a userId, or only an anonymousId, and drops the empty one', () => {
    const [byUser, byAnon, byZero] = streamed(
      prepare({
        batch: [
          trackMessage({ userId: 'user-1', anonymousId: '' }),
          trackMessage({ userId: null, anonymousId: 'anon-2' }),
          trackMessage({ anonymousId: 0 }),
        ],
      }),
    );
    expect(byUser?.userId).toBe('user-1');
    expect(byUser).not.toHaveProperty('anonymousId');
    expect(byAnon?.anonymousId).toBe('anon-2');
    expect(byAnon).not.toHaveProperty('userId');
    expect(byZero?.anonymousId).toBe('0');
  });

  it('requires previousId and userId for an alias (an anonymousId is not enough)', () => {
    const prepared = prepare({
      batch: [aliasMessage({ userId: undefined, anonymousId: 'anon-1' }), aliasMessage()],
    });
    expect(prepared.rejected.map((r) => r.index)).toEqual([0]);
    expect(prepared.rejected[0]?.reason).toContain('userId');
    expect(streamed(prepared)[0]).toMatchObject({ type: 'alias', previousId: 'anon-1', userId: 'user-1' });
  });
});

describe('prepareIngest: stamps', () => {
  it('assigns a messageId from the id generator when missing and keeps the one given', () => {
    const records = streamed(
      prepare(
        {
          batch: [
            trackMessage({ messageId: undefined }),
            trackMessage({ messageId: 'given-1' }),
            trackMessage({ messageId: undefined }),
          ],
        },
        { newId: sequentialIds('gen-') },
      ),
    );
    expect(records.map((r) => r.messageId)).toEqual(['gen-1', 'given-1', 'gen-2']);
  });

  it('stamps receivedAt and source, overwriting anything the client sent in their place', () => {
    const record = onlyRecord(
      prepare({ batch: [trackMessage({ receivedAt: '1999-01-01T00:00:00.000Z', source: 'someone-else' })] }),
    );
    expect(record.receivedAt).toBe(RECEIVED_AT);
    expect(record.source).toBe(SOURCE);
  });

  it('never writes the write key: not on records, not in quarantined raw text', () => {
    const single = prepare(trackMessage({ writeKey: WRITE_KEY }), { route: 'track' });
    const batch = prepare({
      writeKey: WRITE_KEY,
      batch: [
        trackMessage({ writeKey: WRITE_KEY }),
        trackMessage({ writeKey: WRITE_KEY, event: '' }),
        trackMessage({ writeKey: WRITE_KEY, anonymousId: undefined }),
        trackMessage({ writeKey: WRITE_KEY, properties: { blob: padding(40_000) } }),
      ],
    });
    const invalidSingle = prepare(trackMessage({ writeKey: WRITE_KEY, event: '' }), { route: 'track' });

    expect(single.accepted).toHaveLength(1);
    expect(batch.accepted).toHaveLength(1);
    expect(batch.rejected).toHaveLength(3);
    expect(invalidSingle.rejected).toHaveLength(1);
    const written = [...single.accepted, ...batch.accepted].map((a) => new TextDecoder().decode(a.data));
    const raws = [...batch.rejected, ...invalidSingle.rejected].map((r) => r.raw);
    for (const text of [...written, ...raws]) {
      expect(text).not.toContain(WRITE_KEY);
      expect(JSON.parse(text)).not.toHaveProperty('writeKey');
    }
  });

  it('sets context.ip from the request unless the message has one', () => {
    const records = streamed(
      prepare(
        {
          batch: [
            trackMessage(),
            trackMessage({ context: { locale: 'en' } }),
            trackMessage({ context: { ip: '198.51.100.9' } }),
            trackMessage({ context: { ip: '' } }),
          ],
        },
        { ip: IP },
      ),
    );
    expect(records.map((r) => r.context)).toStrictEqual([
      { ip: IP },
      { locale: 'en', ip: IP },
      { ip: '198.51.100.9' },
      { ip: IP },
    ]);
  });

  it('always writes a context object, without an ip when the request had none', () => {
    const record = onlyRecord(prepare({ batch: [trackMessage()] }));
    expect(record.context).toStrictEqual({});
  });

  it('merges batch-level context and integrations under each message own (the message wins)', () => {
    const records = streamed(
      prepare(
        {
          context: { library: { name: 'analytics-node', version: '3.0.0' }, locale: 'en-US' },
          integrations: { All: false, Amplitude: true },
          batch: [
            trackMessage({ context: { locale: 'fr-FR' }, integrations: { Amplitude: false } }),
            trackMessage(),
          ],
        },
        { ip: IP },
      ),
    );
    expect(records[0]?.context).toStrictEqual({
      library: { name: 'analytics-node', version: '3.0.0' },
      locale: 'fr-FR',
      ip: IP,
    });
    expect(records[0]?.integrations).toStrictEqual({ All: false, Amplitude: false });
    expect(records[1]?.context).toStrictEqual({
      library: { name: 'analytics-node', version: '3.0.0' },
      locale: 'en-US',
      ip: IP,
    });
    expect(records[1]?.integrations).toStrictEqual({ All: false, Amplitude: true });
  });

  describe('partition key', () => {
    it.each([
      ['anonymousId when present', { anonymousId: 'anon-7', userId: 'user-7' }, 'anon-7'],
      ['userId when there is no anonymousId', { anonymousId: undefined, userId: 'user-7' }, 'user-7'],
      ['userId when anonymousId is empty', { anonymousId: '', userId: 'user-7' }, 'user-7'],
      ['a numeric anonymousId as a string', { anonymousId: 77, userId: 'user-7' }, '77'],
    ])('is the %s', (_what, ids, key) => {
      const prepared = prepare({ batch: [trackMessage(ids)] });
      expect(prepared.accepted[0]?.partitionKey).toBe(key);
    });
  });
});

describe('prepareIngest: ids sent as numbers', () => {
  it('writes a number id as text, and refuses one past 2^53 that JSON has already rounded', () => {
    const prepared = prepareRaw(
      JSON.parse(
        '{"batch":[{"type":"identify","userId":9007199254740991},{"type":"identify","userId":12345678901234567890},{"type":"track","event":"E","anonymousId":-9007199254740993}]}',
      ) as JsonObject,
    );
    expect(streamed(prepared).map((r) => r.userId)).toEqual(['9007199254740991']);
    expect(prepared.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'invalid_message'],
      [2, 'invalid_message'],
    ]);
    expect(prepared.rejected[0]?.reason).toMatch(/userId: .*2\^53.*as strings/);
  });
});

describe('prepareIngest: null for a field that may be left out', () => {
  it('reads it as not sent: stamps what is stamped, and carries no null on', () => {
    const sent = {
      type: 'identify',
      userId: 'u-null',
      messageId: null,
      timestamp: null,
      originalTimestamp: null,
      sentAt: null,
      context: null,
      integrations: null,
      traits: null,
    };
    const r = onlyRecord(prepare({ batch: [sent] }, { ip: IP, newId: () => 'generated' }));
    expect(r).toStrictEqual({
      type: 'identify',
      userId: 'u-null',
      messageId: 'generated',
      timestamp: RECEIVED_AT,
      context: { ip: IP },
      receivedAt: RECEIVED_AT,
      source: SOURCE,
    });
  });

  it('takes originalTimestamp when timestamp is null, and drops a null properties', () => {
    const r = onlyRecord(
      prepare({
        batch: [
          trackMessage({ timestamp: null, originalTimestamp: '2026-03-10T11:00:00.000Z', properties: null }),
        ],
      }),
    );
    expect(r.timestamp).toBe('2026-03-10T11:00:00.000Z');
    expect(r.originalTimestamp).toBe('2026-03-10T11:00:00.000Z');
    expect(r).not.toHaveProperty('properties');
  });

  it('still refuses null where a value is required (a track’s event)', () => {
    const prepared = prepare({ batch: [trackMessage({ event: null })] });
    expect(prepared.accepted).toEqual([]);
    expect(prepared.rejected[0]).toMatchObject({
      code: 'invalid_message',
      reason: expect.stringContaining('event'),
    });
  });
});

describe('prepareIngest: timestamps (receivedAt = 2026-03-10T12:00:00.000Z)', () => {
  const at = (time: string) => `2026-03-10T${time}.000Z`;
  const record = (message: JsonObject, batchFields: JsonObject = {}) =>
    onlyRecord(prepare({ ...batchFields, batch: [message] }));

  it('corrects a client clock that runs ahead: timestamp = receivedAt - (sentAt - timestamp)', () => {
    const r = record(trackMessage({ timestamp: at('12:04:30'), sentAt: at('12:05:00') }));
    expect(r.timestamp).toBe(at('11:59:30'));
    expect(r.originalTimestamp).toBe(at('12:04:30'));
    expect(r.sentAt).toBe(at('12:05:00'));
  });

  it('corrects a client clock that runs behind', () => {
    const r = record(trackMessage({ timestamp: at('10:59:00'), sentAt: at('11:00:00') }));
    expect(r.timestamp).toBe(at('11:59:00'));
    expect(r.originalTimestamp).toBe(at('10:59:00'));
  });

  it('uses the batch-level sentAt when the message has none', () => {
    const r = record(trackMessage({ timestamp: at('12:04:30') }), { sentAt: at('12:05:00') });
    expect(r.timestamp).toBe(at('11:59:30'));
    expect(r.sentAt).toBe(at('12:05:00'));
  });

  it("prefers the message's own sentAt over the batch-level one", () => {
    const r = record(trackMessage({ timestamp: at('12:04:30'), sentAt: at('12:05:00') }), {
      sentAt: at('13:00:00'),
    });
    expect(r.timestamp).toBe(at('11:59:30'));
    expect(r.sentAt).toBe(at('12:05:00'));
  });

  it('corrects originalTimestamp when the client sent no timestamp', () => {
    const r = record(trackMessage({ originalTimestamp: at('12:04:30'), sentAt: at('12:05:00') }));
    expect(r.timestamp).toBe(at('11:59:30'));
    expect(r.originalTimestamp).toBe(at('12:04:30'));
  });

  it('keeps a past timestamp as sent when there is no sentAt', () => {
    const r = record(trackMessage({ timestamp: '2025-12-31T23:59:59.999Z' }));
    expect(r.timestamp).toBe('2025-12-31T23:59:59.999Z');
    expect(r.originalTimestamp).toBe('2025-12-31T23:59:59.999Z');
  });

  it('uses receivedAt when the message has no timestamp, and invents no originalTimestamp', () => {
    const r = record(trackMessage());
    expect(r.timestamp).toBe(RECEIVED_AT);
    expect(r).not.toHaveProperty('originalTimestamp');
  });

  it('clamps a timestamp beyond receivedAt + maxFutureMs to receivedAt, keeping the original', () => {
    const r = record(trackMessage({ timestamp: at('13:00:00') }));
    expect(r.timestamp).toBe(RECEIVED_AT);
    expect(r.originalTimestamp).toBe(at('13:00:00'));
  });

  it('clamps a corrected timestamp that is still in the future', () => {
    const r = record(trackMessage({ timestamp: at('13:00:00'), sentAt: at('12:00:00') }));
    expect(r.timestamp).toBe(RECEIVED_AT);
  });

  it('keeps a timestamp less than maxFutureMs ahead', () => {
    const r = record(trackMessage({ timestamp: at('12:04:59') }));
    expect(r.timestamp).toBe(at('12:04:59'));
  });

  it('honours a configured maxFutureMs', () => {
    const prepared = prepare(
      { batch: [trackMessage({ timestamp: at('12:00:01') })] },
      { limits: limitsWith({ maxFutureMs: 0 }) },
    );
    expect(onlyRecord(prepared).timestamp).toBe(RECEIVED_AT);
  });

  it('keeps the time as sent when a sentAt far ahead would correct it to before year 0000', () => {
    const r = record(trackMessage({ timestamp: at('11:59:00'), sentAt: '9999-12-31T23:59:59.999Z' }));
    expect(r.timestamp).toBe(at('11:59:00'));
    expect(r.originalTimestamp).toBe(at('11:59:00'));
    expect(r.sentAt).toBe('9999-12-31T23:59:59.999Z');
  });

  it.each([
    ['a bare number', '1'],
    ['a time without a zone (it would be read in the collector’s own zone)', '2026-03-10 12:05'],
    ['a day that does not exist', '2026-02-30T12:05:00Z'],
  ])('ignores a batch-level sentAt that is %s: the time stays as sent', (_what, sentAt) => {
    const r = record(trackMessage({ timestamp: at('11:59:30') }), { sentAt });
    expect(r.timestamp).toBe(at('11:59:30'));
    expect(r).not.toHaveProperty('sentAt');
  });

  it.each([
    ['a day that does not exist', '2026-02-30T00:00:00Z'],
    ['a date that does not exist', '2026-13-01'],
    ['an hour that does not exist', '2026-03-10T25:00:00+01:00'],
    ['a minute that does not exist', '2026-03-10T12:60:00+01:00'],
    ['an instant before year 0000', '0000-01-01T00:30:00+01:00'],
    ['an instant after year 9999', '9999-12-31T23:00:00-05:00'],
  ])('rejects a timestamp that is %s as an invalid message', (_what, timestamp) => {
    const prepared = prepare({ batch: [trackMessage({ timestamp }), trackMessage({ messageId: 'ok' })] });
    expect(prepared.accepted.map((a) => decodeJson(a.data).messageId)).toEqual(['ok']);
    expect(prepared.rejected).toEqual([
      expect.objectContaining({
        index: 0,
        code: 'invalid_message',
        reason: expect.stringContaining('timestamp'),
      }),
    ]);
  });

  it('writes times sent in other ISO-8601 forms as canonical UTC', () => {
    const r = record(
      trackMessage({ timestamp: '2026-03-10T12:59:00+01:00', sentAt: '2026-03-10T12:00:00Z' }),
    );
    expect(r.timestamp).toBe(at('11:59:00'));
    expect(r.sentAt).toBe(RECEIVED_AT);
    expect(Date.parse(String(r.originalTimestamp))).toBe(Date.parse(at('11:59:00')));
  });

  it.each([
    ['a message', { timestamp: '2026-03-10T16:59:00+05', sentAt: '2026-03-10T07:00-05' }, {}],
    ['a batch', { timestamp: '2026-03-10T16:59:00+05' }, { sentAt: '2026-03-10T07:00-05' }],
  ])('reads an offset of hours alone (+05) sent in %s, as ISO-8601 allows', (_where, times, batch) => {
    const r = record(trackMessage(times), batch);
    expect(r.originalTimestamp).toBe(at('11:59:00'));
    expect(r.sentAt).toBe(RECEIVED_AT);
    expect(r.timestamp).toBe(at('11:59:00'));
  });

  it.each([
    ['a space instead of T', '2026-03-09 16:17:51.123Z'],
    ['a day that does not exist', '2026-02-30T16:17:51.123Z'],
    ['an offset', '2026-03-09T17:17:51.123+01:00'],
    ['no fraction', '2026-03-09T16:17:51Z'],
    ['a date only', '2026-03-09'],
  ])(
    'never writes a non-canonical time to the stream (timestamp sent with %s is refused or canonicalised)',
    (_what, time) => {
      const prepared = prepare({ batch: [trackMessage({ timestamp: time, sentAt: time })] });
      for (const r of streamed(prepared)) {
        for (const field of ['timestamp', 'sentAt', 'receivedAt'] as const) {
          const value = String(r[field]);
          expect(new Date(value).toISOString(), `${field} ${value}`).toBe(value);
        }
      }
    },
  );
});

describe('prepareIngest: limits', () => {
  const KB32 = 32 * 1024;

  /** A track message whose JSON is exactly `bytes` long as sent. */
  const trackOfSize = (bytes: number, overrides: JsonObject = {}): JsonObject => {
    const base = trackMessage({ messageId: 'sized', ...overrides, properties: { blob: '' } });
    const message = trackMessage({
      messageId: 'sized',
      ...overrides,
      properties: { blob: padding(bytes - jsonBytes(base)) },
    });
    expect(jsonBytes(message)).toBe(bytes);
    return message;
  };

  it('accepts a message of exactly 32 KB as sent (stamps do not push it over)', () => {
    const prepared = prepare({ batch: [trackOfSize(KB32)] }, { ip: IP });
    expect(prepared.rejected).toEqual([]);
    expect(prepared.accepted).toHaveLength(1);
  });

  it('rejects a message of 32 KB + 1 byte as sent as message_too_large', () => {
    const prepared = prepare({ batch: [trackOfSize(KB32 + 1), trackMessage()] }, { ip: IP });
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 0, code: 'message_too_large' },
    ]);
    expect(prepared.accepted.map((a) => a.index)).toEqual([1]);
  });

  it.each([
    // 3,000 control characters are 18,000 bytes of JSON escapes in the message as sent.
    ['a writeKey of escaped characters', { writeKey: '\u0001'.repeat(3000) }],
    // Date.parse reads this as 12:00; the record carries it as 24 characters.
    ['a timestamp padded with spaces', { timestamp: `2026-03-10${' '.repeat(15_000)}11:00:00Z` }],
  ])(
    'does not accept a message over 32 KB as sent whose excess the collector would drop (%s)',
    (_what, extra) => {
      const message = trackMessage({ messageId: 'shrinks', properties: { blob: padding(20_000) }, ...extra });
      expect(jsonBytes(message)).toBeGreaterThan(KB32);
      const prepared = prepare({ batch: [message, trackMessage()] });
      expect(prepared.accepted.map((a) => a.index)).toEqual([1]);
      expect(prepared.rejected.map((r) => r.index)).toEqual([0]);
    },
  );

  it('rejects a 40 KB message as message_too_large, naming the limit, and leaves its neighbours alone', () => {
    const prepared = prepare({ batch: [trackMessage(), trackOfSize(40_000), trackMessage()] });
    expect(prepared.accepted.map((a) => a.index)).toEqual([0, 2]);
    expect(prepared.rejected).toEqual([
      expect.objectContaining({ index: 1, messageId: 'sized', code: 'message_too_large' }),
    ]);
    expect(prepared.rejected[0]?.reason).toContain(String(KB32));
  });

  it('quarantines a too-large message exactly as it was received (no stamps, no write key)', () => {
    const sent = trackOfSize(40_000, { context: { locale: 'en' }, writeKey: WRITE_KEY });
    const prepared = prepare({ batch: [sent] }, { ip: IP });
    expect(prepared.rejected).toHaveLength(1);
    const { writeKey: _secret, ...expected } = overTheWire(sent);
    expect(JSON.parse(prepared.rejected[0]?.raw ?? '')).toStrictEqual(expected);
  });

  it('rejects messages that a batch-level context makes too large, and only those', () => {
    const prepared = prepare({
      context: { library: { name: 'big' }, blob: padding(20_000) },
      batch: [trackOfSize(2_000), trackOfSize(14_000), trackOfSize(2_000)],
    });
    expect(prepared.accepted.map((a) => a.index)).toEqual([0, 2]);
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 1, code: 'message_too_large' },
    ]);
  });

  it(`accepts ${DEFAULT_LIMITS.maxBatchMessages} messages and refuses one more with PayloadTooLargeError`, () => {
    const prepared = prepare({ batch: trackBatch(DEFAULT_LIMITS.maxBatchMessages) });
    expect(prepared.accepted).toHaveLength(DEFAULT_LIMITS.maxBatchMessages);
    expect(() => prepare({ batch: trackBatch(DEFAULT_LIMITS.maxBatchMessages + 1) })).toThrow(
      PayloadTooLargeError,
    );
  });

  it('honours a configured maxBatchMessages', () => {
    const limits = limitsWith({ maxBatchMessages: 3 });
    expect(prepare({ batch: trackBatch(3) }, { limits }).accepted).toHaveLength(3);
    expect(() => prepare({ batch: trackBatch(4) }, { limits })).toThrow(/at most 3/);
  });

  it.each([
    ['empty', { batch: [] }],
    ['missing', { messages: [trackMessage()] }],
    ['an object', { batch: { 0: trackMessage() } }],
    ['a string', { batch: 'track' }],
    ['null', { batch: null }],
  ])('refuses a batch that is %s with BadRequestError', (_what, body) => {
    expect(() => prepare(body)).toThrow(BadRequestError);
  });
});

describe('prepareIngest: structure bounds', () => {
  const withProperties = (properties: unknown) => trackMessage({ properties });

  it('accepts nesting of maxDepth levels (the message counted) and rejects deeper nesting', () => {
    const limits = limitsWith({ maxDepth: 6 });
    // message (1) > properties (2..6)
    const ok = withProperties(nestedObject(5));
    expect(depthOf(ok)).toBe(6);
    const tooDeep = withProperties(nestedObject(7));
    const prepared = prepare({ batch: [ok, tooDeep] }, { limits });
    expect(prepared.accepted.map((a) => a.index)).toEqual([0]);
    expect(prepared.rejected).toEqual([expect.objectContaining({ index: 1, code: 'out_of_bounds' })]);
    expect(prepared.rejected[0]?.reason).toMatch(/nest|deep/);
  });

  it('counts arrays as nesting levels', () => {
    const limits = limitsWith({ maxDepth: 6 });
    const arrays = withProperties({ list: [[[[[['deep']]]]]] });
    const prepared = prepare({ batch: [arrays] }, { limits });
    expect(prepared.rejected.map((r) => r.code)).toEqual(['out_of_bounds']);
  });

  it(`rejects a message nested deeper than the default ${DEFAULT_LIMITS.maxDepth} levels`, () => {
    const ok = withProperties(nestedObject(DEFAULT_LIMITS.maxDepth - 1));
    const tooDeep = withProperties(nestedObject(DEFAULT_LIMITS.maxDepth + 2));
    const prepared = prepare({ batch: [ok, tooDeep] });
    expect(prepared.accepted.map((a) => a.index)).toEqual([0]);
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 1, code: 'out_of_bounds' },
    ]);
  });

  it('rejects (does not crash on) a message nested hundreds of thousands of levels deep', () => {
    // ~400 KB of JSON: within the request limit, far beyond maxDepth.
    const depth = 200_000;
    const text = `{"batch":[{"type":"track","event":"e","anonymousId":"a","properties":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}},{"type":"track","event":"ok","anonymousId":"b"}]}`;
    const prepared = prepareRaw(JSON.parse(text) as JsonObject);
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 0, code: 'out_of_bounds' },
    ]);
    expect(prepared.accepted.map((a) => a.index)).toEqual([1]);
  });

  it('counts keys across every level and rejects more than maxKeys', () => {
    const keys = (n: number, prefix: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
    // 4 top-level keys (type, event, anonymousId, properties) + properties' keys.
    const atLimit = withProperties(keys(DEFAULT_LIMITS.maxKeys - 4, 'k'));
    const overLimit = withProperties(keys(DEFAULT_LIMITS.maxKeys - 3, 'k'));
    // No single object is large, but together they are: 4 + 2 + 2 * 1000 keys.
    const spread = withProperties({ a: keys(1000, 'a'), b: keys(1000, 'b') });
    const prepared = prepare({ batch: [atLimit, overLimit, spread] });
    expect(prepared.accepted.map((a) => a.index)).toEqual([0]);
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 1, code: 'out_of_bounds' },
      { index: 2, code: 'out_of_bounds' },
    ]);
    expect(prepared.rejected[0]?.reason).toContain('keys');
  });
});

describe('prepareIngest: prototype pollution', () => {
  const payloads: Array<[string, string]> = [
    [
      '__proto__ at the top level',
      '{"type":"track","event":"e","anonymousId":"a","__proto__":{"polluted":1}}',
    ],
    [
      '__proto__ in properties',
      '{"type":"track","event":"e","anonymousId":"a","properties":{"__proto__":{"polluted":1}}}',
    ],
    [
      '__proto__ in context',
      '{"type":"track","event":"e","anonymousId":"a","context":{"__proto__":{"polluted":1}}}',
    ],
    [
      '__proto__ deep in an array',
      '{"type":"identify","userId":"u","traits":{"list":[{"x":[{"__proto__":{"polluted":1}}]}]}}',
    ],
    [
      '__proto__ holding a string',
      '{"type":"track","event":"e","anonymousId":"a","properties":{"__proto__":"polluted"}}',
    ],
    [
      'constructor holding an object',
      '{"type":"track","event":"e","anonymousId":"a","properties":{"constructor":{"prototype":{"polluted":1}}}}',
    ],
    [
      'prototype holding an object',
      '{"type":"track","event":"e","anonymousId":"a","traits":{"prototype":{"polluted":1}}}',
    ],
    [
      'constructor holding an array',
      '{"type":"track","event":"e","anonymousId":"a","properties":{"constructor":[1]}}',
    ],
  ];

  it.each(payloads)('rejects %s as out_of_bounds and leaves Object.prototype alone', (_what, messageText) => {
    const body = JSON.parse(
      `{"batch":[${messageText},{"type":"track","event":"ok","anonymousId":"b"}]}`,
    ) as JsonObject;
    const prepared = prepareRaw(body, { ip: IP });
    expect(prepared.rejected.map((r) => ({ index: r.index, code: r.code }))).toEqual([
      { index: 0, code: 'out_of_bounds' },
    ]);
    expect(prepared.accepted.map((a) => a.index)).toEqual([1]);
    expect(({} as JsonObject).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each(payloads)('rejects %s sent to a single-call route', (_what, messageText) => {
    const prepared = prepareRaw(JSON.parse(messageText) as JsonObject, { route: 'track', ip: IP });
    expect(prepared.accepted).toEqual([]);
    expect(prepared.rejected.map((r) => r.code)).toEqual(['out_of_bounds']);
    expect(({} as JsonObject).polluted).toBeUndefined();
  });

  it('accepts "constructor" and "prototype" holding plain values ("constructor": "Ferrari")', () => {
    const record = onlyRecord(
      prepare({
        batch: [
          trackMessage({
            properties: {
              constructor: 'Ferrari',
              prototype: 'v2',
              toString: 'x',
              car: { constructor: null },
            },
          }),
        ],
      }),
    );
    expect(record.properties).toStrictEqual({
      constructor: 'Ferrari',
      prototype: 'v2',
      toString: 'x',
      car: { constructor: null },
    });
  });

  it.each([
    ['context with __proto__', '"context":{"__proto__":{"polluted":1}}', '__proto__'],
    ['integrations with __proto__', '"integrations":{"__proto__":{"polluted":1}}', '__proto__'],
    [
      'context with constructor holding an object',
      '"context":{"constructor":{"prototype":{"polluted":1}}}',
      'constructor',
    ],
  ])('puts no record on the stream that carries a batch-level %s', (_what, batchField, key) => {
    const body = JSON.parse(
      `{${batchField},"batch":[{"type":"track","event":"e","anonymousId":"a"}]}`,
    ) as JsonObject;
    let prepared: PreparedIngest | undefined;
    try {
      prepared = prepareRaw(body, { ip: IP });
    } catch (error) {
      // Refusing the whole request is an acceptable answer too.
      expect(error).toBeInstanceOf(BadRequestError);
    }
    for (const record of prepared === undefined ? [] : streamed(prepared)) {
      expect(hasOwnKeyDeep(record, key)).toBe(false);
    }
    expect(({} as JsonObject).polluted).toBeUndefined();
  });

  it.each([
    [
      'a __proto__ key in the batch context',
      '"context":{"__proto__":{"polluted":1}}',
      /batch context: .*__proto__/,
    ],
    [
      'an object under constructor in the batch integrations',
      '"integrations":{"constructor":{"a":1}}',
      /batch integrations: .*constructor/,
    ],
    [
      'a batch context nested too deeply',
      `"context":${JSON.stringify({ deep: nestedObject(40) })}`,
      /batch context: .*(depth|nest)/i,
    ],
  ])(
    'refuses every message of a batch with %s, each kept for the quarantine',
    (_what, batchFields, reason) => {
      const messages = [trackMessage({ messageId: 'b-0' }), identifyMessage({ messageId: 'b-1' })];
      const body = JSON.parse(`{${batchFields},"batch":${JSON.stringify(messages)}}`) as JsonObject;
      const prepared = prepareRaw(body);
      expect(prepared.accepted).toEqual([]);
      expect(prepared.rejected.map((r) => [r.index, r.messageId, r.code])).toEqual([
        [0, 'b-0', 'out_of_bounds'],
        [1, 'b-1', 'out_of_bounds'],
      ]);
      for (const [i, rejection] of prepared.rejected.entries()) {
        expect(rejection.reason).toMatch(reason);
        expect(JSON.parse(rejection.raw)).toStrictEqual(overTheWire(messages[i]));
      }
      expect(({} as JsonObject).polluted).toBeUndefined();
    },
  );

  it('puts no record on the stream nested deeper than maxDepth because of a batch-level context', () => {
    const limits = limitsWith({ maxDepth: 6 });
    const body = overTheWire({ context: { deep: nestedObject(10) }, batch: [trackMessage()] });
    let prepared: PreparedIngest | undefined;
    try {
      prepared = prepareRaw(body, { limits });
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestError);
    }
    for (const record of prepared === undefined ? [] : streamed(prepared)) {
      // The stamps add no nesting, so the record may be at most maxDepth deep.
      expect(depthOf(record)).toBeLessThanOrEqual(limits.maxDepth);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property: for any valid message, the bytes on the stream parse to exactly the normalised message.
// ---------------------------------------------------------------------------------------------

const DANGEROUS = new Set(['__proto__', 'constructor', 'prototype']);
const hasDangerousKey = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasDangerousKey);
  return Object.keys(value).some((k) => DANGEROUS.has(k) || hasDangerousKey((value as JsonObject)[k]));
};

/** The partition key of an id: itself, or `sha256:` and its hex SHA-256 past Kinesis's 256 characters. */
const kinesisKeyOf = (id: unknown): string =>
  String(id).length <= 256 ? String(id) : `sha256:${createHash('sha256').update(String(id)).digest('hex')}`;

const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: 'binary' }),
    fc.string({ maxLength, unit: 'grapheme' }),
    fc.string({ maxLength }),
  );
const nonBlank = (maxLength: number) =>
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength, unit: 'binary' }),
      fc.string({ minLength: 1, maxLength, unit: 'grapheme' }),
    )
    .filter((s) => s.trim() !== '');
const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
);
const objectArb = fc
  .dictionary(anyText(12), jsonish, { maxKeys: 6 })
  .map((o) => overTheWire(o) as JsonObject)
  .filter((o) => !hasDangerousKey(o));
const requiredIdArb = fc.oneof(
  nonBlank(30),
  // Past the 256 characters of a Kinesis partition key, within the 512 of limits.maxIdLength.
  fc.string({ minLength: 250, maxLength: 400 }).filter((s) => s.trim() !== ''),
  fc.integer(),
  fc.double({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, noNaN: true }),
);
const optionalIdArb = fc.oneof(requiredIdArb, fc.constant(''), fc.constant(null));

/** An ISO-8601 time between 2000 and 2040, in canonical, offset or second-precision form. */
const timeArb = fc
  .record({
    ms: fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') }),
    offsetMinutes: fc.constantFrom(0, 60, -300, 330),
    form: fc.constantFrom('canonical', 'offset', 'seconds'),
  })
  .map(({ ms, offsetMinutes, form }) => {
    if (form === 'canonical') return new Date(ms).toISOString();
    if (form === 'seconds') return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  });

const commonFields = fc.record(
  {
    messageId: fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }),
    userId: optionalIdArb,
    anonymousId: optionalIdArb,
    timestamp: timeArb,
    originalTimestamp: timeArb,
    sentAt: timeArb,
    context: objectArb,
    integrations: objectArb,
    writeKey: fc.constant(WRITE_KEY),
    channel: anyText(10),
    version: fc.integer({ min: 1, max: 2 }),
    // Any JSON, but no key the collector refuses to let hold an object (`{"prototype":{}}`).
    custom: jsonish.filter((value) => !hasDangerousKey(value)),
  },
  { requiredKeys: [] },
);

const perType: Record<CallType, fc.Arbitrary<JsonObject>> = {
  track: fc.record({ event: nonBlank(40), properties: objectArb }, { requiredKeys: ['event'] }),
  identify: fc.record({ traits: objectArb }, { requiredKeys: [] }),
  page: fc.record({ name: anyText(20), category: anyText(20), properties: objectArb }, { requiredKeys: [] }),
  screen: fc.record(
    { name: anyText(20), category: anyText(20), properties: objectArb },
    { requiredKeys: [] },
  ),
  group: fc.record({ groupId: requiredIdArb, traits: objectArb }, { requiredKeys: ['groupId'] }),
  alias: fc.record(
    { previousId: requiredIdArb, userId: requiredIdArb },
    { requiredKeys: ['previousId', 'userId'] },
  ),
};

const isPresentId = (v: unknown) => (typeof v === 'string' && v !== '') || typeof v === 'number';

const messageArb = fc
  .constantFrom<CallType>('track', 'identify', 'page', 'screen', 'group', 'alias')
  .chain((type) =>
    fc
      .tuple(commonFields, perType[type])
      .map(([common, own]) => overTheWire({ ...common, ...own, type }) as JsonObject),
  )
  .filter((m) => isPresentId(m.userId) || isPresentId(m.anonymousId));

interface BatchFields {
  readonly context?: JsonObject;
  readonly integrations?: JsonObject;
  readonly sentAt?: string;
}

const requestArb = fc.oneof(
  messageArb.map((message) => ({
    route: message.type as IngestRoute,
    messages: [message],
    batch: undefined,
  })),
  fc
    .record({
      messages: fc.array(messageArb, { minLength: 1, maxLength: 5 }),
      batch: fc.record(
        { context: objectArb, integrations: objectArb, sentAt: timeArb },
        { requiredKeys: [] },
      ),
    })
    .map(({ messages, batch }) => ({ route: 'batch' as IngestRoute, messages, batch: batch as BatchFields })),
);

/**
 * The record the contract promises for `sent` (the message as parsed from the wire), computed
 * independently of the implementation. `messageId` is taken from `actual` when the sender gave none
 * (it must then be one the id generator produced).
 */
function expectedRecord(
  sent: JsonObject,
  batch: BatchFields | undefined,
  ip: string | undefined,
): JsonObject {
  const type = sent.type as CallType;
  const out: JsonObject = structuredClone(sent);
  delete out.writeKey;
  const idFields = [
    'userId',
    'anonymousId',
    ...(type === 'alias' ? ['previousId'] : []),
    ...(type === 'group' ? ['groupId'] : []),
  ];
  for (const field of idFields) {
    const value = out[field];
    if (value === null || value === '') delete out[field];
    else if (typeof value === 'number') out[field] = String(value);
  }
  const context: JsonObject = { ...batch?.context, ...(out.context as JsonObject | undefined) };
  if (ip !== undefined && (typeof context.ip !== 'string' || context.ip === '')) context.ip = ip;
  out.context = context;
  if (batch?.integrations !== undefined)
    out.integrations = { ...batch.integrations, ...(out.integrations as JsonObject | undefined) };
  const sentAtText = typeof out.sentAt === 'string' ? out.sentAt : batch?.sentAt;
  const sentAtMs = sentAtText === undefined ? undefined : Date.parse(sentAtText);
  if (sentAtMs !== undefined) out.sentAt = new Date(sentAtMs).toISOString();
  const clientTime = (out.timestamp ?? out.originalTimestamp) as string | undefined;
  if (clientTime === undefined) {
    out.timestamp = RECEIVED_AT;
  } else {
    const original = Date.parse(clientTime);
    out.originalTimestamp = new Date(original).toISOString();
    let corrected = sentAtMs === undefined ? original : RECEIVED_AT_MS - (sentAtMs - original);
    if (corrected > RECEIVED_AT_MS + DEFAULT_LIMITS.maxFutureMs) corrected = RECEIVED_AT_MS;
    out.timestamp = new Date(corrected).toISOString();
  }
  out.receivedAt = RECEIVED_AT;
  out.source = SOURCE;
  return out;
}

describe('prepareIngest: property', () => {
  it('the bytes on the stream parse to exactly the normalised message, for any valid message', () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.option(fc.constant(IP), { nil: undefined }),
        ({ route, messages, batch }, ip) => {
          const body: JsonObject =
            route === 'batch'
              ? overTheWire({ ...batch, batch: messages })
              : structuredClone(messages[0] as JsonObject);
          const generated = new Set<string>();
          const newId = sequentialIds('gen-');
          const prepared = prepareRaw(body, {
            route,
            newId: () => {
              const id = newId();
              generated.add(id);
              return id;
            },
            ...(ip === undefined ? {} : { ip }),
          });

          expect(prepared.rejected).toEqual([]);
          expect(prepared.accepted.map((a) => a.index)).toEqual(messages.map((_, i) => i));
          const seenIds = new Set<unknown>();
          prepared.accepted.forEach((accepted, i) => {
            const sent = messages[i] as JsonObject;
            const text = new TextDecoder('utf-8', { fatal: true }).decode(accepted.data);
            const actual = JSON.parse(text) as JsonObject;
            const expected = expectedRecord(sent, batch, ip);
            if (sent.messageId === undefined) {
              expect(generated.has(String(actual.messageId))).toBe(true);
              expect(seenIds.has(actual.messageId)).toBe(false);
              seenIds.add(actual.messageId);
              expected.messageId = actual.messageId;
            }
            expect(actual).toStrictEqual(expected);
            expect(text).not.toContain(WRITE_KEY);
            expect(accepted.partitionKey).toBe(kinesisKeyOf(expected.anonymousId ?? expected.userId));
          });
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});
