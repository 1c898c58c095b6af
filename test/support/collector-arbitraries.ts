import fc from 'fast-check';
import { CALL_TYPES, type JsonObject } from '../../src/core/events/stream-record';
import { limitsWith } from './collector-fixtures';

/**
 * Generated Segment traffic for the collector's property tests: messages of every call type whose
 * fields are mostly valid and sometimes subtly not, shaped around every limit.
 */

/** Tight limits, so generated values land on both sides of every boundary. */
export const LIMITS = limitsWith({
  maxIdLength: 8,
  maxMessageIdLength: 6,
  maxMessageBytes: 1200,
  maxDepth: 4,
  maxKeys: 24,
});

const around = (n: number, char = 'x') =>
  fc.constantFrom(char.repeat(n - 1), char.repeat(n), char.repeat(n + 1));

export const times = fc.oneof(
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
    '2026-03-10T17:00:00+05',
    '2026-03-10T07:30-05',
    '9999-12-31T23:00:00-01',
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

export const validTime = fc.oneof(
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
      fc.double({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, noNaN: true }),
    ),
    fc.oneof(
      tricky,
      around(max, 'u'),
      // Numbers JSON cannot hold exactly as ids: refused (send them as strings).
      fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 64, 1e21),
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
export const messageFor = (limits: typeof LIMITS) =>
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

export const message = messageFor(LIMITS);

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
export const shaped = fc
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

export const batchBody = fc.record({
  batch: fc.array(fc.oneof({ weight: 8, arbitrary: shaped }, { weight: 1, arbitrary: fc.jsonValue() }), {
    minLength: 1,
    maxLength: 8,
  }),
  context: fc.constantFrom(undefined, { page: { path: '/' } }, { ip: '9.9.9.9', k: 1 }),
  integrations: fc.constantFrom(undefined, { All: false }),
  sentAt: fc.constantFrom(undefined, '2026-03-10T12:00:01.500Z', '2026-03-10T14:00:00+02:00', 'not a time'),
});
