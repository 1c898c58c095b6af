import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf, parseCanonicalIso, readTime } from '../../src/core/collector/iso-time';
import { buildMessageCheck } from '../../src/core/collector/message-check';
import { buildMessageSchemas, isIsoDate } from '../../src/core/collector/message-schemas';
import { type PrepareContext, prepareIngest } from '../../src/core/collector/prepare-ingest';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import { CALL_TYPES, type CallType, type JsonObject } from '../../src/core/events/stream-record';
import { batchBody, LIMITS, messageFor, times } from '../support/collector-arbitraries';
import { RECEIVED_AT_MS, SOURCE, sequentialIds } from '../support/collector-fixtures';

/**
 * The collector's fast path (the plain-predicate message check, the arithmetic ISO times, one buffer
 * per request) must decide and write exactly what the zod schemas and `Date` do.
 */

const RUNS = { numRuns: 2000 };

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
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * The definition of `isIsoDate`, spelled out with `Date`: ISO-8601 text `Date.parse` reads (an offset
 * of hours alone, `+05`, read as `+05:00`), whose day and time exist (`Date.parse` rolls February 30th
 * into March), naming an instant in years 0000-9999.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?))?$/;
const referenceParse = (value: string) =>
  Date.parse(value.length > 10 && /[+-]\d{2}$/.test(value.slice(16)) ? `${value}:00` : value);
const referenceIsIsoDate = (value: string) => {
  if (value.length > 40 || !ISO_8601.test(value)) return false;
  const ms = referenceParse(value);
  if (Number.isNaN(ms)) return false;
  const [year, month, day] = [value.slice(0, 4), value.slice(5, 7), value.slice(8, 10)].map(Number) as [
    number,
    number,
    number,
  ];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return false;
  const clock = value.length > 10 ? value.slice(11).match(/^(\d{2}):(\d{2})(?::(\d{2}))?/) : null;
  if (clock && (Number(clock[1]) > 23 || Number(clock[2]) > 59 || Number(clock[3] ?? 0) > 59)) return false;
  return ms >= Date.parse('0000-01-01T00:00:00.000Z') && ms <= Date.parse('9999-12-31T23:59:59.999Z');
};

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

  it('isoOf writes what toISOString writes for runs of nearby times, across hours, days and years', () => {
    // It remembers the last hour it wrote: times in the same hour, and the ones either side of one.
    const hour = 3_600_000;
    fc.assert(
      fc.property(
        fc.constantFrom(
          0,
          Date.UTC(2026, 11, 31, 23),
          Date.UTC(2028, 1, 28, 23),
          -hour,
          Date.UTC(-1, 0, 1) + hour,
        ),
        fc.array(fc.integer({ min: -2 * hour, max: 2 * hour }), { minLength: 1, maxLength: 40 }),
        (base, offsets) => {
          for (const offset of offsets)
            expect(isoOf(base + offset)).toBe(new Date(base + offset).toISOString());
        },
      ),
      { numRuns: 500 },
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
            const ms = referenceParse(text);
            expect(readTime(text)).toStrictEqual({ ms, iso: new Date(ms).toISOString() });
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
