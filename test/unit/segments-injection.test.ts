import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  athenaExecutionParameters,
  bindParams,
  compileSegment,
  InvalidSegmentError,
  printMembersQuery,
} from '../../src/core/segments';
import { type TestLake, writeTestLake } from '../support/segments-lake';

/**
 * No text of a definition becomes SQL: names outside their patterns are refused, and values —
 * whatever they hold — only ever travel as parameters.
 */
const NASTY = [
  "'; DROP TABLE events; --",
  "O'Brien",
  "x' OR '1'='1",
  '"; SELECT 1; --',
  '/* comment */',
  '-- comment',
  'back\\slash\\',
  'new\nline',
  '\u2019\u2018\u201c\u201d',
  '$1 ? :name',
  "''",
  'Ω≈ç√∫ 🎉',
];

const definitionsWith = (value: string) => [
  { trait: { name: 'nick', op: 'eq', value } },
  { trait: { name: 'nick', op: 'in', value: [value, 'other'] } },
  { trait: { name: 'nick', op: 'contains', value: value || 'x' } },
  { trait: { name: 'nick', op: 'starts_with', value: value || 'x' } },
  { event: { name: 'Order Completed', where: [{ property: 'note', op: 'neq', value }] } },
];

describe('injection: names', () => {
  const names = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(...NASTY, 'plan"', 'plan;', 'plan--', 'plan/*', 'plan\u2019', 'pl an', 'plan\u0000'),
  );
  it('a trait, property or consent name outside its pattern is refused; one inside only reaches SQL as a JSON path', async () => {
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        for (const definition of [
          { trait: { name, op: 'exists' } },
          { event: { name: 'A', where: [{ property: name, op: 'exists' }] } },
          { consent: { category: name } },
        ]) {
          let sql: string;
          try {
            sql = printMembersQuery(await compileSegment(definition), 'athena').sql;
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidSegmentError);
            continue;
          }
          expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_.]*$/);
          expect(sql).toContain(`.${name}'`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('an event name or segment id outside its pattern is refused', async () => {
    for (const name of [...NASTY, 'Order"Completed', 'Order;', 'Order\u201cx\u201d', 'a\tb']) {
      await expect(compileSegment({ event: { name } })).rejects.toBeInstanceOf(InvalidSegmentError);
      await expect(compileSegment({ segment: { id: name } }, { lookup: () => ({}) })).rejects.toBeInstanceOf(
        InvalidSegmentError,
      );
    }
  });

  it('a value may not hold NUL (Athena literals cannot)', async () => {
    await expect(
      compileSegment({ trait: { name: 'nick', op: 'eq', value: 'a\u0000b' } }),
    ).rejects.toBeInstanceOf(InvalidSegmentError);
  });
});

describe('injection: values are only ever parameters', () => {
  it('the SQL text is the same whatever the values hold; the values are the parameters, unchanged', async () => {
    const plain = await Promise.all(definitionsWith('plain').map((d) => compileSegment(d)));
    await fc.assert(
      fc.asyncProperty(
        fc
          .oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom(...NASTY))
          .filter((value) => !value.includes('\u0000')),
        async (value) => {
          const definitions = definitionsWith(value);
          for (const [i, definition] of definitions.entries()) {
            const ast = await compileSegment(definition);
            for (const dialect of ['athena', 'duckdb'] as const) {
              const query = printMembersQuery(ast, dialect);
              expect(query.sql).toBe(printMembersQuery(plain[i] as never, dialect).sql);
              expect(bindParams(query.params, { now: 0 })).toContain(
                i === 2 || i === 3 ? value || 'x' : value,
              );
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('Athena execution parameters are single string literals that Trino reads back as the value', () => {
    const parser = new TrinoSQL();
    const values = [
      ...NASTY,
      ...fc.sample(fc.string({ unit: 'binary', maxLength: 20 }), { numRuns: 30, seed: 7 }),
    ].filter((value) => !value.includes('\u0000'));
    const literals = athenaExecutionParameters(
      values.map((value) => ({ type: 'varchar' as const, value })),
      { now: 0 },
    );
    for (const [i, literal] of literals.entries()) {
      const value = values[i] as string;
      expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
      expect(literal.slice(1, -1).replaceAll("''", "'")).toBe(value);
      // No lone quote inside: the literal cannot end early.
      expect(literal.slice(1, -1).replaceAll("''", '')).not.toContain("'");
      expect(parser.validate(`SELECT profile_id FROM t WHERE v = ${literal}`)).toEqual([]);
    }
  });

  it('numbers and times go to Athena as quoted text too, cast in the SQL', async () => {
    const query = printMembersQuery(
      await compileSegment({
        all: [
          { trait: { name: 'age', op: 'gt', value: -1.5e-7 } },
          { event: { name: 'A', within: { last: { days: 1 } } } },
        ],
      }),
      'athena',
    );
    expect(query.sql).toContain('CAST(? AS DOUBLE)');
    expect(query.sql).toContain('CAST(? AS TIMESTAMP)');
    expect(athenaExecutionParameters(query.params, { now: Date.parse('2026-11-22T12:00:00Z') })).toEqual([
      "'A'",
      "'2026-11-21'",
      "'2026-11-21 12:00:00.000'",
      "'2026-11-22 12:00:00.000'",
      "'-1.5e-7'",
      "'1'",
    ]);
  });
});

describe('injection: hostile values stored in the lake and asked for', () => {
  let lake: TestLake;
  beforeAll(async () => {
    lake = await writeTestLake(
      NASTY.map((nick, i) => ({
        messageId: `m-${i}`,
        type: 'identify' as const,
        userId: `u-${i}`,
        timestamp: '2026-11-20T10:00:00.000Z',
        traits: { nick },
      })),
      NASTY.map((_, i) => ({
        id_type: 'user_id',
        id_value: `u-${i}`,
        profile_id: `p-${String(i).padStart(2, '0')}`,
        linked_at: '2026-11-20T10:00:00.000Z',
      })),
    );
  });
  afterAll(async () => {
    await lake?.close();
  });

  it('each value matches exactly its own person, and the lake is unharmed', async () => {
    for (const [i, nick] of NASTY.entries()) {
      const query = printMembersQuery(
        await compileSegment({ trait: { name: 'nick', op: 'eq', value: nick } }),
        'duckdb',
      );
      const rows = await lake.rows(
        query.sql,
        bindParams(query.params, { now: Date.parse('2026-11-22T00:00:00Z') }),
      );
      expect(rows.map((row) => row.profile_id)).toEqual([`p-${String(i).padStart(2, '0')}`]);
    }
    expect(await lake.rows('SELECT count(*)::INTEGER AS n FROM events')).toEqual([{ n: NASTY.length }]);
  });
});
