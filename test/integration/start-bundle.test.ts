import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleLocalRuntime, RUNTIME_NODE_ARGS } from '../../scripts/start.mjs';
import { ADMIN_KEY, basicAuth, startMosaicProcess, WRITE_KEY } from './local-runtime';

const children: ChildProcess[] = [];
let dataDir: string | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Polls `read` until it gives a value, for up to `ms`. */
async function eventually<T>(read: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start: the bundled local runtime', () => {
  it('runs from its bundle with the resolver thread bundled next to it: an identify is resolved into a profile, and SIGTERM stops it cleanly', async () => {
    const bundle = await bundleLocalRuntime();
    // The runtime starts its resolver thread from this file, next to its own bundle.
    expect((await stat(join(dirname(bundle), 'resolver-thread.mjs'))).isFile()).toBe(true);

    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-bundle-'));
    const { child, url, output, exited } = await startMosaicProcess(
      [...RUNTIME_NODE_ARGS, bundle],
      dataDir,
      children,
    );

    const sent = await fetch(`${url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bundle-user', anonymousId: 'bundle-anon', traits: { plan: 'pro' } }),
    });
    expect(sent.status).toBe(200);
    const profile = await eventually(async () => {
      const answer = await fetch(`${url}/v1/profiles/user_id:bundle-user`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      return answer.status === 200
        ? ((await answer.json()) as { traits: Record<string, unknown>; computed: { eventCount: number } })
        : undefined;
    });
    expect(profile.traits).toEqual({ plan: 'pro' });
    expect(profile.computed.eventCount).toBe(1);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('Stopped cleanly: 1 accepted, 0 rejected, 1 landed, 1 resolved.');
  });
});
