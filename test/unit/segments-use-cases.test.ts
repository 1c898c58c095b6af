import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../src/adapters/local/memory-event-bus';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '../../src/core/errors';
import { AUDIENCE_EXPORT_COMPLETED, AudienceExportCompletedDetail } from '../../src/core/events/bus-events';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { EXPORT_ID } from '../../src/core/segments';
import { ManualClock } from '../../src/ports/clock';
import { silentLogger } from '../../src/ports/logger';
import { createExportCompletion, createSegments, newExportId } from '../../src/use-cases/segments';
import { MemorySegmentStore, RecordingExportRunner, ScriptedAudienceEngine } from '../support/segments-fakes';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const PRO = { trait: { name: 'plan', op: 'eq', value: 'pro' } };

function setup(dialect: 'athena' | 'duckdb' = 'duckdb') {
  const store = new MemorySegmentStore();
  const engine = new ScriptedAudienceEngine(dialect);
  const runner = new RecordingExportRunner(
    dialect,
    dialect === 'athena' ? 's3://exports-bucket/exports' : '/data/exports',
  );
  const clock = new ManualClock(NOW);
  let n = 0;
  const segments = createSegments({
    store,
    engine,
    runner,
    clock,
    random: () => `r${(n++).toString().padStart(11, '0')}`,
    identity: DEFAULT_IDENTITY_CONFIG,
    previewWaitMs: 20_000,
    logger: silentLogger,
    ...(dialect === 'athena'
      ? {
          tables: {
            events: { database: 'mosaic_lake', table: 'events' },
            identityLinks: { database: 'mosaic_lake', table: 'identity_links' },
          },
          exportMembers: { database: 'mosaic_lake', table: 'export_members' },
        }
      : {}),
  });
  return { store, engine, runner, clock, segments };
}

describe('segment definitions', () => {
  it('creates a segment at version 1, stamped, and refuses the same id twice', async () => {
    const { segments } = setup();
    const created = await segments.create({ id: 'pro', name: ' Pro ', definition: PRO });
    expect(created).toEqual({
      id: 'pro',
      name: 'Pro',
      definition: PRO,
      version: 1,
      createdAt: '2026-11-22T12:00:00.000Z',
      updatedAt: '2026-11-22T12:00:00.000Z',
    });
    await expect(segments.create({ id: 'pro', name: 'Again', definition: PRO })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('names every bad field of a request and every bad node of a definition by its path', async () => {
    const { segments, store } = setup();
    const badRequest = await segments.create({ id: 'has space', name: '', definition: PRO }).catch((e) => e);
    expect(badRequest).toBeInstanceOf(BadRequestError);
    expect(badRequest.issues.map((issue: { path: string }) => issue.path)).toEqual(['id', 'name']);
    const badDefinition = await segments
      .create({
        id: 'x',
        name: 'X',
        definition: { any: [PRO, { event: { name: 'A', count: { op: 'gte' } } }] },
      })
      .catch((e) => e);
    expect(badDefinition.code).toBe('invalid_segment');
    expect(badDefinition.issues[0].path).toMatch(/^definition\.any\[1\]\.event\.count/);
    expect(store.segments.size).toBe(0);
  });

  it('refuses a reference to a missing segment, and an update that closes a cycle', async () => {
    const { segments } = setup();
    await expect(
      segments.create({ id: 'a', name: 'A', definition: { segment: { id: 'missing' } } }),
    ).rejects.toMatchObject({ code: 'invalid_segment' });
    await segments.create({ id: 'a', name: 'A', definition: PRO });
    await segments.create({ id: 'b', name: 'B', definition: { segment: { id: 'a' } } });
    await expect(
      segments.update('a', { name: 'A', definition: { not: { segment: { id: 'b' } } } }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/a → b → a/) });
    await expect(
      segments.update('a', { name: 'A', definition: { segment: { id: 'a' } } }),
    ).rejects.toMatchObject({
      code: 'invalid_segment',
    });
  });

  it('updates name, description and definition, bumping the version; drops a description not given', async () => {
    const { segments, clock } = setup();
    await segments.create({ id: 'a', name: 'A', description: 'first', definition: PRO });
    clock.advance(60_000);
    const updated = await segments.update('a', {
      name: 'A2',
      definition: { trait: { name: 'plan', op: 'exists' } },
    });
    expect(updated).toMatchObject({ name: 'A2', version: 2, updatedAt: '2026-11-22T12:01:00.000Z' });
    expect(updated.description).toBeUndefined();
    await expect(segments.update('nope', { name: 'N', definition: PRO })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('deletes a segment nothing refers to; refuses one in use, naming who uses it', async () => {
    const { segments } = setup();
    await segments.create({ id: 'base', name: 'Base', definition: PRO });
    await segments.create({
      id: 'uses',
      name: 'Uses',
      definition: { all: [PRO, { not: { segment: { id: 'base' } } }] },
    });
    await expect(segments.remove('base')).rejects.toMatchObject({
      code: 'segment_in_use',
      message: /"uses"/,
    });
    await segments.remove('uses');
    await segments.remove('base');
    await expect(segments.get('base')).rejects.toBeInstanceOf(NotFoundError);
    await expect(segments.remove('base')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists a page at a time within the limits', async () => {
    const { segments } = setup();
    for (const id of ['c', 'a', 'b']) await segments.create({ id, name: id, definition: PRO });
    const first = await segments.list({ limit: 2 });
    expect(first.segments.map((s) => s.id)).toEqual(['a', 'b']);
    const second = await segments.list({
      limit: 2,
      ...(first.next === undefined ? {} : { next: first.next }),
    });
    expect(second.segments.map((s) => s.id)).toEqual(['c']);
    expect(second.next).toBeUndefined();
    await expect(segments.list({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_limit' });
    await expect(segments.list({ limit: 101 })).rejects.toMatchObject({ code: 'invalid_limit' });
  });
});

describe('previews', () => {
  it('runs the preview query for the engine with values bound at now, and keeps the preview to poll', async () => {
    const { segments, engine, store } = setup('athena');
    await segments.create({
      id: 'buyers',
      name: 'B',
      definition: { event: { name: 'Order Completed', within: { last: { days: 7 } } } },
    });
    engine.next = () => ({ status: 'RUNNING', previewId: 'athena-q-1' });
    const preview = await segments.preview('buyers');
    expect(preview).toEqual({ segmentId: 'buyers', status: 'RUNNING', previewId: 'athena-q-1' });
    expect(engine.waits).toEqual([20_000]);
    const query = engine.queries[0];
    expect(query?.sql).toContain('"mosaic_lake"."events"');
    // 7 days before now, and the dt partition an hour earlier still.
    expect(query?.values).toContain('2026-11-15 12:00:00.000');
    expect(query?.values).toContain('2026-11-15');
    expect(store.previews.get('athena-q-1')).toEqual({
      previewId: 'athena-q-1',
      segmentId: 'buyers',
      startedAt: '2026-11-22T12:00:00.000Z',
    });

    engine.outcomes.set('athena-q-1', {
      status: 'SUCCEEDED',
      previewId: 'athena-q-1',
      count: 3,
      sample: ['p1', 'p2', 'p3'],
      bytesScanned: 1024,
      elapsedMs: 31_000,
    });
    expect(await segments.previewStatus('athena-q-1')).toMatchObject({
      segmentId: 'buyers',
      count: 3,
      bytesScanned: 1024,
    });
    await expect(segments.previewStatus('unknown')).rejects.toBeInstanceOf(NotFoundError);
    await expect(segments.previewStatus('../../etc')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('evaluates referenced segments as they are now', async () => {
    const { segments, engine } = setup();
    await segments.create({ id: 'base', name: 'Base', definition: PRO });
    await segments.create({ id: 'top', name: 'Top', definition: { segment: { id: 'base' } } });
    await segments.preview('top');
    await segments.update('base', {
      name: 'Base',
      definition: { trait: { name: 'plan', op: 'eq', value: 'team' } },
    });
    await segments.preview('top');
    expect(engine.queries.map((q) => q.values)).toEqual([['pro'], ['team']]);
  });
});

describe('exports', () => {
  it('records a RUNNING export and starts the job with the plan for the runner, in the export’s folder', async () => {
    const { segments, runner, store } = setup('athena');
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const started = await segments.startExport('pro', {
      identifiers: ['email'],
      traits: ['plan'],
      destination: 'esp',
    });
    expect(started.exportId).toMatch(EXPORT_ID);
    expect(started).toMatchObject({
      status: 'RUNNING',
      segmentId: 'pro',
      segmentVersion: 1,
      format: 'csv',
      identifiers: ['email'],
      traits: ['plan'],
      destination: 'esp',
      location: `s3://exports-bucket/exports/segment_id=pro/export_id=${started.exportId}/audience/`,
    });
    expect(started.previousExportId).toBeUndefined();
    expect(store.exports.get(started.exportId)?.status).toBe('RUNNING');
    const job = runner.jobs[0];
    expect(job?.location).toBe(`s3://exports-bucket/exports/segment_id=pro/export_id=${started.exportId}`);
    expect(job?.queries.members.sql).toContain('"mosaic_lake"."identity_links"');
    expect(job?.queries.members.values).toEqual(expect.arrayContaining(['pro', 'email']));
    // The first export compares with no export: the empty id.
    expect(job?.queries.changes.values).toEqual(['pro', started.exportId, 'pro', '']);
  });

  it('compares with the segment’s last successful export', async () => {
    const { segments, runner, store, clock } = setup();
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const first = await segments.startExport('pro', {});
    await store.completeExport(first.exportId, { completedAt: 'x', count: 1, added: 1, removed: 0 });
    clock.advance(1000);
    const second = await segments.startExport('pro', { format: 'parquet' });
    expect(second.previousExportId).toBe(first.exportId);
    expect(second.exportId > first.exportId).toBe(true);
    expect(runner.jobs[1]?.queries.counts.values).toEqual(['pro', second.exportId, 'pro', first.exportId]);
  });

  it('refuses unknown identifier types, bad trait names and clashing columns before recording anything', async () => {
    const { segments, store } = setup();
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    await expect(segments.startExport('pro', { identifiers: ['shoe_size'] })).rejects.toMatchObject({
      code: 'unknown_identifier_type',
    });
    await expect(segments.startExport('pro', { traits: ['a"b'] })).rejects.toMatchObject({
      code: 'invalid_export',
    });
    await expect(
      segments.startExport('pro', { identifiers: ['email'], traits: ['email'] }),
    ).rejects.toMatchObject({
      code: 'invalid_export',
    });
    await expect(segments.startExport('pro', { format: 'xlsx' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(segments.startExport('nope', {})).rejects.toBeInstanceOf(NotFoundError);
    expect(store.exports.size).toBe(0);
  });

  it('marks the export FAILED and answers 503 when the runner cannot start it', async () => {
    const { segments, runner, store } = setup();
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    runner.failWith = new Error('ThrottlingException');
    await expect(segments.startExport('pro', {})).rejects.toBeInstanceOf(ServiceUnavailableError);
    const [record] = [...store.exports.values()];
    expect(record).toMatchObject({ status: 'FAILED', error: expect.stringContaining('ThrottlingException') });
  });

  it('passes on a refusal the caller must fix (400), still marking the export FAILED', async () => {
    const { segments, runner, store } = setup();
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    runner.failWith = new BadRequestError('the workflow input is over 256 KiB', { code: 'export_too_large' });
    await expect(segments.startExport('pro', {})).rejects.toMatchObject({ code: 'export_too_large' });
    expect([...store.exports.values()][0]?.status).toBe('FAILED');
  });

  it('adds the columns a named destination receives; refuses a destination that is not configured', async () => {
    const store = new MemorySegmentStore();
    const runner = new RecordingExportRunner();
    const segments = createSegments({
      store,
      engine: new ScriptedAudienceEngine(),
      runner,
      clock: new ManualClock(NOW),
      random: () => 'r00000000000',
      identity: DEFAULT_IDENTITY_CONFIG,
      destinationColumns: (name) =>
        name === 'esp' ? { identifiers: ['email', 'user_id'], traits: ['first_name'] } : undefined,
      previewWaitMs: 0,
      logger: silentLogger,
    });
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const started = await segments.startExport('pro', {
      destination: 'esp',
      identifiers: ['user_id', 'phone'],
    });
    expect(started.identifiers).toEqual(['user_id', 'phone', 'email']);
    expect(started.traits).toEqual(['first_name']);
    expect(runner.jobs[0]?.queries.members.values).toEqual(
      expect.arrayContaining(['user_id', 'phone', 'email']),
    );
    await expect(segments.startExport('pro', { destination: 'nowhere' })).rejects.toMatchObject({
      code: 'unknown_destination',
    });
    expect(store.exports.size).toBe(1);
  });

  it('reads an export by id; a malformed or unknown id is 404', async () => {
    const { segments } = setup();
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const started = await segments.startExport('pro', {});
    expect(await segments.getExport(started.exportId)).toEqual(started);
    await expect(segments.getExport('x0000000000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(segments.getExport("x'; drop")).rejects.toBeInstanceOf(NotFoundError);
  });

  it('export ids sort by time, whatever the random part', () => {
    const early = newExportId(NOW, 'zzzzzzzzzzzz');
    const late = newExportId(NOW + 1, '000000000000');
    expect(early < late).toBe(true);
    expect(early).toMatch(EXPORT_ID);
    expect(newExportId(NOW, 'A-B_c')).toMatch(EXPORT_ID);
  });
});

describe('export completion (what the AWS workflow’s last states do)', () => {
  it('marks the export SUCCEEDED, sets lastExport, and publishes Audience Export Completed v1', async () => {
    const { segments, runner, store, clock } = setup();
    const bus = new MemoryEventBus();
    const seen: unknown[] = [];
    bus.subscribe({ source: ['mosaic'] }, async (event) => void seen.push(event));
    const completion = createExportCompletion({ store, bus, clock, logger: silentLogger });
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const started = await segments.startExport('pro', { destination: 'esp' });
    const job = runner.jobs[0];
    if (job === undefined) throw new Error('no job');
    await completion.succeeded(job, {
      count: 5,
      added: 5,
      removed: 0,
      membersLocation: `${job.location}/members/`,
      audienceLocation: `${job.location}/audience/`,
      changesLocation: `${job.location}/changes/`,
    });
    await bus.drain();
    expect(store.exports.get(started.exportId)).toMatchObject({
      status: 'SUCCEEDED',
      count: 5,
      added: 5,
      removed: 0,
    });
    expect(store.segments.get('pro')?.lastExport).toMatchObject({ exportId: started.exportId, count: 5 });
    expect(seen).toHaveLength(1);
    const event = seen[0] as { 'detail-type': string; detail: unknown };
    expect(event['detail-type']).toBe(AUDIENCE_EXPORT_COMPLETED);
    expect(AudienceExportCompletedDetail.parse(event.detail)).toMatchObject({
      version: 1,
      exportId: started.exportId,
      destination: 'esp',
      count: 5,
    });
  });

  it('marks a failed export FAILED with the reason, publishing nothing', async () => {
    const { segments, runner, store, clock } = setup();
    const bus = new MemoryEventBus();
    const completion = createExportCompletion({ store, bus, clock, logger: silentLogger });
    await segments.create({ id: 'pro', name: 'Pro', definition: PRO });
    const started = await segments.startExport('pro', {});
    const job = runner.jobs[0];
    if (job === undefined) throw new Error('no job');
    await completion.failed(job, 'Binder Error: boom');
    expect(store.exports.get(started.exportId)).toMatchObject({
      status: 'FAILED',
      error: 'Binder Error: boom',
    });
    expect(store.segments.get('pro')?.lastExport).toBeUndefined();
  });
});
