import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  bodyWriteKey,
  type IngestBody,
  prepareIngestBody,
  readIngestBody,
} from '../../src/core/collector/ingest-body';
import { buildMessageCheck } from '../../src/core/collector/message-check';
import { buildMessageSchemas } from '../../src/core/collector/message-schemas';
import {
  type CheckedContext,
  type IngestRoute,
  type PreparedIngest,
  prepareIngest,
} from '../../src/core/collector/prepare-ingest';
import { prepareFromText } from '../../src/core/collector/prepare-raw';
import {
  FIELD,
  FIELDS,
  OTHER_FIELD,
  type RawBody,
  RawKind,
  scanRawBody,
} from '../../src/core/collector/raw-json';
import { NOT_READ_HERE, scanAsciiBody } from '../../src/core/collector/raw-json-wasm';
import { scanBody } from '../../src/core/collector/scan-body';
import { type CollectorLimits, DEFAULT_LIMITS } from '../../src/core/config/limits';
import { CALL_TYPES, type CallType, type JsonObject } from '../../src/core/events/stream-record';
import { batchBody, LIMITS, validTime } from '../support/collector-arbitraries';
import { decodeJson, RECEIVED_AT_MS, SOURCE, sequentialIds } from '../support/collector-fixtures';

/**
 * The collector's text path: a request whose JSON text the scanner reads has its records written from
 * that text. It must accept only valid JSON, read it as `JSON.parse` does, and give every request the
 * answer of the general path (parse, check, stamp, serialise) — the same records, keys, refusals.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

const contextFor = (limits: CollectorLimits): CheckedContext => ({
  schemas: buildMessageSchemas(limits),
  check: buildMessageCheck(limits),
  limits,
  newId: sequentialIds('id-'),
});

/** What a request comes to: each accepted record (parsed) with its key, and the refusals. */
function outcome(prepared: PreparedIngest) {
  return {
    accepted: prepared.accepted.map((a) => ({
      index: a.index,
      partitionKey: a.partitionKey,
      record: decodeJson(a.data),
    })),
    rejected: prepared.rejected,
  };
}

const stampOf = (ip: string | undefined) => ({ source: SOURCE, receivedAtMs: RECEIVED_AT_MS, ip });

/** The general path: the text parsed, then prepared. */
function general(text: string, route: IngestRoute, limits: CollectorLimits, ip?: string) {
  return prepareIngest(JSON.parse(text) as JsonObject, route, stampOf(ip), contextFor(limits));
}

/** The collector's path for request text (the text path where it answers). */
function viaText(text: string, route: IngestRoute, limits: CollectorLimits, ip?: string) {
  return prepareIngestBody(readIngestBody(text, route, limits), route, stampOf(ip), contextFor(limits));
}

/** Whether the text path itself (not the general path it falls back to) answered for this text. */
function textPathAnswers(text: string, route: IngestRoute, limits: CollectorLimits, ip?: string) {
  const raw = scanBody(text, route !== 'batch', limits);
  return (
    raw !== undefined && prepareFromText(text, raw, route, stampOf(ip), contextFor(limits)) !== undefined
  );
}

/**
 * JSON text as other SDKs write it: Python's `json.dumps` puts a space after `,` and `:` and escapes
 * everything past ASCII; PHP's `json_encode` escapes `/`. Same values, different text.
 */
function writeAs(value: unknown, style: 'compact' | 'python' | 'php'): string {
  if (style === 'compact') return JSON.stringify(value);
  if (style === 'php') return JSON.stringify(value).replaceAll('/', '\\/');
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(write).join(', ')}]`;
    if (typeof v === 'object' && v !== null) {
      return `{${Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${write(k)}: ${write(x)}`)
        .join(', ')}}`;
    }
    const text = JSON.stringify(v) ?? 'null';
    return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  };
  return write(value);
}

/** Whether any object in the value has an array-index key (`JSON.parse` puts those first). */
const hasIndexKeys = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (Array.isArray(value)
    ? value.some(hasIndexKeys)
    : Object.entries(value).some(([k, v]) => /^(0|[1-9]\d*)$/.test(k) || hasIndexKeys(v)));

/**
 * JSON as SDKs send it: like `fc.jsonValue`, but its numbers are integers and decimals as prices and
 * counts are written (doubles print with exponents, which the text path leaves to the general path).
 */
/** Keys as SDKs write them (a key with a quote or backslash in it is left to the general path). */
const sdkKey = fc.stringMatching(/^[a-z_][\w .$@-]{0,7}$/);

const { json: sdkJson } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.string({ maxLength: 12 }),
    fc.string({ maxLength: 6, unit: 'binary' }),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.integer({ min: -1e9, max: 1e9 }).map((n) => n / 100),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(sdkKey, tie('json'), { maxKeys: 3 }),
  ),
}));

/** A message an SDK would send: valid, of any call type, with free-form parts of any JSON. */
const freeForm = fc.dictionary(fc.oneof(sdkKey, fc.constantFrom('name', 'a/b', 'é', '2')), sdkJson, {
  maxKeys: 5,
});
const id = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '') },
  { weight: 1, arbitrary: fc.integer({ min: -1e6, max: 1e6 }) },
);
const sdkMessage = fc
  .record(
    {
      type: fc.constantFrom(...CALL_TYPES),
      messageId: fc.string({ minLength: 1, maxLength: 20 }),
      anonymousId: id,
      userId: id,
      previousId: id,
      groupId: id,
      event: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
      name: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null)),
      timestamp: validTime,
      originalTimestamp: validTime,
      sentAt: validTime,
      context: fc.oneof(
        { weight: 4, arbitrary: freeForm },
        { weight: 2, arbitrary: freeForm.map((c) => ({ ...c, ip: '198.51.100.4' })) },
        {
          weight: 1,
          arbitrary: fc.tuple(freeForm, fc.constantFrom('', 7, null)).map(([c, ip]) => ({ ...c, ip })),
        },
        { weight: 1, arbitrary: fc.constant({}) },
      ),
      properties: freeForm,
      traits: freeForm,
      writeKey: fc.constant('body-key'),
      channel: fc.constantFrom('server', 'browser'),
      extra: sdkJson,
    },
    { requiredKeys: ['type', 'event', 'previousId', 'groupId', 'userId'] },
  )
  .map((m) => m as JsonObject);

const sdkBatch = fc.record(
  {
    batch: fc.array(sdkMessage, { minLength: 1, maxLength: 6 }),
    sentAt: fc.constantFrom('2026-03-10T12:00:01.500Z', '2026-03-10T14:00:00+02:00', 'not a time', 7),
    writeKey: fc.constant('body-key'),
  },
  { requiredKeys: ['batch'] },
);

const styles = fc.constantFrom('compact', 'python', 'php') as fc.Arbitrary<'compact' | 'python' | 'php'>;
const ips = fc.constantFrom(undefined, '203.0.113.7');

describe('collector text path: the same answer as the general path', () => {
  it('for SDK batches in any writing', () => {
    let answered = 0;
    fc.assert(
      fc.property(sdkBatch, styles, ips, (body, style, ip) => {
        const text = writeAs(body, style);
        if (textPathAnswers(text, 'batch', DEFAULT_LIMITS, ip)) answered++;
        expect(outcome(viaText(text, 'batch', DEFAULT_LIMITS, ip))).toStrictEqual(
          outcome(general(text, 'batch', DEFAULT_LIMITS, ip)),
        );
      }),
      { numRuns: 600 },
    );
    // Only a test of the text path if it answers often (it leaves escaped keys and an ip to replace).
    expect(answered).toBeGreaterThan(200);
  });

  it('byte for byte, where the sender writes as JSON.stringify does', () => {
    // The text path copies what it can, so then the records are the general path's own bytes: same
    // members, same order, same escapes. (JSON.parse puts array-index keys first; the copy does not.)
    let answered = 0;
    fc.assert(
      fc.property(
        sdkBatch.filter((body) => !hasIndexKeys(body)),
        ips,
        (body, ip) => {
          const text = JSON.stringify(body);
          if (!textPathAnswers(text, 'batch', DEFAULT_LIMITS, ip)) return;
          answered++;
          const records = (prepared: PreparedIngest) => prepared.accepted.map((a) => utf8.decode(a.data));
          expect(records(viaText(text, 'batch', DEFAULT_LIMITS, ip))).toStrictEqual(
            records(general(text, 'batch', DEFAULT_LIMITS, ip)),
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('for single calls, each on its own route', () => {
    let answered = 0;
    fc.assert(
      fc.property(sdkMessage, styles, ips, fc.boolean(), (message, style, ip, dropType) => {
        const route = message.type as CallType;
        const { type: _type, ...untyped } = message;
        const text = writeAs(dropType ? untyped : message, style);
        if (textPathAnswers(text, route, DEFAULT_LIMITS, ip)) answered++;
        expect(outcome(viaText(text, route, DEFAULT_LIMITS, ip))).toStrictEqual(
          outcome(general(text, route, DEFAULT_LIMITS, ip)),
        );
      }),
      { numRuns: 300 },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('for batches of every shape around the limits, valid or not (the general path answers most)', () => {
    fc.assert(
      fc.property(batchBody, ips, styles, (body, ip, style) => {
        const text = writeAs(body, style);
        expect(outcome(viaText(text, 'batch', LIMITS, ip))).toStrictEqual(
          outcome(general(text, 'batch', LIMITS, ip)),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('stamps as the general path does: context.ip added last, write key dropped, ids as strings', () => {
    const text = JSON.stringify({
      writeKey: 'body-key',
      sentAt: '2026-03-10T12:00:05.000Z',
      batch: [
        {
          type: 'track',
          event: 'Viewed',
          userId: 42,
          anonymousId: '',
          writeKey: 'message-key',
          timestamp: '2026-03-10T12:00:00.000Z',
          context: { locale: 'nl-NL' },
          properties: { path: '/a' },
        },
        { type: 'identify', anonymousId: 'a-1', context: {}, traits: { plan: 'pro' } },
        { type: 'page', anonymousId: 'a-2', context: { ip: '198.51.100.4' } },
      ],
    });
    expect(textPathAnswers(text, 'batch', DEFAULT_LIMITS, '203.0.113.7')).toBe(true);
    const records = viaText(text, 'batch', DEFAULT_LIMITS, '203.0.113.7').accepted.map((a) =>
      utf8.decode(a.data),
    );
    expect(records[0]).toBe(
      '{"type":"track","event":"Viewed","userId":"42","timestamp":"2026-03-10T11:59:55.000Z",' +
        '"context":{"locale":"nl-NL","ip":"203.0.113.7"},"properties":{"path":"/a"},' +
        '"messageId":"id-1","sentAt":"2026-03-10T12:00:05.000Z","originalTimestamp":"2026-03-10T12:00:00.000Z",' +
        `"receivedAt":"2026-03-10T12:00:00.000Z","source":"${SOURCE}"}`,
    );
    expect(JSON.parse(records[1] as string)).toMatchObject({
      context: { ip: '203.0.113.7' },
      messageId: 'id-2',
    });
    expect(JSON.parse(records[2] as string)).toMatchObject({ context: { ip: '198.51.100.4' } });

    // A batch's sentAt read through its escapes, as JSON.parse reads it.
    const escaped = String.raw`{"sentAt":"2026-03-10T12:00:05\u002e000Z","batch":[{"type":"track","event":"E","anonymousId":"a","timestamp":"2026-03-10T12:00:00.000Z"}]}`;
    expect(textPathAnswers(escaped, 'batch', DEFAULT_LIMITS)).toBe(true);
    expect(outcome(viaText(escaped, 'batch', DEFAULT_LIMITS))).toStrictEqual(
      outcome(general(escaped, 'batch', DEFAULT_LIMITS)),
    );
    expect(
      decodeJson(viaText(escaped, 'batch', DEFAULT_LIMITS).accepted[0]?.data ?? new Uint8Array()),
    ).toMatchObject({
      sentAt: '2026-03-10T12:00:05.000Z',
      timestamp: '2026-03-10T11:59:55.000Z',
    });

    // A context with only spaces inside is empty: the ip is its one member.
    const spaced = '{"type": "track", "event": "E", "anonymousId": "a", "context": { }}';
    expect(textPathAnswers(spaced, 'track', DEFAULT_LIMITS, '203.0.113.7')).toBe(true);
    const [record] = viaText(spaced, 'track', DEFAULT_LIMITS, '203.0.113.7').accepted;
    expect(utf8.decode(record?.data)).toContain('"context": {"ip":"203.0.113.7"}');
  });

  it('corrects times as the general path does when the sender’s clocks disagree or its sentAt is not a time', () => {
    const message = { type: 'track', event: 'E', anonymousId: 'a', timestamp: '2026-03-10T11:59:00.000Z' };
    for (const body of [
      { batch: [{ ...message, sentAt: '9999-12-31T23:59:59.999Z' }] },
      { sentAt: '1', batch: [message] },
      { sentAt: '2026-02-30T12:00:00Z', batch: [message] },
    ]) {
      const text = JSON.stringify(body);
      expect(textPathAnswers(text, 'batch', DEFAULT_LIMITS)).toBe(true);
      const answer = outcome(viaText(text, 'batch', DEFAULT_LIMITS));
      expect(answer).toStrictEqual(outcome(general(text, 'batch', DEFAULT_LIMITS)));
      expect(answer.accepted[0]?.record.timestamp).toBe('2026-03-10T11:59:00.000Z');
    }
  });

  it('reads null as not sent, as the general path does, copying the rest as received', () => {
    const text = JSON.stringify({
      batch: [
        { type: 'track', event: 'E', anonymousId: 'a', messageId: null, timestamp: null, properties: null },
        { type: 'identify', userId: 'u', context: null, traits: null, sentAt: null, integrations: null },
        { type: 'page', anonymousId: 'b', name: null, originalTimestamp: null, properties: { path: '/' } },
      ],
    });
    expect(textPathAnswers(text, 'batch', DEFAULT_LIMITS, '203.0.113.7')).toBe(true);
    const answer = outcome(viaText(text, 'batch', DEFAULT_LIMITS, '203.0.113.7'));
    expect(answer).toStrictEqual(outcome(general(text, 'batch', DEFAULT_LIMITS, '203.0.113.7')));
    expect(answer.rejected).toEqual([]);
    for (const { record } of answer.accepted)
      for (const field of ['messageId', 'timestamp', 'context']) expect(record[field]).not.toBeNull();
    expect(
      answer.accepted.map(({ record }) => Object.keys(record).filter((k) => record[k] === null)),
    ).toEqual([[], [], ['name']]);
  });

  it('leaves to the general path what it does not take, and the answer is still that path’s', () => {
    const message = { type: 'track', event: 'E', anonymousId: 'a' };
    const cases: Array<[string, unknown]> = [
      ['a batch context to merge', { batch: [message], context: { ip: '1.1.1.1' } }],
      ['batch integrations to merge', { batch: [message], integrations: { All: false } }],
      ['an invalid message beside a valid one', { batch: [message, { type: 'track', anonymousId: 'a' }] }],
      ['a message without identity', { batch: [{ type: 'track', event: 'E' }] }],
      ['an unknown type', { batch: [{ ...message, type: 'click' }] }],
      ['a context ip to replace', { batch: [{ ...message, context: { ip: '' } }] }],
      ['an empty batch', { batch: [] }],
    ];
    for (const [what, body] of cases) {
      const text = JSON.stringify(body);
      expect(textPathAnswers(text, 'batch', DEFAULT_LIMITS, '203.0.113.7'), what).toBe(false);
      const run = (f: typeof viaText) => {
        try {
          return outcome(f(text, 'batch', DEFAULT_LIMITS, '203.0.113.7'));
        } catch (error) {
          return { error: String(error) };
        }
      };
      expect(run(viaText), what).toStrictEqual(run(general));
    }
  });
});

/**
 * The scanner is written twice: in TypeScript, for any text, and compiled to WebAssembly for text that
 * is all ASCII (`scanBody` picks). Every test of the scanner runs against both.
 */
const SCANNERS: ReadonlyArray<
  [
    string,
    (text: string, single: boolean, limits: { maxDepth: number; maxKeys: number }) => RawBody | undefined,
  ]
> = [
  ['TypeScript', scanRawBody],
  ['WebAssembly where the text is ASCII', scanBody],
];

describe.each(SCANNERS)('collector text path: the scanner in %s', (_name, scan) => {
  const limits = { maxDepth: 6, maxKeys: 40 };

  /** Checks everything the scanner says against `JSON.parse`; false when it declined. */
  function agreesWithParse(text: string): boolean {
    const raw = scan(text, false, limits);
    if (raw === undefined) return false;
    const parsed = JSON.parse(text) as { batch: unknown[] };
    expect(raw.messages).toHaveLength(parsed.batch.length);
    raw.messages.forEach((message, i) => {
      expect(JSON.parse(text.slice(message.start, message.end))).toStrictEqual(parsed.batch[i]);
      // The members, copied as they are, make the message again.
      const rebuilt = `{${message.members.map((m) => text.slice(m.start, m.end)).join(',')}}`;
      expect(JSON.parse(rebuilt)).toStrictEqual(parsed.batch[i]);
      for (const member of message.members) {
        const value = JSON.parse(text.slice(member.valueStart, member.end)) as unknown;
        expect(kindOf(value, text.slice(member.valueStart, member.end))).toBe(member.kind);
        const key = Object.keys(JSON.parse(`{${text.slice(member.start, member.end)}}`) as object)[0];
        expect(
          member.field === OTHER_FIELD ? FIELDS.includes(key as never) : FIELDS[member.field] === key,
        ).toBe(member.field !== OTHER_FIELD);
      }
    });
    return true;
  }

  const kindOf = (value: unknown, text: string) =>
    typeof value === 'string'
      ? text.includes('\\')
        ? RawKind.EscapedString
        : RawKind.String
      : typeof value === 'number'
        ? RawKind.Number
        : value === true
          ? RawKind.True
          : value === false
            ? RawKind.False
            : value === null
              ? RawKind.Null
              : Array.isArray(value)
                ? RawKind.Array
                : RawKind.Object;

  const messages = fc.array(
    fc.dictionary(
      fc.oneof(sdkKey, fc.string({ maxLength: 5 }), fc.constantFrom(...FIELDS)),
      fc.oneof({ weight: 4, arbitrary: sdkJson }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }),
      { maxKeys: 8 },
    ),
    { maxLength: 4 },
  );

  it('reads what JSON.parse reads, as JSON.parse reads it', () => {
    let read = 0;
    fc.assert(
      fc.property(messages, styles, (batch, style) => {
        if (agreesWithParse(writeAs({ sentAt: 'x', batch }, style))) read++;
      }),
      { numRuns: 1500 },
    );
    expect(read).toBeGreaterThan(500);
  });

  /** A change to valid text of the kind that breaks JSON, or changes it subtly. */
  const mutations = fc.tuple(
    fc.nat(),
    fc.constantFrom('delete', 'insert', 'duplicate'),
    fc.constantFrom(...'{}[]",:\\ \t\n0e.-+tfnu/'.split(''), '\\u00', '\\"', '""', ',"k":1', '\u2028'),
  );

  it('never reads text JSON.parse refuses, and reads what it does read as JSON.parse does', () => {
    let refused = 0;
    fc.assert(
      fc.property(
        messages,
        styles,
        fc.array(mutations, { minLength: 1, maxLength: 3 }),
        (batch, style, edits) => {
          let text = writeAs({ batch }, style);
          for (const [at, kind, piece] of edits) {
            const i = at % (text.length + 1);
            if (kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
            else if (kind === 'insert') text = text.slice(0, i) + piece + text.slice(i);
            else text = text.slice(0, i) + text.slice(i, i + 8) + text.slice(i);
          }
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          if (!valid) {
            refused++;
            expect(scan(text, false, limits)).toBeUndefined();
          } else if (Array.isArray((JSON.parse(text) as { batch?: unknown }).batch)) {
            agreesWithParse(text);
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(refused).toBeGreaterThan(1000);
  });

  it.each([
    ['a duplicate key in a message', '{"batch":[{"a":1,"a":2}]}'],
    ['a duplicate key deep down', '{"batch":[{"p":{"x":1,"y":{"z":1,"q":[{"z":2,"z":3}]}}}]}'],
    [
      'a duplicate key among many',
      `{"batch":[{${Array.from({ length: 30 }, (_, i) => `"k${i}":1`).join(',')},"k7":2}]}`,
    ],
    ['a duplicate batch', '{"batch":[],"batch":[{"a":1}]}'],
    ['__proto__ anywhere', '{"batch":[{"p":{"__proto__":1}}]}'],
    ['constructor holding an object', '{"batch":[{"p":{"constructor":{"x":1}}}]}'],
    ['prototype holding an array', '{"batch":[{"prototype":[1]}]}'],
    ['an exponent', '{"batch":[{"n":1e5}]}'],
    ['a number of 16 digits', '{"batch":[{"n":1234567890123456}]}'],
    ['an escaped key', '{"batch":[{"a\\u0062":1}]}'],
    ['a tab between tokens', '{"batch":[{"a":\t1}]}'],
    ['a line break between tokens', '{"batch":[\n{"a":1}]}'],
    ['a raw line break in a string', '{"batch":[{"a":"x\ny"}]}'],
    ['nesting past the depth limit', `{"batch":[{"a":${'['.repeat(6)}${']'.repeat(6)}}]}`],
    [
      'more keys than the limit',
      `{"batch":[{${Array.from({ length: 41 }, (_, i) => `"k${i}":1`).join(',')}}]}`,
    ],
    ['batch that is not an array', '{"batch":{"a":1}}'],
    ['no batch', '{"sentAt":"x"}'],
    ['a message that is not an object', '{"batch":[1]}'],
    ['an invalid escape', '{"batch":[{"a":"\\x"}]}'],
    ['a short unicode escape', '{"batch":[{"a":"\\u12"}]}'],
    ['a trailing comma', '{"batch":[{"a":1,}]}'],
    ['a leading zero', '{"batch":[{"a":01}]}'],
    ['a bare minus', '{"batch":[{"a":-}]}'],
    ['a fraction without digits', '{"batch":[{"a":1.}]}'],
    ['a truncated literal', '{"batch":[{"a":tru}]}'],
    ['an unterminated string', '{"batch":[{"a":"x}]}'],
    ['text after the body', '{"batch":[]} x'],
    ['a byte order mark', '\ufeff{"batch":[]}'],
  ])('declines %s', (_what, text) => {
    expect(scan(text, false, limits)).toBeUndefined();
  });

  it.each([
    ['Python separators', '{"batch": [{"type": "track", "n": -0.5, "ok": true, "x": null}], "sentAt": "s"}'],
    ['escapes in values', '{"batch":[{"a":"q\\"b\\\\c\\u00e9\\n\\/","b":"\\\\"}]}'],
    ['a key named constructor holding text', '{"batch":[{"constructor":"Ferrari","prototype":1}]}'],
    ['15 digits', '{"batch":[{"n":123456789012345,"f":-1234567.12345678}]}'],
    ['empty parts', '{"batch":[{},{"a":{},"b":[],"c":""}]}'],
    ['non-ASCII', '{"batch":[{"naïve":"日本語 😀"}]}'],
  ])('reads %s', (_what, text) => {
    expect(agreesWithParse(text)).toBe(true);
  });

  it('finds a duplicate key wherever it is, in objects of a few keys or of many', () => {
    const keys = fc.array(fc.stringMatching(/^[a-c]{1,3}$/), { maxLength: 60 });
    fc.assert(
      fc.property(keys, fc.boolean(), (names, nested) => {
        const object = `{${names.map((k, i) => `"${k}":${i}`).join(',')}}`;
        const text = `{"batch":[{"p":${nested ? `{"q":${object}}` : object}}]}`;
        const duplicated = new Set(names).size < names.length;
        expect(scan(text, false, { maxDepth: 8, maxKeys: 100 }) === undefined).toBe(duplicated);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads objects of thousands of keys in about the time JSON.parse takes, not quadratic time', () => {
    // Same-length keys defeat a length check: compared pairwise, ~490 KB of them took 1-1.5 s.
    const object = `{${Array.from({ length: 1990 }, (_, i) => `"k${String(i).padStart(4, '0')}":1`).join(',')}}`;
    const message = `{"type":"track","event":"e","anonymousId":"a","properties":${object}}`;
    const text = `{"batch":[${Array.from({ length: 25 }, () => message).join(',')}]}`;
    const time = (f: () => unknown) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        f();
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const parse = time(() => JSON.parse(text));
    const scanned = time(() => expect(scan(text, false, DEFAULT_LIMITS)).toBeDefined());
    expect(scanned).toBeLessThan(Math.max(20 * parse, 150));
  });

  it('recognises every field it numbers, and no other name', () => {
    const message = Object.fromEntries(FIELDS.map((name, i) => [name, i]));
    const raw = scan(JSON.stringify({ ...message, types: 1, Type: 2 }), true, DEFAULT_LIMITS);
    expect(raw?.members.map((m) => m.field)).toStrictEqual([
      ...FIELDS.map((_, i) => i),
      OTHER_FIELD,
      OTHER_FIELD,
    ]);
    expect(FIELD.context).toBe(FIELDS.indexOf('context'));
  });
});

describe('collector text path: the scanner in WebAssembly', () => {
  const limits = { maxDepth: 6, maxKeys: 40 };
  const ascii = (text: string) => !/[\u0080-\uffff]/.test(text);
  /** The WebAssembly scanner's answer, which for ASCII text must be the TypeScript scanner's. */
  function sameAnswer(text: string, single = false, bounds = limits): RawBody | undefined {
    const wasm = scanAsciiBody(text, single, bounds);
    if (!ascii(text)) {
      expect(wasm).toBe(NOT_READ_HERE);
      return undefined;
    }
    expect(wasm).not.toBe(NOT_READ_HERE);
    expect(wasm).toStrictEqual(scanRawBody(text, single, bounds));
    return wasm as RawBody | undefined;
  }

  const asciiJson = fc
    .jsonValue({ maxDepth: 4 })
    .map((v) => JSON.parse(JSON.stringify(v).replace(/[\u0080-\uffff]/g, '?')));
  const message = fc.dictionary(
    fc.oneof(
      fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'prototype'),
      fc.stringMatching(/^[ -~]{0,6}$/),
    ),
    fc.oneof(
      asciiJson,
      fc.record({ ip: fc.constantFrom('1.2.3.4', 7, null), city: fc.string() }, { requiredKeys: [] }),
    ),
    { maxKeys: 10 },
  );

  it('gives the TypeScript scanner’s answer, member for member, for any ASCII text', () => {
    let read = 0;
    let declined = 0;
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 4 }),
        styles,
        fc.array(
          fc.tuple(fc.nat(), fc.constantFrom(...'{}[]",:\\ \t0e.-+tfnu/'.split(''), '\\u00', '"k":1,')),
          {
            maxLength: 2,
          },
        ),
        fc.boolean(),
        (batch, style, edits, single) => {
          let text = single ? writeAs(batch[0] ?? {}, style) : writeAs({ sentAt: 'x', batch }, style);
          for (const [at, piece] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + piece + text.slice(i);
          }
          if (sameAnswer(text, single) === undefined) declined++;
          else read++;
        },
      ),
      { numRuns: 4000 },
    );
    // Both answers are exercised: texts read (about a sixth) and texts declined.
    expect(read).toBeGreaterThan(400);
    expect(declined).toBeGreaterThan(1000);
  });

  it('leaves text past ASCII to the TypeScript scanner, which reads it', () => {
    const text = '{"batch":[{"type":"track","event":"café","anonymousId":"a"}]}';
    expect(scanAsciiBody(text, false, limits)).toBe(NOT_READ_HERE);
    expect(scanBody(text, false, limits)).toStrictEqual(scanRawBody(text, false, limits));
    expect(scanBody(text, false, limits)).toBeDefined();
  });

  it('leaves every text to the TypeScript scanner where the module cannot run', async () => {
    // As on a processor without the SIMD V8 needs for it: compiling the module fails.
    vi.resetModules();
    const api = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } })
      .WebAssembly;
    const compile = vi.spyOn(api, 'Module').mockImplementation(function refuse() {
      throw new Error('WebAssembly.Module(): Wasm SIMD unsupported');
    });
    try {
      const wasm = await import('../../src/core/collector/raw-json-wasm');
      const { scanBody: scan } = await import('../../src/core/collector/scan-body');
      const text = '{"batch":[{"type":"track","event":"e","anonymousId":"a"}]}';
      expect(wasm.scanAsciiBody(text, false, limits)).toBe(wasm.NOT_READ_HERE);
      expect(scan(text, false, limits)).toStrictEqual(scanRawBody(text, false, limits));
      expect(scan(text, false, limits)?.messages).toHaveLength(1);
      expect(compile).toHaveBeenCalledTimes(1);
    } finally {
      compile.mockRestore();
      vi.resetModules();
    }
  });

  it('answers the same for messages at the limits of depth and keys, and for large objects', () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const keys = (n: number, dup = false) =>
      `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}${dup ? ',"k3":0' : ''}}`;
    for (const depth of [4, 5, 6, 7]) sameAnswer(`{"batch":[{"p":${nested(depth)}}]}`);
    for (const n of [15, 16, 17, 39, 40]) sameAnswer(`{"batch":[${keys(n)}]}`);
    for (const n of [16, 17, 300])
      sameAnswer(`{"batch":[{"p":${keys(n, true)}}]}`, false, { maxDepth: 6, maxKeys: 1000 });
    expect(sameAnswer(`{"batch":[{"p":${keys(300)}}]}`, false, { maxDepth: 6, maxKeys: 1000 })).toBeDefined();
    expect(
      sameAnswer(`{"batch":[{"p":${keys(300, true)}}]}`, false, { maxDepth: 6, maxKeys: 1000 }),
    ).toBeUndefined();
  });

  it('reads a body after one it declined, and bodies of any size one after the other', () => {
    // The module keeps its memory between calls: a trap or a larger text must leave nothing behind.
    const small = '{"batch":[{"type":"track","event":"e","anonymousId":"a","context":{"ip":"1.2.3.4"}}]}';
    const large = `{"batch":[${Array.from({ length: 400 }, () => JSON.stringify({ type: 'track', event: 'e'.repeat(300), anonymousId: 'a' })).join(',')}]}`;
    expect(large.length).toBeGreaterThan(128 * 1024);
    for (const text of [small, '{"batch":[{"a":1,"a":2}]}', large, small, '{"batch":[tru]}', small])
      sameAnswer(text);
    expect(
      sameAnswer(small)?.messages[0]?.members.find((m) => m.field === FIELD.context)?.members,
    ).toHaveLength(1);
  });
});

describe('collector text path: the body', () => {
  it('finds the write key in the body, escaped or not, and ignores one that is not text', () => {
    const key = (text: string): string | undefined =>
      bodyWriteKey(readIngestBody(text, 'batch', DEFAULT_LIMITS) as IngestBody);
    expect(key('{"batch":[],"writeKey":"wk_1"}')).toBe('wk_1');
    expect(key('{"batch":[],"writeKey":"wk\\u005f1"}')).toBe('wk_1');
    expect(key('{"batch":[],"writeKey":7}')).toBeUndefined();
    expect(key('{"batch":[]}')).toBeUndefined();
    // Text the scanner declines is parsed, and its key found the same way.
    expect(key('{"batch":[],\n"writeKey":"wk_2"}')).toBe('wk_2');
  });

  it('refuses text that is not a JSON object with the API’s 400', () => {
    for (const text of ['{"batch":', '[]', '"x"', 'null']) {
      expect(() => readIngestBody(text, 'batch', DEFAULT_LIMITS)).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'invalid_json' }),
      );
    }
  });
});
