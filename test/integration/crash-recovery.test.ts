import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_KEY, basicAuth, queryLake, startMosaicProcess, WRITE_KEY } from './local-runtime';

const root = join(import.meta.dirname, '..', '..');
const children: ChildProcess[] = [];
let dataDir: string | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `npm start`'s program from its sources, as a user runs it, on `dir`. */
const startMosaic = (dir: string) =>
  startMosaicProcess(['--import', 'tsx', join(root, 'src', 'local', 'main.ts')], dir, children);

async function eventCountOf(url: string, userId: string): Promise<number | undefined> {
  const response = await fetch(`${url}/v1/profiles/user_id:${userId}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  if (response.status !== 200) return undefined;
  return ((await response.json()) as { computed: { eventCount: number } }).computed.eventCount;
}

async function profileIdOf(url: string, userId: string): Promise<string | undefined> {
  const response = await fetch(`${url}/v1/profiles/user_id:${userId}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
}

describe('the local runtime killed with a backlog', () => {
  it('loses nothing it acknowledged: started again on the same data directory, it resolves and lands every event and identity link', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-crash-'));
    const people = Array.from({ length: 50 }, (_, i) => `crash-user-${i}`);
    const requests = 40;
    const sent: string[] = [];
    const first = await startMosaic(dataDir);
    const statuses = await Promise.all(
      Array.from({ length: requests }, async (_, request) => {
        const batch = people.map((userId) => {
          const messageId = randomUUID();
          sent.push(messageId);
          return { type: 'track', event: 'Crash Tested', userId, messageId, properties: { request } };
        });
        const response = await fetch(`${first.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth(WRITE_KEY) },
          body: JSON.stringify({ batch }),
        });
        return response.status;
      }),
    );
    expect(statuses).toEqual(statuses.map(() => 200));
    // Every event was acknowledged; the process dies before its consumers are through them.
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startMosaic(dataDir);
    const recovered = Number(
      /recovered: +(\d+) records? the last run accepted/.exec(second.output())?.[1] ?? 0,
    );
    expect(recovered).toBeGreaterThan(0);
    expect(recovered).toBeLessThanOrEqual(sent.length);

    // The resolver deduplicates by messageId, so whatever it sees twice counts once.
    await expect
      .poll(async () => Promise.all(people.map((userId) => eventCountOf(second.url, userId))), {
        timeout: 60_000,
        interval: 250,
      })
      .toEqual(people.map(() => requests));

    const profileIds = await Promise.all(people.map((userId) => profileIdOf(second.url, userId)));

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Every identifier's latest identity_links row names the profile the graph points it at. (Here the
    // kill lands wherever it lands; test/scenarios/crash-recovery.test.ts stops the resolver after
    // each of its writes in turn.)
    const links = await queryLake(
      `SELECT id_value, arg_max(profile_id, linked_at) AS profile_id FROM read_parquet('${dataDir}/lake/identity_links/**/*.parquet') WHERE id_type = 'user_id' GROUP BY id_value`,
    );
    expect(new Map(links.map((row) => [row.id_value, row.profile_id]))).toEqual(
      new Map(people.map((userId, i) => [userId, profileIds[i]])),
    );
    const rows = await queryLake(
      `SELECT message_id FROM read_parquet('${dataDir}/lake/events/**/*.parquet') WHERE event = 'Crash Tested'`,
    );
    // At least once, as Firehose: every acknowledged event is in the lake.
    expect(new Set(rows.map((row) => row.message_id))).toEqual(new Set(sent));
  }, 120_000);
});
