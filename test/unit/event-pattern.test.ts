import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/core/errors';
import { compileEventPattern, matchesEventPattern, valuesAt } from '../../src/core/events/event-pattern';

/** A `Profile Merged` envelope as EventBridge delivers it. */
const merged = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'Profile Merged',
  source: 'mosaic',
  account: '111122223333',
  time: '2026-11-22T16:05:12Z',
  region: 'eu-west-1',
  resources: ['arn:aws:dynamodb:eu-west-1:111122223333:table/profiles'],
  detail: {
    version: 1,
    profileId: 'p-1',
    mergedProfileId: 'p-2',
    identifier: { type: 'email' },
    score: 42.5,
    vip: true,
    note: null,
    tags: ['beta', 'Newsletter'],
    items: [
      { sku: 'a-1', qty: 2 },
      { sku: 'b-2', qty: 0 },
    ],
  },
};

const matches = (pattern: unknown, event: unknown = merged) => matchesEventPattern(pattern, event);

describe('event patterns: what EventBridge matches', () => {
  it('matches exact values, and any of an array of alternatives', () => {
    expect(matches({ source: ['mosaic'] })).toBe(true);
    expect(matches({ source: ['aws.s3'] })).toBe(false);
    expect(matches({ 'detail-type': ['Segment Membership Changed', 'Profile Merged'] })).toBe(true);
    expect(matches({ source: ['mosaic'], 'detail-type': ['Profile Deleted'] })).toBe(false);
  });

  it('matches nested detail fields, numbers as numbers, booleans and null exactly', () => {
    expect(matches({ detail: { identifier: { type: ['email'] } } })).toBe(true);
    expect(matches({ detail: { identifier: { type: ['phone'] } } })).toBe(false);
    expect(matches({ detail: { version: [1] } })).toBe(true);
    expect(matches({ detail: { version: ['1'] } })).toBe(false);
    expect(matches({ detail: { score: [42.5] } })).toBe(true);
    expect(matches({ detail: { vip: [true] } })).toBe(true);
    expect(matches({ detail: { vip: ['true'] } })).toBe(false);
    expect(matches({ detail: { note: [null] } })).toBe(true);
    expect(matches({ detail: { missing: [null] } })).toBe(false);
  });

  it('matches a field holding an array if any element matches, following arrays of objects', () => {
    expect(matches({ detail: { tags: ['beta'] } })).toBe(true);
    expect(matches({ detail: { tags: ['gamma'] } })).toBe(false);
    expect(matches({ detail: { items: { sku: ['b-2'] } } })).toBe(true);
    expect(matches({ detail: { items: { qty: [{ numeric: ['>', 1] }] } } })).toBe(true);
    expect(matches({ resources: [{ prefix: 'arn:aws:dynamodb:' }] })).toBe(true);
  });

  it('never matches an object with a leaf pattern', () => {
    expect(matches({ detail: { identifier: [{ exists: true }] } })).toBe(false);
    expect(matches({ detail: { identifier: [{ exists: false }] } })).toBe(true);
  });

  it('prefix, suffix, equals-ignore-case and wildcard match strings only', () => {
    expect(matches({ 'detail-type': [{ prefix: 'Profile ' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ prefix: 'profile ' }] })).toBe(false);
    expect(matches({ 'detail-type': [{ prefix: { 'equals-ignore-case': 'PROFILE ' } }] })).toBe(true);
    expect(matches({ 'detail-type': [{ suffix: ' Merged' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ suffix: { 'equals-ignore-case': ' MERGED' } }] })).toBe(true);
    expect(matches({ 'detail-type': [{ 'equals-ignore-case': 'profile merged' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ wildcard: 'Profile *' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ wildcard: '*Deleted' }] })).toBe(false);
    expect(matches({ detail: { score: [{ prefix: '42' }] } })).toBe(false);
    expect(matches({ detail: { tags: [{ wildcard: 'news*' }] } })).toBe(false);
    expect(matches({ detail: { tags: [{ wildcard: 'News*' }] } })).toBe(true);
    expect(matches({ source: [{ wildcard: 'mo.aic' }] })).toBe(false);
  });

  it('anything-but: the field has a value that is none of the listed, a missing field never matches', () => {
    expect(matches({ source: [{ 'anything-but': 'aws.s3' }] })).toBe(true);
    expect(matches({ source: [{ 'anything-but': ['mosaic', 'other'] }] })).toBe(false);
    expect(matches({ detail: { version: [{ 'anything-but': [2, 3] }] } })).toBe(true);
    expect(matches({ detail: { version: [{ 'anything-but': 1 }] } })).toBe(false);
    expect(matches({ 'detail-type': [{ 'anything-but': { prefix: 'Segment' } }] })).toBe(true);
    expect(matches({ 'detail-type': [{ 'anything-but': { prefix: 'Profile' } }] })).toBe(false);
    expect(matches({ 'detail-type': [{ 'anything-but': { suffix: 'Merged' } }] })).toBe(false);
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } })).toBe(false);
  });

  it('numeric compares numbers within one or two bounds', () => {
    expect(matches({ detail: { score: [{ numeric: ['>', 40] }] } })).toBe(true);
    expect(matches({ detail: { score: [{ numeric: ['>=', 0, '<', 42.5] }] } })).toBe(false);
    expect(matches({ detail: { score: [{ numeric: ['>=', 0, '<=', 42.5] }] } })).toBe(true);
    expect(matches({ detail: { score: [{ numeric: ['=', 42.5] }] } })).toBe(true);
    expect(matches({ detail: { profileId: [{ numeric: ['>', 0] }] } })).toBe(false);
  });

  it('exists: true when the field has a value, false when it has none', () => {
    expect(matches({ detail: { mergedProfileId: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { mergedProfileId: [{ exists: false }] } })).toBe(false);
    expect(matches({ detail: { segmentId: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { note: [{ exists: true }] } })).toBe(true);
    expect(matches({ nothing: { deeper: [{ exists: false }] } })).toBe(true);
  });

  it('$or: any of its patterns, together with the fields beside it', () => {
    const pattern = {
      source: ['mosaic'],
      $or: [{ 'detail-type': ['Profile Deleted'] }, { detail: { score: [{ numeric: ['>', 40] }] } }],
    };
    expect(matches(pattern)).toBe(true);
    expect(matches({ ...pattern, source: ['other'] })).toBe(false);
    expect(matches({ $or: [{ 'detail-type': ['Profile Deleted'] }, { detail: { vip: [false] } }] })).toBe(
      false,
    );
  });

  it('refuses invalid patterns with a BadRequestError naming where', () => {
    const refused = (pattern: unknown, where: RegExp) => {
      expect(() => compileEventPattern(pattern)).toThrow(BadRequestError);
      expect(() => compileEventPattern(pattern)).toThrow(where);
    };
    refused({}, /non-empty JSON object/);
    refused([], /non-empty JSON object/);
    refused({ source: 'mosaic' }, /at source: must be an array/);
    refused({ source: [] }, /at source: an empty array/);
    refused({ detail: { n: [{ numeric: ['<', 5, '>', 1] }] } }, /at detail\.n\[0\]\.numeric/);
    refused({ detail: { n: [{ numeric: ['>', 'x'] }] } }, /finite number/);
    refused({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, /unsupported operator "cidr"/);
    refused({ source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/);
    refused({ source: [{ exists: 'yes' }] }, /exists takes true or false/);
    refused({ $or: [{ source: ['a'] }] }, /at least two/);
    refused({ source: [{ 'anything-but': [] }] }, /anything-but/);
    expect(() => compileEventPattern({ source: 'x' })).toThrow(
      expect.objectContaining({ code: 'invalid_event_pattern', statusCode: 400 }),
    );
  });

  it('flattens arrays on the way to a field', () => {
    expect(valuesAt({ a: [{ b: [1, [2]] }, { b: 3 }, { c: 4 }] }, ['a', 'b'])).toEqual([1, 2, 3]);
    expect(valuesAt({ a: { b: { c: 1 } } }, ['a', 'b'])).toEqual([]);
  });
});

const scalar = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.constantFrom('a', 'b', 'c', 'type', 'id');
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
})).object;

/** Every path to a scalar in a JSON object (array elements followed, as patterns see them). */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (Array.isArray(value)) return value.flatMap((item) => leafPaths(item, path));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  }
  return path.length > 0 ? [path] : [];
}

/** The pattern `{a: {b: [leaf]}}` for path `a.b`. */
function patternAt(path: readonly string[], leaf: unknown[]): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>(
    (inner, field, i) => ({ [field]: i === path.length - 1 ? leaf : inner }),
    {},
  );
}

describe('event patterns: properties', () => {
  it('a pattern made of an event own values matches it', () => {
    fc.assert(
      fc.property(json, fc.nat(), (event, pick) => {
        const paths = leafPaths(event);
        fc.pre(paths.length > 0);
        const path = paths[pick % paths.length] as string[];
        const [value] = valuesAt(event, path);
        expect(matches(patternAt(path, [value]), event)).toBe(true);
        expect(matches(patternAt(path, [{ exists: true }]), event)).toBe(true);
      }),
    );
  });

  it('on a single-valued field, anything-but [x] is the negation of [x]', () => {
    fc.assert(
      fc.property(
        scalar.filter((v) => v !== null),
        scalar.filter((v) => v !== null),
        (value, x) => {
          const event = { detail: { f: value } };
          expect(matches({ detail: { f: [{ 'anything-but': [x] }] } }, event)).toBe(
            !matches({ detail: { f: [x] } }, event),
          );
        },
      ),
    );
  });

  it('numeric [">=", lo, "<", hi] matches exactly the numbers in [lo, hi)', () => {
    const n = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
    fc.assert(
      fc.property(n, n, n, (value, lo, hi) => {
        const event = { detail: { n: value } };
        expect(matches({ detail: { n: [{ numeric: ['>=', lo, '<', hi] }] } }, event)).toBe(
          lo <= value && value < hi,
        );
      }),
    );
  });

  it('an array of alternatives and $or are each the OR of their parts', () => {
    const leaf = fc.oneof(
      scalar,
      fc.record({ exists: fc.boolean() }),
      fc.record({ prefix: fc.string({ maxLength: 2 }) }),
      fc.record({ 'anything-but': scalar.filter((v) => v !== null) }),
    );
    fc.assert(
      fc.property(json, fc.array(key, { minLength: 1, maxLength: 2 }), leaf, leaf, (event, path, p, q) => {
        const either = matches(patternAt(path, [p]), event) || matches(patternAt(path, [q]), event);
        expect(matches(patternAt(path, [p, q]), event)).toBe(either);
        expect(matches({ $or: [patternAt(path, [p]), patternAt(path, [q])] }, event)).toBe(either);
      }),
    );
  });
});
