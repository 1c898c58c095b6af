// Only the Trino parser (the package's index loads every dialect's, several MB each, slow to transform).
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AudienceColumn,
  athenaUnload,
  audienceColumns,
  bindParams,
  type CompiledQuery,
  compileSegment,
  EXPORT_ID,
  EXPORT_MEMBER_COLUMNS,
  type ExportPlanRequest,
  exportFolder,
  MAX_AUDIENCE_COLUMNS,
  planExport,
  printAudienceQuery,
  type SegmentAst,
} from '../../src/core/segments';
import { DIALECTS, type DialectName } from '../../src/core/segments/dialects';

/**
 * The queries of an audience export (members with their columns, the audience file, the changes since
 * the previous export, the counts): golden SQL in both dialects, the rules every printed query keeps
 * (Athena's parses as Trino SQL, each dialect calls only its own functions, every placeholder is in a
 * WHERE clause and has its parameter, in order), and the checks of ids, column names and folders that
 * keep everything but allow-listed names out of the SQL text.
 */
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const DIALECT_NAMES = ['athena', 'duckdb'] as const;

const DEFINITION = {
  all: [
    { trait: { name: 'plan', op: 'eq', value: 'pro' } },
    { event: { name: 'Order Completed', within: { last: { days: 30 } } } },
  ],
};

let astPromise: Promise<SegmentAst> | undefined;
const ast = (): Promise<SegmentAst> => {
  astPromise ??= compileSegment(DEFINITION);
  return astPromise;
};
/** The same AST, for checks that throw synchronously. */
let compiledAst: SegmentAst;
beforeAll(async () => {
  compiledAst = await ast();
});

const FIRST: ExportPlanRequest = {
  segmentId: 'pro-buyers',
  exportId: 'x0000000002',
  identifiers: ['email', 'phone'],
  traits: ['plan', 'address'],
};
const SECOND: ExportPlanRequest = { ...FIRST, exportId: 'x0000000003', previousExportId: 'x0000000002' };

type Named = { name: string; dialect: DialectName; query: CompiledQuery };

async function planQueries(
  dialect: DialectName,
  request: ExportPlanRequest,
  label: string,
): Promise<Named[]> {
  const plan = planExport(await ast(), dialect, request);
  return (['members', 'audience', 'changes', 'counts'] as const).map((step) => ({
    name: `${label} ${step}`,
    dialect,
    query: plan[step],
  }));
}

async function everyQuery(): Promise<Named[]> {
  const all: Named[] = [];
  for (const dialect of DIALECT_NAMES) {
    all.push(...(await planQueries(dialect, FIRST, 'first export')));
    all.push(...(await planQueries(dialect, SECOND, 'second export')));
    all.push(
      ...(await planQueries(dialect, { ...FIRST, identifiers: [], traits: [] }, 'no columns')),
      ...(await planQueries(
        dialect,
        { ...FIRST, identifiers: ['user_id'], traits: ['select', 'from'] },
        'reserved words as columns',
      )),
    );
  }
  return all;
}

const UNLOAD_FOLDER = 's3://mosaic-exports/exports/segment_id=pro-buyers/export_id=x0000000003/members/';

async function golden(dialect: DialectName): Promise<string> {
  const sections: string[] = [];
  const plan = planExport(await ast(), dialect, SECOND);
  sections.push(
    `-- definition: ${JSON.stringify(DEFINITION)}\n-- request: ${JSON.stringify(SECOND)}\n` +
      `-- columns: ${JSON.stringify(plan.columns)}\n`,
  );
  for (const step of ['members', 'audience', 'changes', 'counts'] as const) {
    const query = plan[step];
    sections.push(
      `-- ${step}\n-- params at ${new Date(NOW).toISOString()}: ${JSON.stringify(bindParams(query.params, { now: NOW }))}\n` +
        `${query.sql};\n`,
    );
  }
  if (dialect === 'athena') {
    for (const step of ['members', 'changes'] as const) {
      sections.push(
        `-- ${step}, unloaded\n${athenaUnload(plan[step].sql, UNLOAD_FOLDER.replace('/members/', `/${step}/`))};\n`,
      );
    }
  }
  return sections.join('\n');
}

describe('export plan SQL', () => {
  it.each(DIALECT_NAMES)('golden %s SQL of the four export queries', async (dialect) => {
    await expect(await golden(dialect)).toMatchFileSnapshot(`./__snapshots__/segments-export.${dialect}.sql`);
  });

  it('every Athena query parses as Trino SQL and is one statement; UNLOAD wraps it exactly', {
    timeout: 60_000,
  }, async () => {
    const parser = new TrinoSQL();
    for (const { name, dialect, query } of await everyQuery()) {
      if (dialect !== 'athena') continue;
      expect(parser.validate(query.sql), name).toEqual([]);
      expect(query.sql.replace(/'(?:[^']|'')*'/g, "''"), name).not.toContain(';');
      // The Trino grammar has no UNLOAD (an Athena statement): the inner query is what it parses above,
      // and the wrapper is exactly this text.
      const unloaded = athenaUnload(query.sql, UNLOAD_FOLDER);
      expect(unloaded, name).toBe(
        `UNLOAD (\n${query.sql}\n) TO '${UNLOAD_FOLDER}' WITH (format = 'PARQUET', compression = 'SNAPPY')`,
      );
      const inner = unloaded.slice('UNLOAD (\n'.length, unloaded.lastIndexOf('\n) TO '));
      expect(parser.validate(inner), name).toEqual([]);
    }
  });

  it('the parser is not a no-op on these queries', async () => {
    const parser = new TrinoSQL();
    const plan = planExport(await ast(), 'athena', FIRST);
    expect(parser.validate(plan.counts.sql.replace('FULL OUTER JOIN', 'FULL OUTER')).length).toBeGreaterThan(
      0,
    );
    expect(parser.validate(planExport(await ast(), 'duckdb', FIRST).audience.sql).length).toBeGreaterThan(0);
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
    ]);
    let checked = 0;
    for (const { name, dialect, query } of await everyQuery()) {
      const sql = query.sql.replace(/'(?:[^']|'')*'/g, "''");
      const called = [...sql.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)]
        .map((match) => (match[1] ?? '').toLowerCase())
        .filter(
          (fn) =>
            !keywords.has(fn) &&
            !/^(links|profiles|members|trait|event|aggregate|seen|consent|col)(_\d+)?$/.test(fn),
        );
      for (const fn of called) {
        expect(DIALECTS[dialect].functions.has(fn), `${dialect} ${name}: ${fn}`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('every placeholder has its parameter, in order, and sits in a WHERE clause', async () => {
    const clause = /\b(SELECT|FROM|WHERE|ON|GROUP BY|ORDER BY|HAVING|JOIN|LIMIT)\b/g;
    for (const { name, dialect, query } of await everyQuery()) {
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

  it('parameters: the ids of this export and the previous one, and the identifier types in column order', async () => {
    for (const dialect of DIALECT_NAMES) {
      const plan = planExport(await ast(), dialect, SECOND);
      const bound = (query: CompiledQuery) => bindParams(query.params, { now: NOW });
      expect(bound(plan.audience)).toEqual(['pro-buyers', 'x0000000003']);
      expect(bound(plan.changes)).toEqual(['pro-buyers', 'x0000000003', 'pro-buyers', 'x0000000002']);
      expect(bound(plan.counts)).toEqual(['pro-buyers', 'x0000000003', 'pro-buyers', 'x0000000002']);
      // In text order: the segment's own parameters (in DuckDB the event's name and window in the scan
      // of events the conditions share, then, in both, in the event's CTE; then the trait value and the
      // count in the members' WHERE), then the identifier types of the column CTEs.
      const event = ['Order Completed', '2026-10-23', '2026-10-23 12:00:00.000', '2026-11-22 12:00:00.000'];
      expect(bound(plan.members)).toEqual([
        ...(dialect === 'duckdb' ? event : []),
        ...event,
        'pro',
        1,
        'email',
        'phone',
      ]);
      // A first export compares with no export: the empty id, which no partition has.
      const first = planExport(await ast(), dialect, FIRST);
      expect(bound(first.changes)).toEqual(['pro-buyers', 'x0000000002', 'pro-buyers', '']);
      expect(bound(first.counts)).toEqual(['pro-buyers', 'x0000000002', 'pro-buyers', '']);
    }
  });

  it('the audience file names its columns; members has profile_id then c0, c1, ... in column order', async () => {
    const plan = planExport(await ast(), 'duckdb', FIRST);
    expect(plan.columns).toEqual([
      { kind: 'identifier', name: 'email' },
      { kind: 'identifier', name: 'phone' },
      { kind: 'trait', name: 'plan' },
      { kind: 'trait', name: 'address' },
    ]);
    expect(plan.audience.sql.split('\n')[0]).toBe(
      'SELECT profile_id, c0 AS "email", c1 AS "phone", c2 AS "plan", c3 AS "address"',
    );
    expect(plan.members.sql).toMatch(
      /SELECT m\.profile_id,\n {2}col_0\.v AS "c0",\n {2}col_1\.v AS "c1",\n {2}CASE/,
    );
    expect(plan.members.sql).toMatch(/END AS "c3"\nFROM members m\n/);
    expect(plan.members.sql.trimEnd().endsWith('ORDER BY m.profile_id')).toBe(true);
    expect(EXPORT_MEMBER_COLUMNS).toHaveLength(MAX_AUDIENCE_COLUMNS);
    expect(EXPORT_MEMBER_COLUMNS[0]).toBe('c0');
    expect(EXPORT_MEMBER_COLUMNS.at(-1)).toBe('c99');
  });

  it('export_members can be qualified with its Glue database; bad table names are refused', async () => {
    const plan = planExport(await ast(), 'athena', SECOND, {
      exportMembers: { database: 'mosaic_exports', table: 'export_members' },
    });
    for (const step of ['audience', 'changes', 'counts'] as const) {
      expect(plan[step].sql).toContain('FROM "mosaic_exports"."export_members"');
      expect(plan[step].sql).not.toMatch(/FROM "export_members"/);
    }
    for (const bad of [
      { table: 'export_members"; DROP TABLE x; --' },
      { database: 'a b', table: 'export_members' },
      { database: "mosaic'", table: 'export_members' },
    ]) {
      expect(() => planExport(compiledAst, 'athena', SECOND, { exportMembers: bad })).toThrow(RangeError);
    }
  });
});

describe('export ids, folders and UNLOAD', () => {
  it('planExport refuses a bad segment id, export id or previous export id', async () => {
    for (const segmentId of ['', 'a b', "a'b", '-a', '_a', 'a"b', 'a/b', 'a'.repeat(65), 'ä']) {
      expect(() => planExport(compiledAst, 'duckdb', { ...FIRST, segmentId }), segmentId).toThrow(RangeError);
    }
    expect(
      planExport(compiledAst, 'duckdb', { ...FIRST, segmentId: 'a'.repeat(64) }).audience.params,
    ).toHaveLength(2);
    for (const exportId of [
      '',
      'x1234567',
      'X12345678',
      'y12345678',
      'x1234567A',
      "x12345678'",
      `x${'0'.repeat(41)}`,
      'x12345678 ',
    ]) {
      expect(() => planExport(compiledAst, 'duckdb', { ...FIRST, exportId }), exportId).toThrow(RangeError);
      expect(
        () => planExport(compiledAst, 'duckdb', { ...SECOND, previousExportId: exportId }),
        exportId,
      ).toThrow(RangeError);
    }
    for (const exportId of ['x12345678', `x${'0'.repeat(40)}`, 'xmhz0abc12def']) {
      expect(EXPORT_ID.test(exportId), exportId).toBe(true);
      expect(() => planExport(compiledAst, 'duckdb', { ...FIRST, exportId })).not.toThrow();
    }
  });

  it('exportFolder is Hive-style under the root, whatever trailing slashes it has', () => {
    expect(exportFolder('s3://bucket/exports', 'pro-buyers', 'x12345678')).toBe(
      's3://bucket/exports/segment_id=pro-buyers/export_id=x12345678',
    );
    expect(exportFolder('s3://bucket/exports//', 'pro-buyers', 'x12345678')).toBe(
      's3://bucket/exports/segment_id=pro-buyers/export_id=x12345678',
    );
    expect(exportFolder('/data/exports/', 'a_1', 'x12345678')).toBe(
      '/data/exports/segment_id=a_1/export_id=x12345678',
    );
  });

  it('exportFolder refuses ids that could leave the folder or break the path', () => {
    for (const [segmentId, exportId] of [
      ['../etc', 'x12345678'],
      ['a/b', 'x12345678'],
      ['a b', 'x12345678'],
      ["a'", 'x12345678'],
      ['', 'x12345678'],
      ['ok', '../x12345678'],
      ['ok', 'x1234'],
      ['ok', "x12345678'"],
      ['ok', 'x12345678/..'],
    ] as const) {
      expect(
        () => exportFolder('s3://bucket/exports', segmentId, exportId),
        `${segmentId} ${exportId}`,
      ).toThrow(RangeError);
    }
  });

  it('athenaUnload takes only a plain s3:// folder', () => {
    const sql = 'SELECT 1';
    expect(athenaUnload(sql, 's3://bucket/a/segment_id=s/export_id=x12345678/members/')).toBe(
      "UNLOAD (\nSELECT 1\n) TO 's3://bucket/a/segment_id=s/export_id=x12345678/members/' WITH (format = 'PARQUET', compression = 'SNAPPY')",
    );
    for (const folder of [
      "s3://bucket/a'b/",
      "s3://bucket/a/') TO 's3://evil/",
      's3://bucket/a b/',
      's3://bucket/a"b/',
      's3://bucket/a’b/',
      's3://bucket/a\nb/',
      's3://bucket/a/\n',
      's3://bucket/a;/',
      's3://bucket/a', // not a folder
      's3://Bucket/a/',
      's3://b/a/', // bucket names have at least 3 characters
      'S3://bucket/a/',
      'https://bucket.s3.amazonaws.com/a/',
      '/tmp/exports/',
      'bucket/a/',
      '',
    ]) {
      expect(() => athenaUnload(sql, folder), JSON.stringify(folder)).toThrow(RangeError);
    }
  });
});

describe('audience columns', () => {
  it('identifier columns first, then trait columns, in the order asked', () => {
    expect(audienceColumns(['phone', 'email'], ['plan'])).toEqual([
      { kind: 'identifier', name: 'phone' },
      { kind: 'identifier', name: 'email' },
      { kind: 'trait', name: 'plan' },
    ]);
    expect(audienceColumns([], [])).toEqual([]);
  });

  it('refuses a name twice, ignoring case, and profile_id in any case', () => {
    for (const [identifiers, traits] of [
      [['email', 'email'], []],
      [['email'], ['email']],
      [['email'], ['Email']],
      [[], ['plan', 'PLAN']],
      [['profile_id'], []],
      [[], ['profile_id']],
      [[], ['Profile_ID']],
    ] as const) {
      expect(() => audienceColumns(identifiers, traits), JSON.stringify([identifiers, traits])).toThrow(
        /appears twice/,
      );
    }
  });

  it('refuses names that are not plain SQL names', () => {
    for (const bad of [
      '',
      'a b',
      'a"b',
      "a'b",
      'a’b',
      'a“b”',
      'plan--',
      'plan;',
      'a.b',
      'a-b',
      '1plan',
      'é',
      'plan\n',
      'a'.repeat(65),
    ]) {
      expect(() => audienceColumns([bad], []), JSON.stringify(bad)).toThrow(RangeError);
      expect(() => audienceColumns([], [bad]), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(audienceColumns(['a'.repeat(64)], ['_x9'])).toHaveLength(2);
  });

  it(`at most ${MAX_AUDIENCE_COLUMNS} columns`, () => {
    const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    expect(audienceColumns(names(50, 'id'), names(50, 't'))).toHaveLength(100);
    expect(() => audienceColumns(names(51, 'id'), names(50, 't'))).toThrow(RangeError);
    expect(() => audienceColumns([], names(101, 't'))).toThrow(RangeError);
    const tooMany: AudienceColumn[] = names(101, 't').map((name) => ({ kind: 'trait', name }));
    expect(() => printAudienceQuery(compiledAst, 'duckdb', tooMany)).toThrow(RangeError);
  });
});

describe('nothing but allow-listed names reaches the SQL text', () => {
  const HOSTILE = [
    "x'; DROP TABLE events; --",
    'x" AS y FROM events; --',
    "x') OR 1=1 --",
    'x’ OR ‘1’=‘1',
    'email_$1',
    'email?',
  ];

  it('identifier types are parameters: a hostile type is bound, never printed', async () => {
    for (const dialect of DIALECT_NAMES) {
      for (const hostile of HOSTILE) {
        // printAudienceQuery directly: audienceColumns would refuse the name before it got here.
        const query = printAudienceQuery(await ast(), dialect, [{ kind: 'identifier', name: hostile }]);
        expect(query.sql, hostile).not.toContain(hostile);
        expect(query.params.at(-1)).toEqual({ type: 'varchar', value: hostile });
      }
      const query = printAudienceQuery(await ast(), dialect, [{ kind: 'identifier', name: 'email' }]);
      expect(query.sql).not.toMatch(/email/);
    }
  });

  it('trait names must match the path pattern to be printed', async () => {
    for (const dialect of DIALECT_NAMES) {
      for (const hostile of [...HOSTILE, 'address.city', '', 'a'.repeat(65)]) {
        expect(
          () => printAudienceQuery(compiledAst, dialect, [{ kind: 'trait', name: hostile }]),
          hostile,
        ).toThrow(RangeError);
      }
      const query = printAudienceQuery(await ast(), dialect, [{ kind: 'trait', name: 'company' }]);
      expect(query.sql).toContain("'$.company'");
      expect(query.sql).toContain("'$.traits.company'");
    }
  });

  it('ids are parameters of the export queries, and column names are allow-listed before they are printed', async () => {
    for (const dialect of DIALECT_NAMES) {
      const plan = planExport(await ast(), dialect, SECOND);
      for (const step of ['audience', 'changes', 'counts'] as const) {
        expect(plan[step].sql).not.toContain('pro-buyers');
        expect(plan[step].sql).not.toContain('x0000000003');
        expect(plan[step].sql).not.toContain('x0000000002');
      }
      for (const hostile of HOSTILE) {
        expect(() => planExport(compiledAst, dialect, { ...FIRST, identifiers: [hostile] })).toThrow(
          RangeError,
        );
        expect(() => planExport(compiledAst, dialect, { ...FIRST, traits: [hostile] })).toThrow(RangeError);
      }
    }
  });
});
