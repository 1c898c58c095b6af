import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf, parseCanonicalIso, readTime } from '../../src/core/collector/iso-time';
import { buildMessageCheck } from '../../src/core/collector/message-check';
import { buildMessageSchemas, isIsoDate } from '../../src/core/collector/message-schemas';
import { type PrepareContext, prepareIngest } from '../../src/core/collector/prepare-ingest';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import { CALL_TYPES, type CallType, type JsonObject } from '../../src/core/events/stream-record';
import { limitsWith, RECEIVED_AT_MS, SOURCE, sequentialIds } from '../support/collector-fixtures';

/**
 * The collector's fast path (the plain-predicate message check, the arithmetic ISO times, one buffer
 * per request) must decide and write exactly what the zod schemas and `Date` do.
 */

/** Tight limits, so generated values land on both sides of every boundary. */
const LIMITS = limitsWith({
  maxIdLength: 8,
  maxMessageIdLength: 6,
  maxMessageBytes: 1200,
  maxDepth: 4,
  maxKeys: 24,
});

const RUNS = { numRuns: 2000 };

const around = (n: number, char = 'x') =>
  fc.constantFrom(char.repeat(n - 1), char.repeat(n), char.repeat(n + 1));

const times = fc.oneof(
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-03-10T12:00:00.000Z',
    '2026-03-10T12:00:00Z',
    '2026-03-10T13:00:00+01:00',
    '2026-03-10T13:00:00.123456789-0130',
    '2026-03-10',
    '2024-02-29T00:00:00.000Z',
    '2023-02-29T00:00:00.000Z',
    '2024-02-30T00:00:00.000Z',
    '2024-04-31T10:00:00.000Z',
    '2024-01-01T24:00:00.000Z',
    '2024-01-01T23:60:00.000Z',
    '2024-01-01T23:59:60.000Z',
    '2024-13-01T00:00:00.000Z',
    '2024-00-10T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '2024-1a-01T00:00:00.000Z',
    '2024-01-01T00:00:00.000z',
    '2024-01-01 00:00:00.000Z',
    '2026-03-10T12:00:00',
    `2026-03-10T12:00:00.${'1'.repeat(30)}Z`,
    '',
    'yesterday',
  ),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(1773144000000, null, true),
);

/** Mostly a valid value, sometimes a subtly invalid one, so both verdicts are common. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, tricky: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: tricky });

const validTime = fc.oneof(
  fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom('2026-03-10T12:00:00Z', '2026-03-10T13:00:00+01:00', '2026-03-10'),
);

const tricky = fc.constantFrom(null, true, 7, Number.NaN, Number.POSITIVE_INFINITY, {}, ['u'], 'text', '');

const idsFor = (max: number) =>
  mostly(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: max }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
    fc.oneof(
      tricky,
      around(max, 'u'),
      fc.constantFrom(
        ' ',
        '  x  ',
        `  ${'u'.repeat(max)}  `,
        `\t${'u'.repeat(max)}`,
        `${'u'.repeat(max)}\u00a0`,
      ),
    ),
  );

const freeForm = mostly(
  fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.oneof(tricky, fc.constant([])),
);

const names = mostly(
  fc.oneof(fc.constant(null), fc.string({ maxLength: 20 })),
  fc.oneof(tricky, around(1024, 'n')),
);

const events = mostly(
  fc.string({ minLength: 1, maxLength: 20 }).filter((e) => e.trim() !== ''),
  fc.oneof(
    tricky,
    around(1024, 'e'),
    fc.constantFrom('   ', '  padded  ', ` ${'e'.repeat(1024)} `, `${'e'.repeat(1024)}\u00a0`),
  ),
);

/** A message of any call type: any field may be missing, most present ones are valid, some not. */
const messageFor = (limits: typeof LIMITS) =>
  fc
    .record(
      {
        type: fc.constantFrom(...CALL_TYPES),
        messageId: mostly(
          fc.string({ minLength: 1, maxLength: limits.maxMessageIdLength }),
          fc.oneof(tricky, around(limits.maxMessageIdLength, 'm')),
        ),
        userId: idsFor(limits.maxIdLength),
        anonymousId: idsFor(limits.maxIdLength),
        previousId: idsFor(limits.maxIdLength),
        groupId: idsFor(limits.maxIdLength),
        timestamp: mostly(validTime, times),
        originalTimestamp: mostly(validTime, times),
        sentAt: mostly(validTime, times),
        context: freeForm,
        integrations: freeForm,
        properties: freeForm,
        traits: freeForm,
        event: events,
        name: names,
        category: names,
        writeKey: fc.constantFrom(undefined, 'secret-key'),
        extra: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['type', 'event', 'previousId', 'groupId', 'userId'] },
    )
    .map((fields) => {
      const out: JsonObject = {};
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value as never;
      return out;
    });

const message = messageFor(LIMITS);

describe('collector fast path: the message check agrees with the zod schemas', () => {
  for (const limits of [DEFAULT_LIMITS, LIMITS]) {
    const schemas = buildMessageSchemas(limits);
    const check = buildMessageCheck(limits);

    it(`accepts exactly what zod accepts, for every call type (maxIdLength ${limits.maxIdLength})`, () => {
      const verdicts = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(messageFor(limits), (m) => {
          for (const type of CALL_TYPES) {
            const accepted = schemas[type].safeParse(m).success;
            expect(check(m, type)).toBe(accepted);
            verdicts[accepted ? 'accepted' : 'refused']++;
          }
        }),
        RUNS,
      );
      // The generator is only a test if both verdicts are common.
      expect(verdicts.accepted).toBeGreaterThan(RUNS.numRuns);
      expect(verdicts.refused).toBeGreaterThan(RUNS.numRuns);
    });
  }

  it('agrees on the messages Segment SDKs send', () => {
    const schemas = buildMessageSchemas(DEFAULT_LIMITS);
    const check = buildMessageCheck(DEFAULT_LIMITS);
    const sdk: Record<CallType, JsonObject> = {
      track: { type: 'track', event: 'Viewed', anonymousId: 'a', properties: { price: 1.5 } },
      identify: { type: 'identify', userId: 'u', traits: { email: 'e@example.com' } },
      page: { type: 'page', anonymousId: 'a', name: 'Home', category: null },
      screen: { type: 'screen', userId: 7, name: 'Home' },
      group: { type: 'group', userId: 'u', groupId: 'acme', traits: {} },
      alias: { type: 'alias', previousId: 'a', userId: 'u' },
    };
    for (const type of CALL_TYPES) {
      const m = {
        ...sdk[type],
        messageId: 'ajs-1',
        timestamp: '2026-03-10T11:59:58.123Z',
        sentAt: '2026-03-10T11:59:59.000Z',
        context: { library: { name: 'analytics.js' } },
      };
      expect(check(m, type)).toBe(true);
      expect(schemas[type].safeParse(m).success).toBe(true);
    }
  });
});

/** A message's JSON text with `__proto__` as an own key, as `JSON.parse` makes it. */
const withProtoKey = (m: JsonObject, where: 'top' | 'context'): JsonObject => {
  const text = JSON.stringify(m);
  return JSON.parse(
    where === 'top'
      ? `{"__proto__":{"polluted":true},${text.slice(1)}`
      : `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}"context":{"__proto__":{"x":1},"ip":"1.2.3.4"}}`,
  ) as JsonObject;
};

/** Nesting and key counts around `maxDepth` and `maxKeys`, and bodies around `maxMessageBytes`. */
const shaped = fc
  .tuple(
    message,
    fc.constantFrom('plain', 'proto-top', 'proto-context', 'deep', 'wide', 'large', 'large-unicode'),
    fc.integer({ min: 1, max: 6 }),
  )
  .map(([m, shape, n]) => {
    switch (shape) {
      case 'proto-top':
        return withProtoKey(m, 'top');
      case 'proto-context':
        return withProtoKey(m, 'context');
      case 'deep': {
        let value: unknown = 1;
        for (let i = 0; i < n; i++) value = i % 2 === 0 ? { a: value } : [value];
        return { ...m, properties: { nested: value } };
      }
      case 'wide':
        return { ...m, traits: Object.fromEntries(Array.from({ length: n * 5 }, (_, i) => [`k${i}`, i])) };
      case 'large':
        return { ...m, big: 'b'.repeat(1000 + n * 40) };
      case 'large-unicode':
        return { ...m, big: '€'.repeat(330 + n * 10) };
      default:
        return m;
    }
  });

const batchBody = fc.record({
  batch: fc.array(fc.oneof({ weight: 8, arbitrary: shaped }, { weight: 1, arbitrary: fc.jsonValue() }), {
    minLength: 1,
    maxLength: 8,
  }),
  context: fc.constantFrom(undefined, { page: { path: '/' } }, { ip: '9.9.9.9', k: 1 }),
  integrations: fc.constantFrom(undefined, { All: false }),
  sentAt: fc.constantFrom(undefined, '2026-03-10T12:00:01.500Z', '2026-03-10T14:00:00+02:00', 'not a time'),
});

/** What prepareIngest answers, with the record bytes as text (one buffer or many: same bytes). */
function outcome(bodyText: string, ctx: PrepareContext, ip: string | undefined) {
  const prepared = prepareIngest(
    JSON.parse(bodyText) as JsonObject,
    'batch',
    { source: SOURCE, receivedAtMs: RECEIVED_AT_MS, ip },
    ctx,
  );
  return {
    accepted: prepared.accepted.map((a) => ({
      index: a.index,
      partitionKey: a.partitionKey,
      record: a.record,
      text: new TextDecoder('utf-8', { fatal: true }).decode(a.data),
    })),
    rejected: prepared.rejected,
  };
}

describe('collector fast path: prepareIngest writes and refuses exactly what the zod path does', () => {
  const schemas = buildMessageSchemas(LIMITS);

  it('same records, bytes, rejections, reasons and quarantined text, for any batch', () => {
    fc.assert(
      fc.property(batchBody, fc.constantFrom(undefined, '203.0.113.7'), (generated, ip) => {
        const body = JSON.stringify(generated);
        const fast = outcome(body, { schemas, limits: LIMITS, newId: sequentialIds('id-') }, ip);
        const zodOnly = outcome(
          body,
          { schemas, limits: LIMITS, newId: sequentialIds('id-'), check: () => false },
          ip,
        );
        expect(fast).toStrictEqual(zodOnly);
        for (const accepted of fast.accepted)
          expect(JSON.parse(accepted.text)).toStrictEqual(accepted.record);
      }),
      { numRuns: 500 },
    );
  });
});

/** The definition of `isIsoDate` before the canonical form was recognised without `Date.parse`. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?))?$/;
const referenceIsIsoDate = (value: string) =>
  value.length <= 40 && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));

/** Text shaped like `YYYY-MM-DDTHH:mm:ss.sssZ` with any digits (so many fields out of range). */
const twoDigits = fc.integer({ min: 0, max: 99 });
const canonicalShaped = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }),
    twoDigits,
    twoDigits,
    twoDigits,
    twoDigits,
    twoDigits,
    fc.integer({ min: 0, max: 999 }),
  )
  .map(([y, mo, d, h, mi, s, ms]) => {
    const p = (n: number, width: number) => String(n).padStart(width, '0');
    return `${p(y, 4)}-${p(mo, 2)}-${p(d, 2)}T${p(h, 2)}:${p(mi, 2)}:${p(s, 2)}.${p(ms, 3)}Z`;
  });

describe('collector fast path: ISO times without Date', () => {
  it('isoOf writes what toISOString writes, inside and outside years 0000-9999', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -62_167_219_200_000 - 10 ** 12, max: 253_402_300_799_999 + 10 ** 12 }),
          fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
          fc.constantFrom(
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            0,
            -0,
            -1,
          ),
        ),
        (ms) => {
          expect(isoOf(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('parseCanonicalIso reads only in-range canonical text, as Date.parse does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          canonicalShaped,
          times.filter((t): t is string => typeof t === 'string'),
        ),
        (text) => {
          const ms = parseCanonicalIso(text);
          if (ms !== undefined) {
            expect(ms).toBe(Date.parse(text));
            expect(new Date(ms).toISOString()).toBe(text);
          } else if (!Number.isNaN(Date.parse(text)) && text.length === 24 && text.endsWith('Z')) {
            expect(new Date(Date.parse(text)).toISOString()).not.toBe(text);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('isIsoDate and readTime answer as the regular expression, Date.parse and toISOString do', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          canonicalShaped,
          times.filter((t): t is string => typeof t === 'string'),
        ),
        (text) => {
          expect(isIsoDate(text)).toBe(referenceIsIsoDate(text));
          if (isIsoDate(text)) {
            const ms = Date.parse(text);
            expect(readTime(text)).toStrictEqual({ ms, iso: new Date(ms).toISOString() });
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
