import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { sqlStringLiteral } from '../src/adapters/local/lake-sql';
import {
  type BoundValue,
  bindParams,
  compileSegment,
  evaluateMembers,
  printMembersQuery,
  printPreviewQuery,
  type ReferenceEventRow,
  type ReferenceLinkRow,
  type SegmentAst,
} from '../src/core/segments';
import { cachedSegmentsLake, type SegmentsLake, type SegmentsLakeManifest } from './segments-lake';
import { ascending, nearestRank } from './stats';

/**
 * Issue #4's benchmark: five representative segments previewed on DuckDB over a 10,000,000-event lake
 * (`segments-lake.ts`), compiled and bound exactly as the product runs them (`compileSegment`,
 * `printPreviewQuery(ast, 'duckdb')`, `bindParams`, views over `read_parquet` with hive partitioning).
 * Each run opens a new DuckDB instance (no DuckDB cache carried over; the OS page cache is warm after
 * a first, unrecorded run) with as many threads as cores. Measured per run: the query's wall time,
 * the bytes the process read from files while it ran (`rchar` of /proc/self/io: every read() and
 * pread() DuckDB made, served from disk or page cache alike), and RSS sampled every 20 ms. "Without
 * pruning" binds the same query with a partition slack so large that `dt >= ?` admits every partition
 * (row groups outside a window are still skipped by their `timestamp` statistics, which is what the
 * comparison shows).
 * Then every segment's members are checked against the reference evaluator on a 1 % sample of profiles.
 */

export interface SegmentsBenchOptions {
  /** Recorded preview runs per segment (after one unrecorded warm-up). */
  readonly runs: number;
  /** Recorded runs per segment with pruning defeated. */
  readonly unprunedRuns: number;
  /** Profiles sampled for the reference check: those with `hash(profile_id) % sampleModulo = 0`. */
  readonly sampleModulo: number;
}

export const SEGMENTS_BENCH_DEFAULTS: SegmentsBenchOptions = { runs: 5, unprunedRuns: 2, sampleModulo: 100 };

/** The five segments: definitions as a user writes them; `lookup` resolves references between them. */
export const BENCH_SEGMENTS: ReadonlyArray<{ id: string; title: string; definition: unknown }> = [
  {
    id: 'pro-buyers',
    title: 'plan is pro and ≥ 2 orders in the last 30 days',
    definition: {
      all: [
        { trait: { name: 'plan', op: 'eq', value: 'pro' } },
        {
          event: {
            name: 'Order Completed',
            count: { op: 'gte', value: 2 },
            within: { last: { days: 30 } },
          },
        },
      ],
    },
  },
  {
    id: 'cart-abandoners',
    title: 'added to cart in the last 14 days, no order in the last 7',
    definition: {
      all: [
        { event: { name: 'Added to Cart', within: { last: { days: 14 } } } },
        { event: { name: 'Order Completed', performed: false, within: { last: { days: 7 } } } },
      ],
    },
  },
  {
    id: 'high-spenders',
    title: 'sum of revenue ≥ 300 in the last 14 days',
    definition: {
      aggregate: {
        fn: 'sum',
        event: 'Order Completed',
        property: 'revenue',
        within: { last: { days: 14 } },
        op: 'gte',
        value: 300,
      },
    },
  },
  {
    id: 'reachable-actives',
    title: 'Advertising consent granted and seen in the last 3 days',
    definition: {
      all: [
        { consent: { category: 'Advertising' } },
        { last_seen: { op: 'after', value: { ago: { days: 3 } } } },
      ],
    },
  },
  {
    id: 'win-back',
    title: 'high spenders, or FR/DE people not pro buyers with a high-priority ticket in 7 days',
    definition: {
      any: [
        { segment: { id: 'high-spenders' } },
        {
          all: [
            { trait: { name: 'country', op: 'in', value: ['FR', 'DE'] } },
            { not: { segment: { id: 'pro-buyers' } } },
            {
              event: {
                name: 'Support Ticket Opened',
                within: { last: { days: 7 } },
                where: [{ property: 'priority', op: 'eq', value: 'high' }],
              },
            },
          ],
        },
      ],
    },
  },
];

export interface Stats {
  readonly runs: readonly number[];
  readonly p50: number;
  /** Nearest rank: with 5 runs, the slowest. */
  readonly p95: number;
}

export interface SegmentResult {
  readonly id: string;
  readonly title: string;
  readonly members: number;
  readonly previewMs: Stats;
  /** CPU time per preview (all threads). */
  readonly previewCpuMs: Stats;
  readonly unprunedMs: Stats;
  /** Bytes read from lake files per run (the median run), with pruning and without. */
  readonly bytesPruned: number;
  readonly bytesUnpruned: number;
  readonly peakRssMb: number;
  readonly sample: { readonly profiles: number; readonly members: number; readonly events: number };
}

/** One pass over every event, grouped by person: the least a per-person segment can cost. */
export const BASELINE_SQL =
  'SELECT count(*) AS member_count FROM (SELECT coalesce(user_id, anonymous_id) AS id, max("timestamp") AS seen FROM events GROUP BY 1)';

export interface SegmentsBenchResult {
  readonly options: SegmentsBenchOptions;
  readonly baseline: Stats & { readonly sql: string; readonly bytes: number; readonly cpuMs: Stats };
  readonly lake: SegmentsLakeManifest;
  /** Whether this run generated the lake (else it came from the cache). */
  readonly generated: boolean;
  readonly lakeBytes: number;
  readonly threads: number;
  readonly segments: readonly SegmentResult[];
  readonly peakRssMb: number;
  /** 1-minute load average before and after the timed runs (the machine may be shared). */
  readonly loadAverage: readonly [number, number];
  readonly checkSeconds: number;
}

const root = join(import.meta.dirname, '..');

/** The cached lake, or a new one generated in a child process (so its memory is not this process's). */
async function ensureLake(log: (line: string) => void): Promise<{ lake: SegmentsLake; generated: boolean }> {
  const cached = await cachedSegmentsLake();
  if (cached !== undefined) return { lake: cached, generated: false };
  log('  generating the lake (cached for later runs)...');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'segments-lake.ts')],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lake generator exited ${code}`))));
  });
  const lake = await cachedSegmentsLake();
  if (lake === undefined) throw new Error('the lake generator wrote no usable manifest');
  return { lake, generated: true };
}

/** A DuckDB instance with the views the product's local runtime declares over the lake. */
async function openLake(
  lake: SegmentsLake,
  threads: number,
): Promise<{ db: DuckDBInstance; c: DuckDBConnection }> {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  for (const [table, glob] of [
    ['events', lake.eventsGlob],
    ['identity_links', lake.linksGlob],
  ] as const) {
    await c.run(
      `CREATE VIEW ${table} AS SELECT * FROM read_parquet(${sqlStringLiteral(glob)}, hive_partitioning = true, ` +
        `hive_types = {'dt': VARCHAR, 'hour': VARCHAR})`,
    );
  }
  return { db, c };
}

/** Bytes this process has read through read()/pread() so far. */
function bytesRead(): number {
  const match = /rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return match === null ? Number.NaN : Number(match[1]);
}

interface Run {
  readonly ms: number;
  /** CPU time of the process over the query (DuckDB's threads included): less sensitive to other load. */
  readonly cpuMs: number;
  readonly bytes: number;
  readonly peakRss: number;
  readonly memberCount: number;
}

async function previewRun(
  lake: SegmentsLake,
  threads: number,
  sql: string,
  values: BoundValue[],
): Promise<Run> {
  const { db, c } = await openLake(lake, threads);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 20);
  try {
    const before = bytesRead();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const rows = (await c.runAndReadAll(sql, values)).getRowObjects();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const bytes = bytesRead() - before;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return {
      ms,
      cpuMs: (used.user + used.system) / 1000,
      bytes,
      peakRss,
      memberCount: Number(rows[0]?.member_count ?? Number.NaN),
    };
  } finally {
    clearInterval(sampler);
    c.closeSync();
    db.closeSync();
  }
}

function stats(values: readonly number[]): Stats {
  const sorted = ascending(values);
  const rank = (p: number) => nearestRank(sorted, p) ?? Number.NaN;
  return { runs: values, p50: rank(0.5), p95: rank(0.95) };
}

/** The nearest-rank p50: for an even count the lower middle run, a measured value, never a mean of two. */
function lowerMedian(values: readonly number[]): number {
  return stats(values).p50;
}

async function rowsOf(c: DuckDBConnection, sql: string, values: DuckDBValue[] = []) {
  return (await c.runAndReadAll(sql, values)).getRowObjects();
}

const text = (value: DuckDBValue): string | null => (value === null ? null : String(value));
const ISO = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/**
 * The sample: profiles `hash(profile_id) % modulo = 0` among the current profiles, every event that
 * names an identifier currently linked to one of them (so each sampled profile has its whole
 * history), and every link row of every identifier those events name (so each event maps to the
 * profile it maps to in the whole lake). Profiles outside the sample that these rows bring in are
 * partial and are not compared.
 */
async function sample(c: DuckDBConnection, modulo: number) {
  await c.run(`CREATE TEMP TABLE current_links AS
    SELECT id_type, id_value, profile_id FROM (
      SELECT id_type, id_value, profile_id,
        row_number() OVER (PARTITION BY id_type, id_value ORDER BY linked_at DESC, profile_id DESC) AS rn
      FROM identity_links) WHERE rn = 1`);
  await c.run(
    `CREATE TEMP TABLE sample_profiles AS SELECT DISTINCT profile_id FROM current_links WHERE hash(profile_id) % ${modulo} = 0`,
  );
  await c.run(`CREATE TEMP TABLE sample_ids AS
    SELECT id_type, id_value FROM current_links WHERE profile_id IN (SELECT profile_id FROM sample_profiles)`);
  await c.run(`CREATE TEMP TABLE sample_events AS
    SELECT * FROM events e
    WHERE trim(e.user_id) IN (SELECT id_value FROM sample_ids WHERE id_type = 'user_id')
       OR trim(e.anonymous_id) IN (SELECT id_value FROM sample_ids WHERE id_type = 'anonymous_id')`);
  const events: ReferenceEventRow[] = (
    await rowsOf(
      c,
      `SELECT message_id, type, event, user_id, anonymous_id, ${ISO('"timestamp"')} AS "timestamp",
         ${ISO('received_at')} AS received_at, source, properties, traits, context FROM sample_events`,
    )
  ).map((row) => ({
    message_id: text(row.message_id ?? null),
    type: text(row.type ?? null),
    event: text(row.event ?? null),
    user_id: text(row.user_id ?? null),
    anonymous_id: text(row.anonymous_id ?? null),
    timestamp: text(row.timestamp ?? null),
    received_at: text(row.received_at ?? null),
    source: text(row.source ?? null),
    properties: text(row.properties ?? null),
    traits: text(row.traits ?? null),
    context: text(row.context ?? null),
  }));
  const links: ReferenceLinkRow[] = (
    await rowsOf(
      c,
      `SELECT l.id_type, l.id_value, l.profile_id, ${ISO('l.linked_at')} AS linked_at FROM identity_links l
       WHERE (l.id_type = 'user_id' AND l.id_value IN (SELECT trim(user_id) FROM sample_events))
          OR (l.id_type = 'anonymous_id' AND l.id_value IN (SELECT trim(anonymous_id) FROM sample_events))`,
    )
  ).map((row) => ({
    id_type: String(row.id_type),
    id_value: String(row.id_value),
    profile_id: String(row.profile_id),
    linked_at: String(row.linked_at),
  }));
  const profiles = new Set(
    (await rowsOf(c, 'SELECT profile_id FROM sample_profiles')).map((row) => String(row.profile_id)),
  );
  return { events, links, profiles };
}

export async function benchSegments(
  options: SegmentsBenchOptions = SEGMENTS_BENCH_DEFAULTS,
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<SegmentsBenchResult> {
  const { lake, generated } = await ensureLake(log);
  const m = lake.manifest;
  log(
    `  lake: ${m.counts.events.toLocaleString('en-US')} events, ${m.counts.links.toLocaleString('en-US')} links, ` +
      `${m.counts.profiles.toLocaleString('en-US')} profiles, ${((m.counts.eventBytes + m.counts.linkBytes) / 2 ** 20).toFixed(0)} MiB ` +
      `(${generated ? 'generated' : 'cached'}; generation took ${m.generatedSeconds.toFixed(0)} s)`,
  );
  const now = m.options.endMs;
  const definitions = new Map(BENCH_SEGMENTS.map((segment) => [segment.id, segment.definition]));
  const compiled: { id: string; title: string; ast: SegmentAst }[] = [];
  for (const segment of BENCH_SEGMENTS) {
    const ast = await compileSegment(segment.definition, {
      id: segment.id,
      lookup: (id) => definitions.get(id),
    });
    compiled.push({ id: segment.id, title: segment.title, ast });
  }
  const threads = cpus().length;
  const queries = compiled.map(({ ast }) => {
    const query = printPreviewQuery(ast, 'duckdb');
    return {
      sql: query.sql,
      pruned: bindParams(query.params, { now }),
      // `dt >= '1970-01-01'`: every partition; the same query and members otherwise.
      unpruned: bindParams(query.params, { now, partitionSlackMs: now }),
    };
  });

  const runs = compiled.map(() => ({ pruned: [] as Run[], unpruned: [] as Run[] }));
  const baseline: Run[] = [];
  const load0 = loadavg()[0] ?? 0;
  log('  warm-up (one run each, not recorded)...');
  await previewRun(lake, threads, BASELINE_SQL, []);
  for (const query of queries) await previewRun(lake, threads, query.sql, query.pruned);
  // Segments take turns, and the runs without pruning are interleaved with the others, so a burst of
  // load on a shared machine falls on all of them alike.
  for (let round = 0; round < options.runs; round++) {
    baseline.push(await previewRun(lake, threads, BASELINE_SQL, []));
    for (const [i, query] of queries.entries()) {
      runs[i]?.pruned.push(await previewRun(lake, threads, query.sql, query.pruned));
      if (round < options.unprunedRuns) {
        runs[i]?.unpruned.push(await previewRun(lake, threads, query.sql, query.unpruned));
      }
    }
    log(
      `  round ${round + 1}/${options.runs}: baseline ${(baseline.at(-1)?.ms ?? 0).toFixed(0)} ms; ` +
        runs.map((r) => `${(r.pruned.at(-1)?.ms ?? 0).toFixed(0)} ms`).join(', '),
    );
  }
  const load1 = loadavg()[0] ?? 0;

  log('  checking members against the reference evaluator on a 1 % sample of profiles...');
  const checkStarted = performance.now();
  const { db, c } = await openLake(lake, threads);
  const results: SegmentResult[] = [];
  try {
    const data = await sample(c, options.sampleModulo);
    for (const [i, { id, title, ast }] of compiled.entries()) {
      const query = printMembersQuery(ast, 'duckdb');
      const all = (await rowsOf(c, query.sql, bindParams(query.params, { now }))).map((row) =>
        String(row.profile_id),
      );
      const r = runs[i];
      if (r === undefined) throw new Error('no runs');
      const counts = new Set([...r.pruned, ...r.unpruned].map((run) => run.memberCount));
      if (counts.size !== 1 || !counts.has(all.length)) {
        throw new Error(
          `segment ${id}: preview counts ${[...counts].join(', ')} differ from the members query's ${all.length}`,
        );
      }
      const duck = all.filter((profile) => data.profiles.has(profile));
      const reference = evaluateMembers({ ast, now, events: data.events, links: data.links }).filter(
        (profile) => data.profiles.has(profile),
      );
      const missing = reference.filter((profile) => !duck.includes(profile));
      const extra = duck.filter((profile) => !reference.includes(profile));
      if (missing.length > 0 || extra.length > 0 || duck.length !== reference.length) {
        throw new Error(
          `segment ${id}: DuckDB and the reference evaluator disagree on the sample: ` +
            `only the evaluator has ${JSON.stringify(missing.slice(0, 10))} (${missing.length}), ` +
            `only DuckDB has ${JSON.stringify(extra.slice(0, 10))} (${extra.length})`,
        );
      }
      log(`  ${id}: ${all.length} members; sample ${duck.length} of ${data.profiles.size} profiles agree`);
      results.push({
        id,
        title,
        members: all.length,
        previewMs: stats(r.pruned.map((run) => run.ms)),
        previewCpuMs: stats(r.pruned.map((run) => run.cpuMs)),
        unprunedMs: stats(r.unpruned.map((run) => run.ms)),
        bytesPruned: lowerMedian(r.pruned.map((run) => run.bytes)),
        bytesUnpruned: lowerMedian(r.unpruned.map((run) => run.bytes)),
        peakRssMb:
          Math.max(...r.pruned.map((run) => run.peakRss), ...r.unpruned.map((run) => run.peakRss)) / 2 ** 20,
        sample: { profiles: data.profiles.size, members: duck.length, events: data.events.length },
      });
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return {
    options,
    baseline: {
      ...stats(baseline.map((run) => run.ms)),
      sql: BASELINE_SQL,
      bytes: lowerMedian(baseline.map((run) => run.bytes)),
      cpuMs: stats(baseline.map((run) => run.cpuMs)),
    },
    lake: m,
    generated,
    lakeBytes: m.counts.eventBytes + m.counts.linkBytes,
    threads,
    segments: results,
    peakRssMb: Math.max(...results.map((result) => result.peakRssMb)),
    loadAverage: [load0, load1],
    checkSeconds: (performance.now() - checkStarted) / 1000,
  };
}
