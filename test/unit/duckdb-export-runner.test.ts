import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DuckDbAudienceEngine } from '../../src/adapters/local/duckdb-audience-engine';
import { DuckDbExportRunner } from '../../src/adapters/local/duckdb-export-runner';
import { DuckDbLake } from '../../src/adapters/local/duckdb-lake';
import {
  bindParams,
  type CompiledQuery,
  compileSegment,
  exportFolder,
  planExport,
  printPreviewQuery,
  type SegmentAst,
} from '../../src/core/segments';
import type { ExportFormat } from '../../src/core/segments/views';
import type {
  BoundQuery,
  ExportCompletion,
  ExportJob,
  ExportResult,
  PreviewOutcome,
} from '../../src/ports/audience-engine';
import { type LakeEvent, type LakeLink, writeTestLake } from '../support/segments-lake';

/**
 * The local audience engine and export runner on a real data directory: DuckDB views over the lake's
 * Parquet files (`<data dir>/lake/...`) and over the exports' member files (`<data dir>/exports/...`),
 * previews, and the four export steps written as files, one export at a time.
 */
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const at = (day: number) => `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`;
const pad = (n: number) => String(n).padStart(2, '0');

let sequence = 0;
const identify = (userId: string, day: number, traits: Record<string, unknown>): LakeEvent => ({
  messageId: `m-${++sequence}`,
  type: 'identify',
  userId,
  timestamp: at(day),
  traits,
});
const person = (n: number, plan: string): { events: LakeEvent[]; links: LakeLink[] } => ({
  events: [identify(`u-${pad(n)}`, 1, { plan, ...(n === 1 ? { company: 'Acme, Inc.' } : {}) })],
  links: [
    { id_type: 'user_id', id_value: `u-${pad(n)}`, profile_id: `p-${pad(n)}`, linked_at: at(1) },
    { id_type: 'email', id_value: `e${pad(n)}@x.example`, profile_id: `p-${pad(n)}`, linked_at: at(1) },
  ],
});

/** Twelve people, listed backwards; p-01 .. p-11 are on the pro plan, p-12 on free. */
const PEOPLE = Array.from({ length: 12 }, (_, i) => person(12 - i, 12 - i === 12 ? 'free' : 'pro'));

/**
 * Writes events and links into `<data dir>/lake/` in the local lake's layout (through `writeTestLake`,
 * then copied under names of their own, so batches add files as the lake writer does).
 */
async function addToLake(
  dataDir: string,
  events: readonly LakeEvent[],
  links: readonly LakeLink[],
  batch: string,
) {
  const written = await writeTestLake(events, links);
  try {
    for (const table of ['events', 'identity_links']) {
      const from = join(written.dir, table);
      const files = (await readdir(from, { recursive: true })).filter((file) => file.endsWith('.parquet'));
      for (const file of files) {
        const target = join(dataDir, 'lake', table, dirname(file), `part-${batch}.parquet`);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(join(from, file), target);
      }
    }
  } finally {
    await written.close();
  }
}

/** Every file under a folder, relative to it, sorted. */
async function filesUnder(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const bind = (query: CompiledQuery): BoundQuery => ({
  sql: query.sql,
  values: bindParams(query.params, { now: NOW }),
});

type Outcome =
  | { kind: 'succeeded'; job: ExportJob; result: ExportResult }
  | { kind: 'failed'; job: ExportJob; error: string };

/** A completion that records the outcomes, in order. */
function recordingCompletion(): ExportCompletion & { outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  return {
    outcomes,
    async succeeded(job, result) {
      outcomes.push({ kind: 'succeeded', job, result });
    },
    async failed(job, error) {
      outcomes.push({ kind: 'failed', job, error });
    },
  };
}

const PRO = { trait: { name: 'plan', op: 'eq', value: 'pro' } };

interface JobOptions {
  readonly segmentId?: string;
  readonly exportId: string;
  readonly previousExportId?: string;
  readonly format?: ExportFormat;
  readonly definition?: unknown;
  readonly identifiers?: readonly string[];
  readonly traits?: readonly string[];
}

async function exportJob(root: string, options: JobOptions): Promise<ExportJob> {
  const segmentId = options.segmentId ?? 'pro-buyers';
  const ast: SegmentAst = await compileSegment(options.definition ?? PRO);
  const plan = planExport(ast, 'duckdb', {
    segmentId,
    exportId: options.exportId,
    ...(options.previousExportId === undefined ? {} : { previousExportId: options.previousExportId }),
    identifiers: options.identifiers ?? ['email'],
    traits: options.traits ?? ['plan', 'company'],
  });
  return {
    exportId: options.exportId,
    segmentId,
    segmentVersion: 1,
    format: options.format ?? 'csv',
    ...(options.previousExportId === undefined ? {} : { previousExportId: options.previousExportId }),
    location: exportFolder(root, segmentId, options.exportId),
    queries: {
      members: bind(plan.members),
      audience: bind(plan.audience),
      changes: bind(plan.changes),
      counts: bind(plan.counts),
    },
  };
}

/** A data directory whose path needs quoting in SQL. */
const newDataDir = () => mkdtemp(join(tmpdir(), "mosaic o'export "));

describe('DuckDB audience engine and export runner', { timeout: 30_000 }, () => {
  let dataDir: string;
  let lake: DuckDbLake;
  let root: string;

  async function rowsOf(file: string): Promise<Record<string, DuckDBValue>[]> {
    return lake.withConnection(async (connection) =>
      (
        await connection.runAndReadAll(`SELECT * FROM read_parquet($1, hive_partitioning = false)`, [file])
      ).getRowObjectsJS(),
    ) as Promise<Record<string, DuckDBValue>[]>;
  }

  beforeAll(async () => {
    dataDir = await newDataDir();
    root = join(dataDir, 'exports');
    await addToLake(
      dataDir,
      PEOPLE.flatMap((p) => p.events),
      PEOPLE.flatMap((p) => p.links),
      'a',
    );
    lake = await DuckDbLake.open({ dataDir, threads: 2 });
  });
  afterAll(async () => {
    lake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('previews', () => {
    const preview = async (engine: DuckDbAudienceEngine, definition: unknown) =>
      engine.preview(bind(printPreviewQuery(await compileSegment(definition), 'duckdb')), 0);

    it('counts the members and shows the first ten ids in order', async () => {
      const engine = new DuckDbAudienceEngine({ lake });
      const outcome = await preview(engine, PRO);
      expect(outcome).toMatchObject({
        status: 'SUCCEEDED',
        count: 11,
        sample: ['p-01', 'p-02', 'p-03', 'p-04', 'p-05', 'p-06', 'p-07', 'p-08', 'p-09', 'p-10'],
      });
      expect(await preview(engine, { trait: { name: 'plan', op: 'eq', value: 'free' } })).toMatchObject({
        status: 'SUCCEEDED',
        count: 1,
        sample: ['p-12'],
      });
      expect(await preview(engine, { trait: { name: 'plan', op: 'eq', value: 'none' } })).toMatchObject({
        status: 'SUCCEEDED',
        count: 0,
        sample: [],
      });
    });

    it('an empty lake (no files at all) has no members, not an error', async () => {
      const emptyDir = await newDataDir();
      const emptyLake = await DuckDbLake.open({ dataDir: emptyDir, threads: 1 });
      try {
        const engine = new DuckDbAudienceEngine({ lake: emptyLake });
        const outcome = await preview(engine, PRO);
        expect(outcome).toMatchObject({ status: 'SUCCEEDED', count: 0, sample: [] });
        expect(await preview(engine, { not: PRO })).toMatchObject({
          status: 'SUCCEEDED',
          count: 0,
          sample: [],
        });
      } finally {
        emptyLake.close();
        await rm(emptyDir, { recursive: true, force: true });
      }
    });

    // The data directory goes into DuckDB's glob patterns escaped: `[x]` unescaped is a character
    // class, the views would match no file, and previews would count 0 without an error.
    it('a data directory whose path holds glob characters ([x]) is read literally', async () => {
      const oddDir = await mkdtemp(join(tmpdir(), 'mosaic [x] '));
      await addToLake(
        oddDir,
        PEOPLE.flatMap((p) => p.events),
        PEOPLE.flatMap((p) => p.links),
        'a',
      );
      const oddLake = await DuckDbLake.open({ dataDir: oddDir, threads: 1 });
      try {
        const outcome = await preview(new DuckDbAudienceEngine({ lake: oddLake }), PRO);
        expect(outcome).toMatchObject({ status: 'SUCCEEDED', count: 11 });
      } finally {
        oddLake.close();
        await rm(oddDir, { recursive: true, force: true });
      }
    });

    it('a query the engine refuses is a FAILED preview with its reason', async () => {
      const engine = new DuckDbAudienceEngine({ lake });
      const outcome = await engine.preview({ sql: 'SELECT member_count FROM no_such_table', values: [] }, 0);
      expect(outcome.status).toBe('FAILED');
      expect(outcome.status === 'FAILED' && outcome.error).toMatch(/no_such_table/);
      const wrongValues = await engine.preview({ sql: 'SELECT $1 AS member_count', values: [] }, 0);
      expect(wrongValues.status).toBe('FAILED');
    });

    it('previewStatus answers a known id with its outcome and an unknown id with undefined; old outcomes are dropped', async () => {
      const engine = new DuckDbAudienceEngine({ lake, keep: 2 });
      const first = await preview(engine, PRO);
      const failed = await engine.preview({ sql: 'SELECT nope', values: [] }, 0);
      expect(first.previewId).toMatch(/^p[0-9a-f]{32}$/);
      expect(failed.previewId).not.toBe(first.previewId);
      expect(await engine.previewStatus(first.previewId)).toEqual(first);
      expect(await engine.previewStatus(failed.previewId)).toEqual(failed);
      expect(await engine.previewStatus('p00000000000000000000000000000000')).toBeUndefined();
      const third: PreviewOutcome = await preview(engine, PRO);
      expect(await engine.previewStatus(first.previewId)).toBeUndefined();
      expect(await engine.previewStatus(failed.previewId)).toEqual(failed);
      expect(await engine.previewStatus(third.previewId)).toEqual(third);
    });
  });

  describe('exports', () => {
    const FIRST = 'x00000001';
    const SECOND = 'x00000002';

    it('a first export: everyone added, the audience CSV with a header, the changes and members as Parquet', async () => {
      const completion = recordingCompletion();
      const onError = vi.fn();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError });
      expect(runner.dialect).toBe('duckdb');
      expect(runner.root).toBe(root);
      const job = await exportJob(root, { exportId: FIRST });
      await runner.start(job);
      await runner.drain();

      expect(onError).not.toHaveBeenCalled();
      expect(completion.outcomes).toEqual([
        {
          kind: 'succeeded',
          job,
          result: {
            count: 11,
            added: 11,
            removed: 0,
            membersLocation: `${job.location}/members/`,
            audienceLocation: `${job.location}/audience/`,
            changesLocation: `${job.location}/changes/`,
          },
        },
      ]);
      // Only the finished files, under their own names: no hidden temporary left behind.
      expect(await filesUnder(job.location)).toEqual([
        'audience/audience.csv',
        'changes/changes.parquet',
        'members/members.parquet',
      ]);
      const csv = await readFile(join(job.location, 'audience', 'audience.csv'), 'utf8');
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe('profile_id,email,plan,company');
      expect(lines.slice(1)).toEqual([
        'p-01,e01@x.example,pro,"Acme, Inc."',
        ...Array.from({ length: 10 }, (_, i) => `p-${pad(i + 2)},e${pad(i + 2)}@x.example,pro,`),
      ]);
      const changes = await rowsOf(join(job.location, 'changes', 'changes.parquet'));
      expect(changes).toEqual(
        Array.from({ length: 11 }, (_, i) => ({ profile_id: `p-${pad(i + 1)}`, change: 'added' })),
      );
      const members = await rowsOf(join(job.location, 'members', 'members.parquet'));
      expect(members[0]).toEqual({ profile_id: 'p-01', c0: 'e01@x.example', c1: 'pro', c2: 'Acme, Inc.' });
      expect(members).toHaveLength(11);
    });

    it('a second export reads the lake as it is now and reports who entered and who left', async () => {
      // p-03 moves to free; p-13 joins on pro.
      const joiner = person(13, 'pro');
      await addToLake(dataDir, [identify('u-03', 5, { plan: 'free' }), ...joiner.events], joiner.links, 'b');
      const completion = recordingCompletion();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
      const job = await exportJob(root, { exportId: SECOND, previousExportId: FIRST });
      await runner.start(job);
      await runner.drain();

      expect(completion.outcomes).toHaveLength(1);
      expect(completion.outcomes[0]).toMatchObject({
        kind: 'succeeded',
        result: { count: 11, added: 1, removed: 1 },
      });
      const changes = await rowsOf(join(job.location, 'changes', 'changes.parquet'));
      expect(changes).toEqual([
        { profile_id: 'p-13', change: 'added' },
        { profile_id: 'p-03', change: 'removed' },
      ]);
      const csv = (await readFile(join(job.location, 'audience', 'audience.csv'), 'utf8'))
        .trimEnd()
        .split('\n');
      expect(csv).toHaveLength(12);
      expect(csv).toContain('p-13,e13@x.example,pro,');
      expect(csv.some((line) => line.startsWith('p-03,'))).toBe(false);
      // The first export's files are its own still.
      const first = (
        await readFile(join(exportFolder(root, 'pro-buyers', FIRST), 'audience', 'audience.csv'), 'utf8')
      )
        .trimEnd()
        .split('\n');
      expect(first).toContain('p-03,e03@x.example,pro,');
      expect(first).not.toContain('p-13,e13@x.example,pro,');
    });

    it('the Parquet format: the audience file has the columns under their names, every file Snappy', async () => {
      const completion = recordingCompletion();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
      const job = await exportJob(root, {
        segmentId: 'free-people',
        exportId: FIRST,
        format: 'parquet',
        definition: { trait: { name: 'plan', op: 'eq', value: 'free' } },
        identifiers: ['user_id', 'email'],
        traits: ['plan'],
      });
      await runner.start(job);
      await runner.drain();
      expect(completion.outcomes[0]).toMatchObject({
        kind: 'succeeded',
        result: { count: 2, added: 2, removed: 0 },
      });
      expect(await filesUnder(job.location)).toEqual([
        'audience/audience.parquet',
        'changes/changes.parquet',
        'members/members.parquet',
      ]);
      expect(await rowsOf(join(job.location, 'audience', 'audience.parquet'))).toEqual([
        { profile_id: 'p-03', user_id: 'u-03', email: 'e03@x.example', plan: 'free' },
        { profile_id: 'p-12', user_id: 'u-12', email: 'e12@x.example', plan: 'free' },
      ]);
      // Snappy, as Athena's UNLOAD writes an export in AWS.
      for (const file of [
        'audience/audience.parquet',
        'changes/changes.parquet',
        'members/members.parquet',
      ]) {
        const compressions = await lake.withConnection(async (connection) =>
          (
            await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata($1)`, [
              join(job.location, file),
            ])
          ).getRowObjectsJS(),
        );
        expect(compressions, file).toEqual([{ compression: 'SNAPPY' }]);
      }
    });

    it('columns named like the partition columns do not change which members are read', async () => {
      const completion = recordingCompletion();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
      const job = await exportJob(root, {
        segmentId: 'partition-names',
        exportId: FIRST,
        format: 'parquet',
        definition: { trait: { name: 'plan', op: 'eq', value: 'free' } },
        identifiers: [],
        traits: ['segment_id', 'export_id'],
      });
      await runner.start(job);
      await runner.drain();
      expect(completion.outcomes[0]).toMatchObject({ kind: 'succeeded', result: { count: 2, added: 2 } });
      expect(await rowsOf(join(job.location, 'audience', 'audience.parquet'))).toEqual([
        { profile_id: 'p-03', segment_id: null, export_id: null },
        { profile_id: 'p-12', segment_id: null, export_id: null },
      ]);
    });

    it('an export with no members: zero counts and a CSV of just its header', async () => {
      const completion = recordingCompletion();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
      const job = await exportJob(root, {
        segmentId: 'nobody',
        exportId: FIRST,
        definition: { trait: { name: 'plan', op: 'eq', value: 'none' } },
      });
      await runner.start(job);
      await runner.drain();
      expect(completion.outcomes).toEqual([
        expect.objectContaining({
          kind: 'succeeded',
          result: expect.objectContaining({ count: 0, added: 0, removed: 0 }),
        }),
      ]);
      const csv = await readFile(join(job.location, 'audience', 'audience.csv'), 'utf8');
      expect(csv.trimEnd()).toBe('profile_id,email,plan,company');
    });

    it('a failing members query: failed with the reason, and no file of it visible or left behind', async () => {
      const completion = recordingCompletion();
      const onError = vi.fn();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError });
      const good = await exportJob(root, { segmentId: 'broken', exportId: FIRST });
      const refused = {
        ...good,
        queries: { ...good.queries, members: { sql: 'SELECT * FROM no_such_table', values: [] } },
      };
      await runner.start(refused);
      await runner.drain();
      expect(completion.outcomes).toEqual([
        { kind: 'failed', job: refused, error: expect.stringMatching(/no_such_table/) },
      ]);
      expect(await filesUnder(good.location)).toEqual([]);

      // A query that fails part-way through writing its rows.
      const midway = {
        ...good,
        exportId: SECOND,
        location: exportFolder(root, 'broken', SECOND),
        queries: {
          ...good.queries,
          members: {
            sql:
              "SELECT CASE WHEN i < 250000 THEN 'p-' || i::VARCHAR ELSE error('boom at ' || i::VARCHAR) END AS profile_id " +
              'FROM range(300000) t(i) ORDER BY i',
            values: [],
          },
        },
      };
      await runner.start(midway);
      await runner.drain();
      expect(completion.outcomes[1]).toEqual({
        kind: 'failed',
        job: midway,
        error: expect.stringMatching(/boom at/),
      });
      expect(await filesUnder(midway.location)).toEqual([]);
      expect(onError).not.toHaveBeenCalled();
    });

    it('a failing later step: failed, and no audience file (the members file of that export id is complete)', async () => {
      const completion = recordingCompletion();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
      const good = await exportJob(root, { segmentId: 'broken-audience', exportId: FIRST });
      const job = {
        ...good,
        queries: {
          ...good.queries,
          audience: { sql: 'SELECT profile_id, no_such_column FROM export_members', values: [] },
        },
      };
      await runner.start(job);
      await runner.drain();
      expect(completion.outcomes).toEqual([
        { kind: 'failed', job, error: expect.stringMatching(/no_such_column/) },
      ]);
      expect(await filesUnder(job.location)).toEqual(['members/members.parquet']);
    });

    it('an outcome that cannot be recorded goes to onError, and later exports still run', async () => {
      const boom = new Error('store down');
      const completion: ExportCompletion = {
        succeeded: vi.fn(async () => {
          throw boom;
        }),
        failed: vi.fn(async () => {
          throw boom;
        }),
      };
      const onError = vi.fn();
      const runner = new DuckDbExportRunner({ lake, root, completion, onError });
      const ok = await exportJob(root, { segmentId: 'unrecorded', exportId: FIRST });
      const bad = { ...(await exportJob(root, { segmentId: 'unrecorded', exportId: SECOND })) };
      const refused = { ...bad, queries: { ...bad.queries, counts: { sql: 'SELECT nope', values: [] } } };
      await runner.start(ok);
      await runner.start(refused);
      await runner.drain();
      expect(completion.succeeded).toHaveBeenCalledTimes(1);
      expect(completion.failed).toHaveBeenCalledTimes(1);
      expect(onError.mock.calls).toEqual([
        [boom, ok],
        [boom, refused],
      ]);
      expect(runner.running).toBe(0);
    });

    // A rejected link in the queue would skip every later export without a word and make `drain`
    // reject (and, unawaited, end the process).
    it('an onError that throws does not stop later exports', async () => {
      const completion = recordingCompletion();
      const failing: ExportCompletion = {
        succeeded: async () => {
          throw new Error('store down');
        },
        failed: completion.failed,
      };
      const runner = new DuckDbExportRunner({
        lake,
        root,
        completion: {
          succeeded: (job, result) =>
            job.exportId === 'x00000021' ? failing.succeeded(job, result) : completion.succeeded(job, result),
          failed: completion.failed,
        },
        onError: () => {
          throw new Error('logger down');
        },
      });
      const first = await exportJob(root, { segmentId: 'poisoned', exportId: 'x00000021' });
      const second = await exportJob(root, { segmentId: 'poisoned', exportId: 'x00000022' });
      await runner.start(first);
      await runner.start(second);
      await runner.drain().catch(() => undefined);
      expect(completion.outcomes.map((outcome) => outcome.job.exportId)).toEqual(['x00000022']);
      expect(runner.running).toBe(0);
    });

    it('exports run one at a time, in the order started; drain waits for all, even those started meanwhile', async () => {
      let active = 0;
      let most = 0;
      const original = lake.withConnection.bind(lake);
      const spy = vi.spyOn(lake, 'withConnection').mockImplementation((async (work: never) => {
        active += 1;
        most = Math.max(most, active);
        try {
          return await original(work);
        } finally {
          active -= 1;
        }
      }) as typeof lake.withConnection);
      try {
        const jobs = await Promise.all(
          ['x00000011', 'x00000012', 'x00000013'].map((exportId) =>
            exportJob(root, { segmentId: 'queued', exportId }),
          ),
        );
        const late = await exportJob(root, { segmentId: 'queued', exportId: 'x00000014' });
        const order: string[] = [];
        let runner: DuckDbExportRunner | undefined;
        const completion: ExportCompletion = {
          async succeeded(job) {
            order.push(job.exportId);
            // The next export has not begun while this one is being recorded.
            const next = jobs[jobs.indexOf(job) + 1];
            if (next !== undefined) expect(await filesUnder(next.location)).toEqual([]);
            // An export started while draining is waited for too.
            if (job === jobs[2]) await runner?.start(late);
          },
          async failed(job, error) {
            order.push(`${job.exportId} failed: ${error}`);
          },
        };
        runner = new DuckDbExportRunner({ lake, root, completion, onError: vi.fn() });
        for (const job of jobs) await runner.start(job);
        expect(runner.running).toBe(3);
        await runner.drain();
        expect(runner.running).toBe(0);
        expect(order).toEqual(['x00000011', 'x00000012', 'x00000013', 'x00000014']);
        expect(most).toBe(1);
        expect(await filesUnder(late.location)).toContain('audience/audience.csv');
      } finally {
        spy.mockRestore();
      }
    });
  });
});
