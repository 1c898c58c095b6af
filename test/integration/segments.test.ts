import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportView, PreviewView, SegmentListView, SegmentView } from '../../src/core/segments/views';
import type { LocalRuntime } from '../../src/local/runtime';
import { ADMIN_KEY, basicAuth, eventsGlob, queryLake, startTestRuntime, WRITE_KEY } from './local-runtime';

let runtime: LocalRuntime;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
});
afterAll(async () => {
  await stop();
});

async function api<T>(method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    data: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}

/** Sends the events with the Segment SDK and waits until the runtime has resolved and landed them. */
async function send(calls: (analytics: Analytics) => void): Promise<void> {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host: runtime.url, flushAt: 50, flushInterval: 50 });
  calls(analytics);
  await analytics.closeAndFlush({ timeout: 10_000 });
  await runtime.flush();
}

/** The text of every `events-*.ndjson` file of the local bus log, oldest first. */
async function readdirText(dir: string): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true }))
    .filter((file) => /events-.*\.ndjson$/.test(file))
    .sort();
  return Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')));
}

async function waitForExport(exportId: string): Promise<ExportView> {
  for (let i = 0; i < 200; i++) {
    const { data } = await api<ExportView>('GET', `/v1/exports/${exportId}`);
    if (data.status !== 'RUNNING') return data;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`export ${exportId} still running`);
}

/** The profile id of a user id, from the Profile API. */
async function profileOf(userId: string): Promise<string> {
  const { data } = await api<{ profileId: string }>('GET', `/v1/profiles/user_id:${userId}`);
  return data.profileId;
}

const PRO_BUYERS = {
  id: 'pro-buyers',
  name: 'Pro plan buyers',
  definition: {
    all: [
      { trait: { name: 'plan', op: 'eq', value: 'pro' } },
      { event: { name: 'Order Completed', count: { op: 'gte', value: 1 }, within: { last: { days: 30 } } } },
    ],
  },
};

describe('SDK events → local runtime → segment → preview → export', () => {
  it('finds the right people, exports them, and reports who entered and left on the next export', async () => {
    // Ann browses anonymously, buys, then identifies on the pro plan: her anonymous order counts.
    // Bob is on pro and bought; Cid bought but is on the free plan; Dee is on pro and never bought.
    await send((a) => {
      a.track({ anonymousId: 'anon-ann', event: 'Order Completed', properties: { revenue: 30 } });
      a.identify({
        anonymousId: 'anon-ann',
        userId: 'ann',
        traits: { plan: 'pro', email: 'ann@example.com' },
      });
      a.identify({ userId: 'bob', traits: { plan: 'pro', email: 'Bob@Example.com' } });
      a.track({ userId: 'bob', event: 'Order Completed', properties: { revenue: 99 } });
      a.identify({ userId: 'cid', traits: { plan: 'free' } });
      a.track({ userId: 'cid', event: 'Order Completed', properties: { revenue: 5 } });
      a.identify({ userId: 'dee', traits: { plan: 'pro' } });
    });
    const [ann, bob, dee] = await Promise.all(['ann', 'bob', 'dee'].map(profileOf));

    const created = await api<SegmentView>('POST', '/v1/segments', PRO_BUYERS);
    expect(created.status).toBe(201);
    expect(created.location).toBe('/v1/segments/pro-buyers');
    expect(created.data).toMatchObject({ id: 'pro-buyers', name: 'Pro plan buyers', version: 1 });
    expect((await api('POST', '/v1/segments', PRO_BUYERS)).status).toBe(409);

    const preview = await api<PreviewView>('POST', '/v1/segments/pro-buyers/preview');
    expect(preview.status).toBe(200);
    expect(preview.data).toMatchObject({ status: 'SUCCEEDED', segmentId: 'pro-buyers', count: 2 });
    expect(preview.data.sample).toEqual([ann, bob].sort());
    // The preview can be read again by its id, as a polled one in AWS.
    const again = await api<PreviewView>('GET', `/v1/previews/${preview.data.previewId}`);
    expect(again.data).toMatchObject({ status: 'SUCCEEDED', count: 2 });

    const started = await api<ExportView>('POST', '/v1/segments/pro-buyers/exports', {
      format: 'csv',
      identifiers: ['email', 'user_id'],
      traits: ['plan'],
    });
    expect(started.status).toBe(202);
    expect(started.location).toBe(`/v1/exports/${started.data.exportId}`);
    const first = await waitForExport(started.data.exportId);
    expect(first).toMatchObject({ status: 'SUCCEEDED', count: 2, added: 2, removed: 0 });
    expect(first.previousExportId).toBeUndefined();
    const csv = await readFile(join(first.location, 'audience.csv'), 'utf8');
    expect(csv.trim().split('\n')).toEqual([
      'profile_id,email,user_id,plan',
      ...[`${ann},ann@example.com,ann,pro`, `${bob},bob@example.com,bob,pro`].sort(),
    ]);

    // Dee buys (enters), Bob moves to the free plan (leaves).
    await send((a) => {
      a.track({ userId: 'dee', event: 'Order Completed', properties: { revenue: 12 } });
      a.identify({ userId: 'bob', traits: { plan: 'free' } });
    });
    const second = await api<ExportView>('POST', '/v1/segments/pro-buyers/exports', { format: 'parquet' });
    const done = await waitForExport(second.data.exportId);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      count: 2,
      added: 1,
      removed: 1,
      previousExportId: first.exportId,
      format: 'parquet',
    });
    const members = await queryLake(
      `SELECT profile_id FROM read_parquet('${join(done.location, '*.parquet')}') ORDER BY profile_id`,
    );
    expect(members.map((row) => row.profile_id)).toEqual([ann, dee].sort());
    const changes = await queryLake(
      `SELECT profile_id, change FROM read_parquet('${join(done.location, '..', 'changes', '*.parquet')}') ORDER BY change`,
    );
    expect(changes).toEqual([
      { profile_id: dee, change: 'added' },
      { profile_id: bob, change: 'removed' },
    ]);

    // The segment remembers its last export; the bus carried both completions.
    const segment = await api<SegmentView>('GET', '/v1/segments/pro-buyers');
    expect(segment.data.lastExport).toMatchObject({ exportId: done.exportId, count: 2 });
    const completions = (await readdirText(join(runtime.dataDir, 'bus')))
      .flatMap((text) => text.split('\n'))
      .filter((line) => line.includes('"Audience Export Completed"'))
      .map(
        (line) =>
          (JSON.parse(line) as { detail: { exportId: string; added: number; removed: number } }).detail,
      );
    expect(completions).toEqual([
      expect.objectContaining({ exportId: first.exportId, added: 2, removed: 0, segmentId: 'pro-buyers' }),
      expect.objectContaining({
        exportId: done.exportId,
        added: 1,
        removed: 1,
        previousExportId: first.exportId,
      }),
    ]);
  });

  it("a messageId reused by another person's event counts for both, in a segment as on their profiles; a retry once", async () => {
    // A backend that hard-codes the messageId: two people's events under one id, and Gil's request
    // again, as an SDK retries it (a true duplicate).
    const track = async (body: object) => {
      const response = await fetch(`${runtime.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
    };
    const gil = { userId: 'gil', event: 'Refund Requested', messageId: 'hard-coded-1' };
    await track(gil);
    await track({ userId: 'hal', event: 'Refund Requested', messageId: 'hard-coded-1' });
    await track(gil);
    await runtime.flush();
    const landed = await queryLake(
      `SELECT user_id FROM read_parquet('${eventsGlob(runtime)}', hive_partitioning = true)
        WHERE message_id = 'hard-coded-1' ORDER BY user_id`,
    );
    expect(landed.map((row) => row.user_id)).toEqual(['gil', 'gil', 'hal']);

    const profiles = await Promise.all(
      ['gil', 'hal'].map(async (userId) => {
        const { data } = await api<{ profileId: string; computed: { eventCounts: Record<string, number> } }>(
          'GET',
          `/v1/profiles/user_id:${userId}`,
        );
        return data;
      }),
    );
    expect(profiles.map((profile) => profile.computed.eventCounts['Refund Requested'])).toEqual([1, 1]);

    const refunds = (count: number) => ({
      id: `refunds-${count}`,
      name: `Exactly ${count} refund requests`,
      definition: { event: { name: 'Refund Requested', count: { op: 'eq', value: count } } },
    });
    for (const count of [1, 2]) expect((await api('POST', '/v1/segments', refunds(count))).status).toBe(201);
    const once = await api<PreviewView>('POST', '/v1/segments/refunds-1/preview');
    expect(once.data).toMatchObject({ status: 'SUCCEEDED', count: 2 });
    expect(once.data.sample).toEqual(profiles.map((profile) => profile.profileId).sort());
    const twice = await api<PreviewView>('POST', '/v1/segments/refunds-2/preview');
    expect(twice.data).toMatchObject({ status: 'SUCCEEDED', count: 0 });
  });

  it('answers bad definitions with the path of each bad node, and protects referenced segments', async () => {
    const bad = await api<{ error: { code: string; issues: { path: string }[] } }>('POST', '/v1/segments', {
      id: 'bad',
      name: 'Bad',
      definition: {
        all: [{ trait: { name: 'plan', op: 'nope', value: 1 } }, { segment: { id: 'missing' } }],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.data.error.code).toBe('invalid_segment');
    expect(bad.data.error.issues.map((issue) => issue.path)).toEqual([
      'definition.all[0].trait.op',
      'definition.all[1].segment.id',
    ]);

    await api('POST', '/v1/segments', {
      id: 'base',
      name: 'Base',
      definition: { trait: { name: 'plan', op: 'exists' } },
    });
    await api('POST', '/v1/segments', {
      id: 'derived',
      name: 'Derived',
      definition: { segment: { id: 'base' } },
    });
    const cycle = await api<{ error: { message: string } }>('PUT', '/v1/segments/base', {
      name: 'Base',
      definition: { segment: { id: 'derived' } },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.data.error.message).toMatch(/base → derived → base|cycle/);
    const renamed = await api<SegmentView>('PUT', '/v1/segments/base', {
      name: 'Base, renamed',
      definition: { trait: { name: 'plan', op: 'in', value: ['pro', 'team'] } },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.data).toMatchObject({ name: 'Base, renamed', version: 2 });
    expect((await api('DELETE', '/v1/segments/base')).status).toBe(409);
    expect((await api('DELETE', '/v1/segments/derived')).status).toBe(204);
    expect((await api('DELETE', '/v1/segments/base')).status).toBe(204);
    expect((await api('GET', '/v1/segments/base')).status).toBe(404);

    const list = await api<SegmentListView>('GET', '/v1/segments?limit=1');
    expect(list.data.segments).toHaveLength(1);
    expect((await api('GET', '/v1/segments', undefined, null)).status).toBe(401);
    expect((await api('GET', '/v1/exports/x0000000000000000000000')).status).toBe(404);
    expect(
      (await api('POST', '/v1/segments/pro-buyers/exports', { identifiers: ['shoe_size'] })).status,
    ).toBe(400);
  });
});
