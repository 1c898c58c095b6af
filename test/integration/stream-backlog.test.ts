import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../src/local/runtime';
import { silentLogger } from '../../src/ports/logger';
import { ADMIN_KEY, basicAuth, eventsGlob, queryLake, startTestRuntime, WRITE_KEY } from './local-runtime';

let runtime: LocalRuntime;
let stop: () => Promise<void>;

beforeAll(async () => {
  // A stream that keeps 10 records in memory: everything past them waits on disk for the consumers.
  ({ runtime, stop } = await startTestRuntime({ streamMemoryRecords: 10 }));
});
afterAll(async () => {
  await stop();
});

describe('a second runtime on the same data directory', () => {
  it('is refused with a clear error, and the first keeps serving', async () => {
    await expect(
      startLocalRuntime({
        port: 0,
        dataDir: runtime.dataDir,
        logger: silentLogger,
        sources: [],
        adminKeys: [],
      }),
    ).rejects.toThrow(/Another Mosaic runtime \(process \d+\) is using .*MOSAIC_DATA_DIR/);
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
  });
});

describe('a backlog past the stream memory budget', () => {
  it('is accepted, waits on disk, and is resolved and landed in full, the files passed then removed', async () => {
    const people = Array.from({ length: 30 }, (_, i) => `backlog-user-${i}`);
    const sent: string[] = [];
    let mostSpilled = 0;
    const responses = await Promise.all(
      Array.from({ length: 30 }, async (_, request) => {
        const batch = people.map((userId, i) => {
          const messageId = randomUUID();
          sent.push(messageId);
          return { type: 'track', event: 'Backlog Tested', userId, messageId, properties: { request, i } };
        });
        const response = await fetch(`${runtime.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth(WRITE_KEY) },
          body: JSON.stringify({ batch }),
        });
        mostSpilled = Math.max(mostSpilled, runtime.stats().spilled);
        return response.status;
      }),
    );
    expect(responses).toEqual(responses.map(() => 200));
    expect(mostSpilled).toBeGreaterThan(0);

    await runtime.flush();
    expect(runtime.stats()).toMatchObject({
      accepted: 900,
      landed: 900,
      resolved: 900,
      spilled: 0,
      inFlight: 0,
    });
    const rows = await queryLake(`SELECT message_id FROM read_parquet('${eventsGlob(runtime)}')`);
    expect(rows.map((row) => row.message_id).sort()).toEqual([...sent].sort());
    // Log files every consumer has passed are deleted; each shard keeps the one it appends to.
    const files = await readdir(join(runtime.dataDir, 'stream'));
    expect(files.filter((file) => file.endsWith('.log')).length).toBeLessThanOrEqual(4);
    expect(files.length).toBeLessThan(10);

    const profile = await fetch(`${runtime.url}/v1/profiles/user_id:${people[7]}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(((await profile.json()) as { computed: { eventCount: number } }).computed.eventCount).toBe(30);
  });
});

describe('a backlog past the stream’s budget on disk', () => {
  it('is refused with 503 until the consumers catch up, and a client that sends again loses nothing', async () => {
    // About 100 records of backlog: thirty requests of thirty at once overrun it before the consumers
    // have processed any.
    const small = await startTestRuntime({ streamMemoryRecords: 10, streamBacklogBytes: 32 * 1024 });
    try {
      const bodies = Array.from({ length: 30 }, (_, request) =>
        JSON.stringify({
          batch: Array.from({ length: 30 }, (_, i) => ({
            type: 'track',
            event: 'Budget Tested',
            userId: `budget-user-${i}`,
            messageId: `budget-${request}-${i}`,
          })),
        }),
      );
      const send = (body: string) =>
        fetch(`${small.runtime.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth(WRITE_KEY) },
          body,
        });
      const first = await Promise.all(bodies.map(send));
      const refused = bodies.filter((_, i) => first[i]?.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(first.every((response) => response.status === 200 || response.status === 503)).toBe(true);
      const answer = (await (first.find((r) => r.status === 503) as Response).json()) as {
        error: { code: string };
      };
      expect(answer.error.code).toBe('service_unavailable');
      // As an SDK does: the refused requests again, one at a time, until they are taken.
      for (const body of refused) {
        for (let attempt = 0; ; attempt++) {
          const response = await send(body);
          if (response.status === 200) break;
          expect(attempt).toBeLessThan(50);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await small.runtime.flush();
      const rows = await queryLake(
        `SELECT DISTINCT message_id FROM read_parquet('${eventsGlob(small.runtime)}') WHERE event = 'Budget Tested'`,
      );
      expect(rows).toHaveLength(900);
    } finally {
      await small.stop();
    }
  });
});
