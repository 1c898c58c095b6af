import { describe, expect, it } from 'vitest';
import {
  checkTemplate,
  MAX_TEMPLATE_CHARS,
  MAX_TEMPLATE_DEPTH,
  type PlaceholderKind,
  renderTemplate,
} from '../../src/core/activation/template';
import type { JsonValue } from '../../src/core/profile/profile';

const names = new Map<string, PlaceholderKind>([
  ['segmentId', 'scalar'],
  ['batch.index', 'scalar'],
  ['members', 'any'],
]);
const values: Record<string, JsonValue> = { segmentId: 'vip', 'batch.index': 2, members: [{ id: 1 }] };
const lookup = (name: string) => (Object.hasOwn(values, name) ? values[name] : undefined);

describe('payload templates', () => {
  it('a whole-string placeholder keeps the value’s JSON type; embedded ones become text', () => {
    expect(
      renderTemplate(
        {
          a: '{{ members }}',
          b: '{{batch.index}}',
          c: 'part {{batch.index}} of {{segmentId}}',
          d: [1, '{{segmentId}}'],
        },
        lookup,
      ),
    ).toEqual({ a: [{ id: 1 }], b: 2, c: 'part 2 of vip', d: [1, 'vip'] });
  });

  it('a missing value: property left out, array element null, empty text', () => {
    expect(renderTemplate({ a: '{{nope}}', b: ['{{nope}}'], c: 'x{{nope}}y' }, lookup)).toEqual({
      b: [null],
      c: 'xy',
    });
  });

  it('does not change the template', () => {
    const template = { a: '{{segmentId}}', b: ['{{members}}'] };
    const copy = structuredClone(template);
    renderTemplate(template, lookup);
    expect(template).toEqual(copy);
  });

  it('substituted values are never rendered again (no injection through values)', () => {
    const evil = (name: string) => (name === 'segmentId' ? '{{members}}' : lookup(name));
    expect(renderTemplate({ a: 'x {{segmentId}}', b: '{{segmentId}}' }, evil)).toEqual({
      a: 'x {{members}}',
      b: '{{members}}',
    });
  });

  it('checks: a clean template has no problems', () => {
    expect(
      checkTemplate({ list: '{{segmentId}}', m: '{{members}}', n: 3, t: true, z: null }, names, ['members']),
    ).toEqual([]);
  });

  it('checks depth and size', () => {
    let deep: unknown = '{{members}}';
    for (let i = 0; i <= MAX_TEMPLATE_DEPTH; i++) deep = [deep];
    expect(checkTemplate(deep, names).some((p) => p.message.includes('nested deeper'))).toBe(true);
    expect(checkTemplate({ m: '{{members}}', pad: 'x'.repeat(MAX_TEMPLATE_CHARS) }, names)).toEqual([
      { path: [], message: `a template holds at most ${MAX_TEMPLATE_CHARS} characters as JSON` },
    ]);
  });

  it('names the path of each problem', () => {
    expect(checkTemplate({ a: [{ b: '{{x}}' }] }, names)).toEqual([
      { path: ['a', 0, 'b'], message: 'unknown placeholder {{x}} (known: batch.index, members, segmentId)' },
    ]);
  });
});
