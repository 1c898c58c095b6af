// A seeded synthetic lake for the segments benchmark (issue #4): 10,000,000 events over 30 days from
// 200,000 people, written with exactly the local lake's layout and Parquet columns. Generated inside
// DuckDB (range() and hash(), no rows in JavaScript) and cached under
// node_modules/.cache/mosaic-bench/segments-lake-v3/. Run it alone with `node --import tsx bench/segments-lake.ts`.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPES, LAKE_PARQUET_COMPRESSION, sqlStringLiteral } from '../src/adapters/local/lake-sql';
import { EVENT_COLUMNS, IDENTITY_LINK_COLUMNS, type LakeColumn } from '../src/core/lake/tables';

/**
 * Bump when the generated files change: a cached lake of another version is generated again. v2: Snappy,
 * as the local lake writer writes (was zstd). v3: the `category`, `channel` and `version` columns (empty).
 */
export const GENERATOR_VERSION = 'segments-lake-v3';

export interface SegmentsLakeOptions {
  readonly seed: number;
  readonly people: number;
  /** Rows of `events`, redelivered copies included. */
  readonly events: number;
  readonly days: number;
  /** The lake ends here (exclusive): every `timestamp` and `received_at` is before it. */
  readonly endMs: number;
}

export const SEGMENTS_LAKE_DEFAULTS: SegmentsLakeOptions = {
  seed: 4,
  people: 200_000,
  events: 10_000_000,
  days: 30,
  endMs: Date.UTC(2026, 10, 22),
};

export interface SegmentsLakeManifest {
  readonly generator: string;
  readonly options: SegmentsLakeOptions;
  readonly counts: {
    readonly events: number;
    /** Messages the lake holds twice (a later redelivery). */
    readonly redeliveries: number;
    /** Events received more than an hour after their `timestamp`. */
    readonly late: number;
    readonly byType: Readonly<Record<string, number>>;
    readonly links: number;
    /** Identifiers re-pointed to another profile (a second device or a whole profile merged). */
    readonly repointed: number;
    readonly profiles: number;
    readonly eventFiles: number;
    readonly eventBytes: number;
    readonly linkFiles: number;
    readonly linkBytes: number;
  };
  readonly generatedSeconds: number;
  readonly peakRssMb: number;
  readonly duckdb: string;
}

export interface SegmentsLake {
  readonly dir: string;
  /** `events/**` and `identity_links/**` globs for `read_parquet`. */
  readonly eventsGlob: string;
  readonly linksGlob: string;
  readonly manifest: SegmentsLakeManifest;
}

export const SEGMENTS_LAKE_DIR = join(
  import.meta.dirname,
  '..',
  'node_modules',
  '.cache',
  'mosaic-bench',
  GENERATOR_VERSION,
);

function lakeOf(dir: string, manifest: SegmentsLakeManifest): SegmentsLake {
  return {
    dir,
    eventsGlob: join(dir, 'events', '**', '*.parquet'),
    linksGlob: join(dir, 'identity_links', '**', '*.parquet'),
    manifest,
  };
}

/** The cached lake when its manifest matches these options, else `undefined`. */
export async function cachedSegmentsLake(
  options: SegmentsLakeOptions = SEGMENTS_LAKE_DEFAULTS,
  dir = SEGMENTS_LAKE_DIR,
): Promise<SegmentsLake | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as SegmentsLakeManifest;
    const same =
      manifest.generator === GENERATOR_VERSION &&
      JSON.stringify(manifest.options) === JSON.stringify(options) &&
      manifest.counts.events === options.events;
    return same ? lakeOf(dir, manifest) : undefined;
  } catch {
    return undefined;
  }
}

const DAY = 86_400_000;

/**
 * The generator's SQL. Every random draw comes from DuckDB's `hash` of a row number, a salt and the
 * seed — 64 bits, cut into one 32-bit and two 16-bit draws — so the rows depend only on the seed (and
 * the DuckDB version, which the manifest records), not on threads or the order DuckDB runs in; the
 * order of rows inside a file may differ between runs.
 */
export function generatorSql(o: SegmentsLakeOptions): { setup: string[]; events: string; links: string } {
  const start = o.endMs - o.days * DAY;
  const span = o.days * DAY;
  const setup = [
    "SET TimeZone = 'UTC'",
    // One file per partition: without this DuckDB rotates files past 100 open partitions.
    'SET partitioned_write_max_open_files = 4096',
    // 64 bits a draw: `lo` the low 32 as [0, 1), `hi(h, 2)` and `hi(h, 3)` two 16-bit ones.
    `CREATE MACRO h(x, salt) AS hash(x, salt, ${o.seed})`,
    'CREATE MACRO lo(hv) AS (hv & 4294967295) / 4294967296.0',
    'CREATE MACRO hi(hv, k) AS ((hv >> (16 * k)) & 65535) / 65536.0',
    'CREATE MACRO u(x, salt) AS lo(h(x, salt))',
    'CREATE MACRO ts(ms) AS make_timestamp(ms * 1000)',
    // People: whether they identify (and when), a second device, their plan (and an upgrade), country,
    // age, consent, and 2 % of the identified merged into another (unmerged) person's profile.
    `CREATE TABLE people AS
     SELECT p,
       u(p, 101) < 0.8 AS has_user,
       u(p, 102) < 0.3 AS two_devices,
       ${start} + floor(u(p, 103) * ${span})::BIGINT AS identify_ms,
       CASE WHEN u(p, 104) < 0.6 THEN 'free' WHEN u(p, 104) < 0.9 THEN 'pro' ELSE 'enterprise' END AS plan,
       u(p, 105) < 0.25 AS upgrades,
       ${start} + floor(u(p, 106) * ${span})::BIGINT AS upgrade_ms,
       ['US', 'FR', 'DE', 'GB', 'BR', 'IN', 'JP', 'CA'][1 + floor(pow(u(p, 107), 1.5) * 8)::INTEGER] AS country,
       18 + floor(u(p, 108) * 60)::INTEGER AS age,
       u(p, 109) < 0.55 AS advertising,
       u(p, 110) < 0.2 AS changes_consent,
       ${start} + floor(u(p, 111) * ${span})::BIGINT AS consent_change_ms,
       u(p, 112) < 0.7 AS analytics,
       u(p, 113) < 0.02 AS merges,
       floor(u(p, 114) * ${o.people})::BIGINT AS merge_into
     FROM range(${o.people}) t(p)`,
    // Events as numbers: row i is message m (a redelivered copy is the message of the row before), of
    // person `person` (skewed: low ids are more active), on device 0 or 1.
    `CREATE TABLE skeleton AS
     WITH r AS (
       SELECT i, i % 2 = 1 AND hi(hr, 2) < 0.01 AS copy, lo(hr) AS copy_draw
       FROM (SELECT i, h(i, 1) AS hr FROM range(${o.events}) t(i))
     ), d AS (
       SELECT i, CASE WHEN copy THEN i - 1 ELSE i END AS m, copy, copy_draw FROM r
     ), e AS (
       SELECT *, h(m, 2) AS e1, h(m, 3) AS e2, h(m, 4) AS e3 FROM d
     ), m AS (
       SELECT i, m, copy,
         floor(pow(lo(e2), 1.6) * ${o.people})::BIGINT AS person,
         ${start} + floor(lo(e1) * ${span})::BIGINT AS ts_ms,
         hi(e1, 2) AS device_draw, hi(e1, 3) AS identified_draw, hi(e2, 2) AS type_draw, hi(e2, 3) AS event_draw,
         lo(e3) AS delay_draw, hi(e3, 2) AS late_draw, hi(e3, 3) AS space_draw, copy_draw
       FROM e
     )
     SELECT m.i, m.m, m.copy, m.person, m.ts_ms,
       CASE WHEN p.two_devices AND m.device_draw < 0.4 THEN 1 ELSE 0 END AS device,
       p.has_user AND m.ts_ms >= p.identify_ms AND m.identified_draw < 0.9 AS identified,
       CASE WHEN m.type_draw < 0.62 THEN 'track'
            WHEN m.type_draw < 0.69 AND p.has_user AND m.ts_ms >= p.identify_ms THEN 'identify'
            ELSE 'page' END AS type,
       m.event_draw, m.space_draw,
       -- received: a few seconds later; 2 % late (offline, 1 to 72 hours); 0.5 % a little early (clock
       -- skew, at most 5 minutes); a redelivered copy 1 to 3 days after the first. Never after the end.
       least(${o.endMs - 1}, m.ts_ms + CASE
         WHEN m.late_draw < 0.02 THEN 3600000 + floor(m.delay_draw * 71 * 3600000)::BIGINT
         WHEN m.late_draw < 0.025 THEN -floor(m.delay_draw * 300000)::BIGINT
         ELSE floor(m.delay_draw * 5000)::BIGINT END
         + CASE WHEN m.copy THEN 86400000 + floor(m.copy_draw * 2 * 86400000)::BIGINT ELSE 0 END) AS received_ms,
       p.has_user, p.identify_ms, p.plan, p.upgrades, p.upgrade_ms, p.country, p.age, p.advertising,
       p.changes_consent, p.consent_change_ms, p.analytics
     FROM m JOIN people p ON p.p = m.person`,
  ];

  const eventName = `CASE
      WHEN event_draw < 0.40 THEN 'Product Viewed'
      WHEN event_draw < 0.55 THEN 'Added to Cart'
      WHEN event_draw < 0.63 THEN 'Checkout Started'
      WHEN event_draw < 0.70 THEN 'Order Completed'
      WHEN event_draw < 0.72 THEN 'Signed Up'
      WHEN event_draw < 0.76 THEN 'Support Ticket Opened'
      ELSE 'Email Opened' END`;
  const planAt = "CASE WHEN upgrades AND plan = 'free' AND ts_ms >= upgrade_ms THEN 'pro' ELSE plan END";
  const category = "['shoes', 'hats', 'bags', 'shirts', 'socks'][1 + floor(hi(e4, 3) * 5)::INTEGER]";
  // JSON texts as JSON.stringify writes them (the lake's JSON columns are the collector's output);
  // `concat_ws` leaves out the NULL members.
  const properties = `CASE
      WHEN type = 'page' THEN '{"path":"/' || ['', 'pricing', 'docs', 'blog', 'cart'][1 + floor(hi(e5, 3) * 5)::INTEGER] || '"}'
      WHEN type <> 'track' THEN NULL
      WHEN name_ = 'Order Completed' THEN '{' || concat_ws(',',
        '"order_id":"o-' || m || '"',
        -- 1 % of revenues are strings: type-strict tests must skip them.
        '"revenue":' || CASE WHEN hi(e4, 2) < 0.01 THEN '"' || revenue || '"' ELSE revenue END,
        '"currency":"USD"',
        '"category":"' || ${category} || '"') || '}'
      WHEN name_ IN ('Product Viewed', 'Added to Cart') THEN '{"product_id":"sku-' || floor(lo(e5) * 5000)::INTEGER ||
        '","category":"' || ${category} || '","price":' || CAST((500 + floor(hi(e5, 2) * 19500)::BIGINT) * 0.01 AS VARCHAR) || '}'
      WHEN name_ = 'Support Ticket Opened' THEN '{"priority":"' || ['low', 'normal', 'high'][1 + floor(hi(e5, 3) * 3)::INTEGER] || '"}'
      ELSE '{}' END`;
  const traits = `CASE WHEN type = 'identify' THEN '{' || concat_ws(',',
      CASE WHEN hi(e6, 2) < 0.8 THEN '"plan":"' || ${planAt} || '"' END,
      CASE WHEN hi(e6, 3) < 0.7 THEN '"country":"' || country || '"' END,
      CASE WHEN hi(e7, 2) < 0.5 THEN '"email":"user-' || person || '@example.com"' END,
      CASE WHEN hi(e7, 3) < 0.4 THEN '"age":' || age END) || '}' END`;
  const advertising =
    'CASE WHEN changes_consent AND ts_ms >= consent_change_ms THEN NOT advertising ELSE advertising END';
  const context = `'{' || concat_ws(',',
      '"library":{"name":"' || CASE WHEN device = 1 THEN 'analytics-ios","version":"4.1.0"}' ELSE 'analytics.js","version":"2.11.0"}' END,
      '"locale":"en-US"',
      CASE WHEN lo(e7) < 0.1 THEN '"consent":{"categoryPreferences":{"Advertising":' || (${advertising}) || ',"Analytics":' || analytics || '}}' END,
      CASE WHEN lo(e6) < 0.01 AND identified THEN '"traits":{"plan":"' || ${planAt} || '"}' END) || '}'`;
  const userId = `CASE WHEN type = 'identify' OR identified THEN
      CASE WHEN space_draw < 0.001 THEN ' u-' || person || ' ' ELSE 'u-' || person END END`;
  const values: Record<string, string> = {
    message_id: "'msg-' || m",
    type: 'type',
    event: "CASE WHEN type = 'track' THEN name_ END",
    name: "CASE WHEN type = 'page' THEN 'Home' END",
    user_id: userId,
    anonymous_id: "'a-' || person || '-' || device",
    group_id: 'NULL',
    previous_id: 'NULL',
    timestamp: 'ts(ts_ms)',
    original_timestamp: 'ts(ts_ms)',
    sent_at: 'ts(ts_ms + 200)',
    received_at: 'ts(received_ms)',
    source: "CASE WHEN device = 1 THEN 'ios' ELSE 'web' END",
    properties,
    traits,
    context,
    integrations: 'NULL',
    category: 'NULL',
    channel: 'NULL',
    version: 'NULL',
  };
  const events = `SELECT ${projection(EVENT_COLUMNS, values)}, ${partition('received_ms')}\nFROM (
      SELECT *, CAST(floor(lo(e4) * 40000)::BIGINT * 0.01 AS VARCHAR) AS revenue
      FROM (SELECT *, ${eventName} AS name_, h(m, 5) AS e4, h(m, 6) AS e5, h(m, 7) AS e6, h(m, 8) AS e7 FROM skeleton)
    ) s`;

  // Links: each anonymous id to its person's profile when first seen (a second device first to a
  // profile of its own, merged into the person's once identified), the user id when identified, and
  // 2 % of identified people merged into another person's profile (every identifier re-pointed).
  const links = `
    WITH first_seen AS (
      SELECT person, device, min(ts_ms) AS first_ms, min(m) AS first_m FROM skeleton GROUP BY person, device
    ), own AS (
      SELECT 'anonymous_id' AS id_type, 'a-' || f.person || '-' || f.device AS id_value,
        CASE WHEN f.device = 1 THEN 'p-' || f.person || '-d1' ELSE 'p-' || f.person END AS profile_id,
        f.first_ms AS at_ms, 'msg-' || f.first_m AS message_id, 'created' AS reason, f.person, f.device
      FROM first_seen f
      UNION ALL
      SELECT 'user_id', 'u-' || p.p, 'p-' || p.p, p.identify_ms, 'identify-' || p.p, 'identified', p.p, 0
      FROM people p WHERE p.has_user
      UNION ALL
      SELECT 'anonymous_id', 'a-' || f.person || '-1', 'p-' || f.person, greatest(f.first_ms, p.identify_ms) + 1000,
        'identify-' || f.person || '-1', 'merged', f.person, 1
      FROM first_seen f JOIN people p ON p.p = f.person WHERE f.device = 1 AND p.has_user
    ), merged AS (
      SELECT p.p AS person, 'p-' || p.merge_into AS into_profile, max(o.at_ms) + 1000 AS after_ms
      FROM people p JOIN people q ON q.p = p.merge_into AND NOT (q.merges AND q.has_user)
      JOIN own o ON o.person = p.p
      WHERE p.merges AND p.has_user AND p.merge_into <> p.p
      GROUP BY p.p, p.merge_into
    ), rows AS (
      SELECT id_type, id_value, profile_id, at_ms, message_id, reason FROM own
      UNION ALL
      SELECT DISTINCT o.id_type, o.id_value, g.into_profile,
        g.after_ms + floor(u(g.person, 120) * greatest(0, ${o.endMs - 1} - g.after_ms))::BIGINT,
        'merge-' || g.person, 'merged'
      FROM merged g JOIN own o ON o.person = g.person
    )
    SELECT ${projection(IDENTITY_LINK_COLUMNS, {
      id_type: 'id_type',
      id_value: 'id_value',
      profile_id: 'profile_id',
      linked_at: 'ts(at_ms)',
      source: "CASE WHEN id_value LIKE 'a-%-1' THEN 'ios' ELSE 'web' END",
      message_id: 'message_id',
      reason: 'reason',
    })}, ${partition('at_ms')}
    FROM rows`;
  return { setup, events, links };
}

/** `dt` and `hour` of a time in ms, as `partitionOf` gives them. */
function partition(ms: string): string {
  return `CAST(CAST(ts(${ms}) AS DATE) AS VARCHAR) AS dt, lpad(CAST(hour(ts(${ms})) AS VARCHAR), 2, '0') AS hour`;
}

/** The columns in the lake's order and types (as the local lake writer's projection). */
function projection(columns: readonly LakeColumn<string>[], values: Record<string, string>): string {
  return columns
    .map((column) => {
      const value = values[column.name];
      if (value === undefined) throw new Error(`no value for column ${column.name}`);
      return `CAST(${value} AS ${DUCKDB_TYPES[column.type]}) AS "${column.name}"`;
    })
    .join(',\n  ');
}

async function filesUnder(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/**
 * Generates the lake into `dir` (replacing what is there) and writes its manifest. The files are
 * written to a temporary folder beside it and renamed, so an interrupted run leaves no half lake.
 */
export async function generateSegmentsLake(
  options: SegmentsLakeOptions = SEGMENTS_LAKE_DEFAULTS,
  dir = SEGMENTS_LAKE_DIR,
): Promise<SegmentsLake> {
  const started = performance.now();
  const temporary = `${dir}.tmp-${randomUUID().slice(0, 8)}`;
  await mkdir(temporary, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(cpus().length),
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    const sql = generatorSql(options);
    // Progress on stderr (the child process's stderr is the bench's): generation takes minutes.
    const lap = (label: string) =>
      process.stderr.write(`  lake: ${label} after ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    for (const statement of sql.setup) await connection.run(statement);
    lap('people and event skeleton');
    const write = (select: string, table: string) =>
      connection.run(
        `COPY (${select}) TO ${sqlStringLiteral(join(temporary, table))} ` +
          `(FORMAT parquet, COMPRESSION ${LAKE_PARQUET_COMPRESSION}, PARTITION_BY (dt, hour), FILENAME_PATTERN '${table}-bench-{i}')`,
      );
    await write(sql.events, 'events');
    lap('events written');
    await write(sql.links, 'identity_links');
    lap('identity_links written');
    const one = async (query: string) => (await connection.runAndReadAll(query)).getRowObjects()[0] ?? {};
    const eventsGlob = sqlStringLiteral(join(temporary, 'events', '**', '*.parquet'));
    const linksGlob = sqlStringLiteral(join(temporary, 'identity_links', '**', '*.parquet'));
    const eventCounts = await one(
      `SELECT count(*) AS events, count(*) - count(DISTINCT message_id) AS redeliveries,
         count(*) FILTER (WHERE received_at > "timestamp" + INTERVAL 1 HOUR) AS late
       FROM read_parquet(${eventsGlob})`,
    );
    const byType = Object.fromEntries(
      (
        await connection.runAndReadAll(
          `SELECT type, count(*) AS n FROM read_parquet(${eventsGlob}) GROUP BY type ORDER BY type`,
        )
      )
        .getRowObjects()
        .map((row) => [String(row.type), Number(row.n)]),
    );
    const linkCounts = await one(
      `WITH l AS (SELECT * FROM read_parquet(${linksGlob})),
         latest AS (SELECT DISTINCT arg_max(profile_id, (linked_at, profile_id)) AS profile_id FROM l GROUP BY id_type, id_value)
       SELECT (SELECT count(*) FROM l) AS links,
         (SELECT count(*) FROM (SELECT id_type, id_value FROM l GROUP BY ALL HAVING count(DISTINCT profile_id) > 1)) AS repointed,
         (SELECT count(*) FROM latest) AS profiles`,
    );
    const version = String((await one('SELECT version() AS v')).v);
    connection.closeSync();
    instance.closeSync();
    const eventFiles = await filesUnder(join(temporary, 'events'));
    const linkFiles = await filesUnder(join(temporary, 'identity_links'));
    const manifest: SegmentsLakeManifest = {
      generator: GENERATOR_VERSION,
      options,
      counts: {
        events: Number(eventCounts.events),
        redeliveries: Number(eventCounts.redeliveries),
        late: Number(eventCounts.late),
        byType,
        links: Number(linkCounts.links),
        repointed: Number(linkCounts.repointed),
        profiles: Number(linkCounts.profiles),
        eventFiles: eventFiles.files,
        eventBytes: eventFiles.bytes,
        linkFiles: linkFiles.files,
        linkBytes: linkFiles.bytes,
      },
      generatedSeconds: (performance.now() - started) / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      duckdb: version,
    };
    if (manifest.counts.events !== options.events) {
      throw new Error(`generated ${manifest.counts.events} events, expected ${options.events}`);
    }
    await writeFile(join(temporary, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(temporary, dir);
    return lakeOf(dir, manifest);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** The cached lake, or a new one. */
export async function segmentsLake(options: SegmentsLakeOptions = SEGMENTS_LAKE_DEFAULTS): Promise<{
  lake: SegmentsLake;
  cached: boolean;
}> {
  const cached = await cachedSegmentsLake(options);
  if (cached !== undefined) return { lake: cached, cached: true };
  return { lake: await generateSegmentsLake(options), cached: false };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { lake, cached } = await segmentsLake();
  process.stdout.write(
    `${cached ? 'cached' : 'generated'}: ${lake.dir}\n${JSON.stringify(lake.manifest, null, 2)}\n`,
  );
}
