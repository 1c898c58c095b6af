import { describe, expect, it } from 'vitest';
import {
  compileSegment,
  InvalidSegmentError,
  SegmentDefinition,
  type SegmentIssue,
} from '../../src/core/segments';

async function issues(
  definition: unknown,
  options: Parameters<typeof compileSegment>[1] = {},
): Promise<SegmentIssue[]> {
  try {
    await compileSegment(definition, options);
  } catch (error) {
    if (error instanceof InvalidSegmentError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the definition to be refused');
}
const paths = async (definition: unknown, options?: Parameters<typeof compileSegment>[1]) =>
  (await issues(definition, options)).map((issue) => issue.path);

const example = {
  all: [
    { trait: { name: 'plan', op: 'eq', value: 'pro' } },
    { event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, within: { last: { days: 30 } } } },
    { not: { event: { name: 'Support Ticket Opened', within: { last: { weeks: 1 } } } } },
  ],
};

describe('compileSegment: definition → AST', () => {
  it('normalises the issue example, leaving relative windows relative', async () => {
    const ast = await compileSegment(example);
    expect(ast.root).toEqual({
      kind: 'all',
      children: [
        { kind: 'trait', path: ['plan'], test: { op: 'eq', value: 'pro' } },
        {
          kind: 'event',
          name: 'Order Completed',
          window: { from: { kind: 'ago', ms: 30 * 86_400_000 }, to: { kind: 'ago', ms: 0 } },
          where: [],
          count: { op: 'gte', value: 2 },
        },
        {
          kind: 'not',
          child: {
            kind: 'event',
            name: 'Support Ticket Opened',
            window: { from: { kind: 'ago', ms: 7 * 86_400_000 }, to: { kind: 'ago', ms: 0 } },
            where: [],
            count: { op: 'gte', value: 1 },
          },
        },
      ],
    });
    expect(ast.references).toEqual([]);
  });

  it('the SegmentDefinition schema takes the same language (for API request schemas)', () => {
    expect(SegmentDefinition.safeParse(example).success).toBe(true);
    expect(
      SegmentDefinition.safeParse({ all: [{ trait: { name: 'plan', op: 'bigger', value: 1 } }] }).success,
    ).toBe(false);
  });

  it('performed false is a count of 0; absolute times become ms; a one-child all and a double not fold away', async () => {
    const ast = await compileSegment({
      all: [
        {
          not: {
            not: {
              event: {
                name: 'Signed Up',
                performed: false,
                within: { from: '2026-11-01', to: '2026-11-02T12:00:00+01:00' },
                where: [{ property: 'plan.tier', op: 'in', value: ['a', 'b'] }],
              },
            },
          },
        },
      ],
    });
    expect(ast.root).toEqual({
      kind: 'event',
      name: 'Signed Up',
      window: {
        from: { kind: 'absolute', ms: Date.parse('2026-11-01T00:00:00Z') },
        to: { kind: 'absolute', ms: Date.parse('2026-11-02T11:00:00Z') },
      },
      where: [{ path: ['plan', 'tier'], test: { op: 'in', values: ['a', 'b'] } }],
      count: { op: 'eq', value: 0 },
    });
  });

  it('compiles every kind of condition', async () => {
    const ast = await compileSegment({
      any: [
        { trait: { name: 'age', op: 'between', value: [18, 30] } },
        { trait: { name: 'signup', op: 'after', value: { ago: { hours: 2, minutes: 30 } } } },
        { aggregate: { fn: 'avg', event: 'Order Completed', property: 'total', op: 'gt', value: 9.5 } },
        { first_seen: { op: 'before', value: '2026-01-01' } },
        { last_seen: { op: 'after', value: { ago: { days: 1 } } } },
        { consent: { category: 'Advertising' } },
      ],
    });
    expect(ast.root).toMatchObject({
      kind: 'any',
      children: [
        { kind: 'trait', test: { op: 'between', min: 18, max: 30 } },
        { kind: 'trait', test: { op: 'after', at: { kind: 'ago', ms: 150 * 60_000 } } },
        {
          kind: 'aggregate',
          fn: 'avg',
          event: 'Order Completed',
          path: ['total'],
          test: { op: 'gt', value: 9.5 },
        },
        {
          kind: 'seen',
          which: 'first',
          op: 'before',
          at: { kind: 'absolute', ms: Date.parse('2026-01-01') },
        },
        { kind: 'seen', which: 'last', op: 'after', at: { kind: 'ago', ms: 86_400_000 } },
        { kind: 'consent', category: 'Advertising' },
      ],
    });
  });
});

describe('compileSegment: errors name the JSON path of the bad node', () => {
  it('a bad operator deep inside', async () => {
    const found = await issues({
      all: [
        { trait: { name: 'plan', op: 'eq', value: 'pro' } },
        { consent: { category: 'Ads' } },
        { event: { name: 'Order Completed', where: [{ property: 'total', op: 'greater', value: 1 }] } },
      ],
    });
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('definition.all[2].event.where[0].op');
    expect(found[0]?.message).toMatch(/eq/);
  });

  it('every issue is reported, each with its own path, and the message lists them', async () => {
    const definition = {
      any: [
        { trait: { name: 'plan', op: 'gt', value: 'x' } },
        { trait: { name: 'plan', op: 'exists', value: 1 } },
        { event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, performed: false } },
        { event: { name: 'A', within: { last: { days: 0 } } } },
        { event: { name: 'A', within: { from: '2026-02-01', to: '2026-01-01' } } },
        { aggregate: { fn: 'median', event: 'A', property: 'p', op: 'gt', value: 1 } },
        { first_seen: { op: 'after', value: '2026-13-45' } },
        { trait: { name: 'signup', op: 'before', value: '2026-01-01T10:00:00' } },
        { trait: { name: 'age', op: 'between', value: [5, 1] } },
        { trait: { name: 'tags', op: 'in', value: [] } },
        {},
        { trait: { name: 'a' }, event: { name: 'b' } },
        { segment: { id: 'other' } },
      ],
    };
    expect(await paths(definition)).toEqual([
      'definition.any[0].trait.value',
      'definition.any[1].trait',
      'definition.any[2].event.count',
      'definition.any[3].event.within.last',
      'definition.any[4].event.within',
      'definition.any[5].aggregate.fn',
      'definition.any[6].first_seen.value',
      'definition.any[7].trait.value',
      'definition.any[8].trait.value',
      'definition.any[9].trait.value',
      'definition.any[10]',
      'definition.any[11]',
      'definition.any[12].segment.id',
    ]);
    await expect(compileSegment(definition)).rejects.toThrow(
      /^definition\.any\[0\]\.trait\.value: .*; definition\.any\[1\]/,
    );
  });

  it('not a condition at all', async () => {
    expect(await paths(null)).toEqual(['definition']);
    expect(await paths([])).toEqual(['definition']);
    expect(await paths({ all: [] })).toEqual(['definition.all']);
    expect(await paths({ or: [] })).toEqual(['definition']);
  });

  it('all / any / not nest to depth 10, not 11', async () => {
    const nest = (depth: number): unknown => {
      let node: unknown = { consent: { category: 'Ads' } };
      for (let i = 0; i < depth; i++) node = i % 2 === 0 ? { not: node } : { all: [node, node] };
      return node;
    };
    await expect(compileSegment(nest(10))).resolves.toBeDefined();
    const found = await issues(nest(11));
    expect(found[0]?.message).toMatch(/deeper than 10/);
    expect(found[0]?.path).toBe(`definition${'.not.all[0]'.repeat(5)}.not`);
  });

  it.each([
    ['trait', { trait: { name: "plan'--", op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'pl"an', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'plan;drop', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'plan/*x*/', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'plan\u2019', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'a..b', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: '__proto__', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: '1st', op: 'exists' } }, 'definition.trait.name'],
    ['trait', { trait: { name: 'a.b.c.d.e.f.g.h.i', op: 'exists' } }, 'definition.trait.name'],
    [
      'property',
      { event: { name: 'A', where: [{ property: '$.x', op: 'exists' }] } },
      'definition.event.where[0].property',
    ],
    ['event', { event: { name: "Order'; DROP TABLE events; --" } }, 'definition.event.name'],
    ['event', { event: { name: 'Order -- x\n' } }, 'definition.event.name'],
    ['event', { event: { name: 'Order \u201cCompleted\u201d' } }, 'definition.event.name'],
    ['event', { event: { name: ' Order' } }, 'definition.event.name'],
    ['event', { event: { name: 'x'.repeat(129) } }, 'definition.event.name'],
    [
      'aggregate',
      { aggregate: { fn: 'sum', event: 'A', property: 'to tal', op: 'gt', value: 1 } },
      'definition.aggregate.property',
    ],
    ['consent', { consent: { category: 'Ad-vertising' } }, 'definition.consent.category'],
    ['segment', { segment: { id: "a'b" } }, 'definition.segment.id'],
  ])('a %s name outside its pattern is refused: %j', async (_kind, definition, path) => {
    expect(await paths(definition)).toEqual([path]);
  });

  it('accepts the names the patterns are for', async () => {
    await expect(
      compileSegment({
        all: [
          { trait: { name: 'address.postal_code', op: 'exists' } },
          { event: { name: 'checkout:step-2 / v1.0', where: [{ property: '_meta.Source2', op: 'exists' }] } },
          { consent: { category: 'C0004' } },
        ],
      }),
    ).resolves.toBeDefined();
  });
});

describe('compileSegment: references to other segments', () => {
  const store: Record<string, unknown> = {
    buyers: { event: { name: 'Order Completed' } },
    'pro-buyers': {
      all: [{ trait: { name: 'plan', op: 'eq', value: 'pro' } }, { segment: { id: 'buyers' } }],
    },
    a: { segment: { id: 'b' } },
    b: { any: [{ consent: { category: 'Ads' } }, { segment: { id: 'c' } }] },
    c: { not: { segment: { id: 'a' } } },
    broken: { trait: { name: 'plan', op: 'nope' } },
  };
  const lookup = async (id: string) => store[id];

  it('inlines referenced definitions and lists every segment reached', async () => {
    const ast = await compileSegment({ segment: { id: 'pro-buyers' } }, { lookup });
    expect(ast.references).toEqual(['buyers', 'pro-buyers']);
    expect(ast.root).toMatchObject({
      kind: 'segment',
      id: 'pro-buyers',
      node: {
        kind: 'all',
        children: [{ kind: 'trait' }, { kind: 'segment', id: 'buyers', node: { kind: 'event' } }],
      },
    });
  });

  it('a cycle is refused, naming it', async () => {
    const found = await issues({ segment: { id: 'b' } }, { lookup, id: 'a' });
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('definition.segment.id');
    expect(found[0]?.message).toContain('a → b → c → a');
    const self = await issues(
      { all: [{ consent: { category: 'Ads' } }, { segment: { id: 'me' } }] },
      { lookup, id: 'me' },
    );
    expect(self[0]?.message).toContain('me → me');
  });

  it('an unknown or invalid referenced segment is an error at the reference', async () => {
    expect(await issues({ segment: { id: 'missing' } }, { lookup })).toEqual([
      { path: 'definition.segment.id', message: 'no segment "missing"' },
    ]);
    const found = await issues(
      { any: [{ consent: { category: 'Ads' } }, { segment: { id: 'broken' } }] },
      { lookup },
    );
    expect(found[0]?.path).toBe('definition.any[1].segment.id');
    expect(found[0]?.message).toMatch(/^segment "broken": definition\.trait\.op: /);
  });
});
