// Only the Trino parser (the package's index loads every dialect's, several MB each, slow to transform).
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino';
import { describe, expect, it } from 'vitest';
import {
  athenaExecutionParameters,
  bindParams,
  type CompiledQuery,
  compileSegment,
  printMembersQuery,
  printPreviewQuery,
  type SegmentAst,
} from '../../src/core/segments';
import {
  ATHENA_ONLY_FUNCTIONS,
  DIALECTS,
  type DialectName,
  DUCKDB_ONLY_FUNCTIONS,
} from '../../src/core/segments/dialects';

/**
 * Golden SQL for every operator in both dialects (readable files beside this test), and the rules every
 * printed query keeps: Athena's parses as Trino SQL, each dialect calls only its own functions, every
 * placeholder sits in a WHERE clause (Athena allows them nowhere else) and has its parameter.
 */
const trait = (op: string, value?: unknown, name = 'plan') => ({
  trait: value === undefined ? { name, op } : { name, op, value },
});
const orders = (extra: object = {}) => ({ event: { name: 'Order Completed', ...extra } });
const aggregate = (fn: string, extra: object = {}) => ({
  aggregate: { fn, event: 'Order Completed', property: 'total', op: 'gte', value: 100, ...extra },
});
const property = (op: string, value?: unknown) =>
  orders({
    where: [value === undefined ? { property: 'currency', op } : { property: 'currency', op, value }],
  });

const lookup = (id: string) => (id === 'buyers' ? orders({ within: { last: { days: 30 } } }) : undefined);

const CASES: Readonly<Record<string, unknown>> = {
  'issue example': {
    all: [
      trait('eq', 'pro'),
      orders({ count: { op: 'gte', value: 2 }, within: { last: { days: 30 } } }),
      { not: { event: { name: 'Support Ticket Opened', within: { last: { days: 7 } } } } },
    ],
  },
  'trait eq string': trait('eq', 'pro'),
  'trait eq number': trait('eq', 42, 'age'),
  'trait eq boolean': trait('eq', true, 'vip'),
  'trait neq': trait('neq', 'pro'),
  'trait in strings': trait('in', ['pro', 'team']),
  'trait in numbers': trait('in', [1, 2.5], 'tier'),
  'trait not_in': trait('not_in', ['free']),
  'trait contains': trait('contains', '@example.com', 'email'),
  'trait starts_with': trait('starts_with', '+44', 'phone'),
  'trait exists': trait('exists'),
  'trait not_exists': trait('not_exists'),
  'trait gt': trait('gt', 18, 'age'),
  'trait gte': trait('gte', 18, 'age'),
  'trait lt': trait('lt', 65, 'age'),
  'trait lte': trait('lte', 65, 'age'),
  'trait between': trait('between', [18, 65], 'age'),
  'trait before absolute': trait('before', '2026-01-01', 'signup'),
  'trait after relative': trait('after', { ago: { days: 30 } }, 'signup'),
  'trait nested path': trait('eq', 'Paris', 'address.city'),
  'event performed': orders(),
  'event not performed': orders({ performed: false }),
  'event count eq': orders({ count: { op: 'eq', value: 3 } }),
  'event count neq': orders({ count: { op: 'neq', value: 3 } }),
  'event count gt': orders({ count: { op: 'gt', value: 3 } }),
  'event count lt': orders({ count: { op: 'lt', value: 3 } }),
  'event count lte': orders({ count: { op: 'lte', value: 3 } }),
  'event count between': orders({ count: { op: 'between', value: [2, 5] } }),
  'event within last minutes': orders({ within: { last: { minutes: 90 } } }),
  'event within last hours': orders({ within: { last: { hours: 6 } } }),
  'event within dates': orders({ within: { from: '2026-11-01', to: '2026-11-30T23:59:59Z' } }),
  'property eq': property('eq', 'EUR'),
  'property neq': property('neq', 'EUR'),
  'property in': property('in', ['EUR', 'USD']),
  'property not_in': property('not_in', ['EUR']),
  'property contains': property('contains', 'U'),
  'property starts_with': property('starts_with', 'E'),
  'property exists': property('exists'),
  'property not_exists': property('not_exists'),
  'property gt': orders({ where: [{ property: 'total', op: 'gt', value: 10 }] }),
  'property between': orders({ where: [{ property: 'total', op: 'between', value: [10, 20] }] }),
  'property after': orders({
    where: [{ property: 'shipped_at', op: 'after', value: { ago: { hours: 1 } } }],
  }),
  'aggregate sum': aggregate('sum'),
  'aggregate avg': aggregate('avg', { within: { last: { days: 90 } } }),
  'aggregate min': aggregate('min', { op: 'lt', value: 5 }),
  'aggregate max': aggregate('max', { op: 'between', value: [1, 2] }),
  'aggregate count_distinct': aggregate('count_distinct', {
    property: 'sku',
    op: 'gte',
    value: 3,
    where: [{ property: 'currency', op: 'eq', value: 'EUR' }],
  }),
  'first_seen after': { first_seen: { op: 'after', value: { ago: { days: 7 } } } },
  'last_seen before': { last_seen: { op: 'before', value: '2026-06-01T00:00:00Z' } },
  consent: { consent: { category: 'Advertising' } },
  'segment reference': { segment: { id: 'buyers' } },
  'all any not': {
    any: [{ all: [trait('exists'), { not: trait('eq', 'free') }] }, { consent: { category: 'Ads' } }],
  },
  'the same condition twice is computed once': { any: [orders(), { not: orders() }] },
};

const compiled = new Map<string, SegmentAst>();
async function astOf(name: string): Promise<SegmentAst> {
  const existing = compiled.get(name);
  if (existing !== undefined) return existing;
  const ast = await compileSegment(CASES[name], { lookup });
  compiled.set(name, ast);
  return ast;
}

const NOW = Date.parse('2026-11-22T12:00:00.000Z');

async function golden(dialect: DialectName): Promise<string> {
  const sections: string[] = [];
  for (const name of Object.keys(CASES)) {
    const query = printMembersQuery(await astOf(name), dialect);
    sections.push(
      `-- ${name}: ${JSON.stringify(CASES[name])}\n` +
        `-- params at ${new Date(NOW).toISOString()}: ${JSON.stringify(bindParams(query.params, { now: NOW }))}\n` +
        `${query.sql};\n`,
    );
  }
  return sections.join('\n');
}

async function everyQuery(): Promise<{ name: string; dialect: DialectName; query: CompiledQuery }[]> {
  const all: { name: string; dialect: DialectName; query: CompiledQuery }[] = [];
  for (const name of Object.keys(CASES)) {
    for (const dialect of ['athena', 'duckdb'] as const) {
      const ast = await astOf(name);
      all.push({ name, dialect, query: printMembersQuery(ast, dialect) });
      all.push({ name: `${name} (preview)`, dialect, query: printPreviewQuery(ast, dialect) });
    }
  }
  return all;
}

describe('segment SQL', () => {
  it.each(['athena', 'duckdb'] as const)('golden %s SQL per operator', async (dialect) => {
    await expect(await golden(dialect)).toMatchFileSnapshot(`./__snapshots__/segments-sql.${dialect}.sql`);
  });

  it('every Athena query parses as Trino SQL and is one statement', { timeout: 60_000 }, async () => {
    const parser = new TrinoSQL();
    for (const { name, dialect, query } of await everyQuery()) {
      if (dialect !== 'athena' || (name.endsWith('(preview)') && name !== 'issue example (preview)'))
        continue;
      expect(parser.validate(query.sql), name).toEqual([]);
      expect(query.sql.replace(/'(?:[^']|'')*'/g, "''"), name).not.toContain(';');
    }
  });

  it('the Trino parser catches what it should (it is not a no-op)', () => {
    const parser = new TrinoSQL();
    expect(parser.validate('SELECT profile_id FROM profiles WHERE').length).toBeGreaterThan(0);
    expect(parser.validate("SELECT json_extract_string(v, '$') FROM t WHERE x = $1").length).toBeGreaterThan(
      0,
    );
  });

  it('each dialect calls only the functions on its own list', async () => {
    const keywords = new Set([
      'where',
      'join',
      'in',
      'as',
      'over',
      'from',
      'and',
      'or',
      'not',
      'on',
      'when',
      'then',
      'else',
      'between',
    ]);
    for (const { name, dialect, query } of await everyQuery()) {
      const called = [...query.sql.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)]
        .map((match) => (match[1] ?? '').toLowerCase())
        .filter(
          (fn) =>
            !keywords.has(fn) &&
            !/^(links|profiles|members|trait|event|aggregate|seen|consent)(_\d+)?$/.test(fn),
        );
      for (const fn of called)
        expect(DIALECTS[dialect].functions.has(fn), `${dialect} ${name}: ${fn}`).toBe(true);
    }
    for (const fn of DUCKDB_ONLY_FUNCTIONS) expect(DIALECTS.athena.functions.has(fn)).toBe(false);
    for (const fn of ATHENA_ONLY_FUNCTIONS) expect(DIALECTS.duckdb.functions.has(fn)).toBe(false);
  });

  it('every placeholder has its parameter and sits in a WHERE clause', async () => {
    const clause = /\b(SELECT|FROM|WHERE|ON|GROUP BY|ORDER BY|HAVING|JOIN|LIMIT)\b/g;
    for (const { name, dialect, query } of await everyQuery()) {
      // String literals (JSON paths, the ISO-8601 pattern) may hold '?' and '$'.
      const sql = query.sql.replace(/'(?:[^']|'')*'/g, "''");
      const placeholders = [...sql.matchAll(dialect === 'athena' ? /\?/g : /\$(\d+)/g)];
      expect(placeholders.length, name).toBe(query.params.length);
      if (dialect === 'duckdb') {
        expect(
          placeholders.map((match) => Number(match[1])),
          name,
        ).toEqual(placeholders.map((_, i) => i + 1));
      }
      for (const placeholder of placeholders) {
        const before = sql.slice(0, placeholder.index);
        const last = [...before.matchAll(clause)].at(-1)?.[1];
        expect(last, `${dialect} ${name} at ${placeholder.index}`).toBe('WHERE');
      }
    }
  });

  it('a window prunes partitions: dt from the day of its start, less the slack for clamped timestamps', async () => {
    const ast = await compileSegment(orders({ within: { last: { days: 30 } } }));
    for (const dialect of ['athena', 'duckdb'] as const) {
      const query = printMembersQuery(ast, dialect);
      expect(query.sql).toMatch(/e\."dt" >= (\?|\$2)\n/);
      expect(query.params.filter((param) => param.type === 'dt')).toHaveLength(1);
    }
    const query = printMembersQuery(ast, 'duckdb');
    const midnight = Date.parse('2026-11-22T00:30:00Z');
    expect(bindParams(query.params, { now: NOW })).toEqual([
      'Order Completed',
      '2026-10-23',
      '2026-10-23 12:00:00.000',
      '2026-11-22 12:00:00.000',
      1,
    ]);
    expect(bindParams(query.params, { now: midnight })[1]).toBe('2026-10-22');
    expect(bindParams(query.params, { now: midnight, partitionSlackMs: 0 })[1]).toBe('2026-10-23');
    const unbounded = printMembersQuery(await compileSegment(orders()), 'duckdb');
    expect(unbounded.sql).not.toMatch(/"dt"/);
  });

  it('conditions that read events row by row share one scan of events, joined to profiles once', async () => {
    const ast = await compileSegment({
      any: [
        trait('eq', 'pro'),
        { consent: { category: 'Ads' } },
        aggregate('sum', { within: { last: { days: 14 } } }),
        orders({ within: { last: { days: 30 } }, where: [{ property: 'currency', op: 'eq', value: 'EUR' }] }),
        { last_seen: { op: 'after', value: { ago: { days: 3 } } } },
      ],
    });
    const { sql } = printMembersQuery(ast, 'duckdb');
    // The scan, and first / last seen (which reads every event, reduced per pair of identifiers).
    expect(sql.match(/FROM "events" e/g)).toHaveLength(2);
    expect(sql.match(/LEFT JOIN links lu/g)).toHaveLength(2);
    expect(sql.match(/FROM scan e/g)).toHaveLength(4);
    // Traits and consent without a window: the scan reads every partition; each window keeps its own.
    expect(sql).toMatch(/\n {2}WHERE \(\(\(strpos/);
    // One condition reads events directly, as before.
    const single = printMembersQuery(await compileSegment(trait('eq', 'pro')), 'duckdb').sql;
    expect(single).not.toContain('scan');
    // Trino inlines a CTE into each use, so Athena's conditions each read events, with their own predicates.
    const athena = printMembersQuery(ast, 'athena').sql;
    expect(athena).not.toContain('scan');
    expect(athena.match(/FROM "events" e/g)).toHaveLength(5);
  });

  it('a shared scan of windowed conditions reads the partitions of the widest window only', async () => {
    const ast = await compileSegment({
      all: [
        { event: { name: 'Added to Cart', within: { last: { days: 14 } } } },
        orders({ performed: false, within: { last: { days: 7 } } }),
      ],
    });
    const query = printMembersQuery(ast, 'duckdb');
    expect(query.sql).toMatch(/\n {2}WHERE e\."dt" >= \$1\n {4}AND \(\(e\."type" = 'track'/);
    expect(bindParams(query.params, { now: NOW }).slice(0, 2)).toEqual(['2026-11-08', 'Added to Cart']);
    // Relative and absolute starts compare only once bound: both bound the scan.
    const mixed = await compileSegment({
      any: [
        orders({ within: { last: { days: 7 } } }),
        orders({ within: { from: '2026-11-01', to: '2026-11-30T23:59:59Z' } }),
      ],
    });
    const both = printMembersQuery(mixed, 'duckdb');
    expect(both.sql).toMatch(/\n {2}WHERE \(e\."dt" >= \$1 OR e\."dt" >= \$2\)\n/);
    expect(bindParams(both.params, { now: NOW }).slice(0, 2)).toEqual(['2026-11-15', '2026-10-31']);
  });

  it('the SQL of a definition does not depend on now; only the parameters do', async () => {
    const ast = await astOf('issue example');
    const query = printMembersQuery(ast, 'athena');
    expect(printMembersQuery(ast, 'athena')).toEqual(query);
    expect(athenaExecutionParameters(query.params, { now: NOW })).not.toEqual(
      athenaExecutionParameters(query.params, { now: NOW + 86_400_000 }),
    );
  });

  it('tables can be qualified with their Glue database', async () => {
    const query = printMembersQuery(await astOf('event performed'), 'athena', {
      tables: {
        events: { database: 'mosaic_lake', table: 'events' },
        identityLinks: { database: 'mosaic_lake', table: 'identity_links' },
      },
    });
    expect(query.sql).toContain('FROM "mosaic_lake"."events" e');
    expect(query.sql).toContain('FROM "mosaic_lake"."identity_links"');
    expect(() =>
      printMembersQuery(compiled.get('event performed') as SegmentAst, 'athena', {
        tables: { events: { table: 'events"; DROP' }, identityLinks: { table: 'identity_links' } },
      }),
    ).toThrow(/not an allowed SQL identifier/);
  });
});
