import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context';
import { EXIT } from '../../src/cli/failures';
import { run } from '../../src/cli/mosaic';
import type { LocalRuntime } from '../../src/local/runtime';
import { ADMIN_KEY, basicAuth, startTestRuntime, WRITE_KEY } from './local-runtime';

const BIN = fileURLToPath(new URL('../../bin/mosaic-cli.mjs', import.meta.url));

let runtime: LocalRuntime;
let stop: () => Promise<void>;
/** A URL where nothing listens. */
let downUrl: string;

beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  downUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  // One person on two devices, merged by email; and a visitor whose anonymous id ends in "/events".
  const response = await fetch(`${runtime.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
    body: JSON.stringify({
      batch: [
        { type: 'track', anonymousId: 'web-anon-1', event: 'Plan Viewed', properties: { plan: 'pro' } },
        {
          type: 'identify',
          anonymousId: 'web-anon-1',
          userId: 'cli-user-1',
          traits: { email: 'Jane+CLI@Example.com', plan: 'pro' },
        },
        { type: 'track', userId: 'cli-user-1', event: 'Order Completed', properties: { total: 42.5 } },
        {
          type: 'identify',
          anonymousId: 'phone-anon-2',
          traits: { email: 'jane+cli@example.com', city: 'Lyon' },
        },
        { type: 'track', anonymousId: 'tab/events', event: 'Tab Opened' },
      ],
    }),
  });
  expect(await response.json()).toMatchObject({ accepted: 5 });
  await runtime.flush();
});
afterAll(async () => {
  await stop();
});

/** The CLI in-process against the test runtime (its admin key from the environment, as a user would). */
async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { MOSAIC_API_URL: runtime.url, MOSAIC_ADMIN_KEY: ADMIN_KEY, ...env },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** The CLI as a user runs it: a child process through the bin. */
function bin(argv: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...argv],
      {
        env: { ...process.env, MOSAIC_API_URL: runtime.url, MOSAIC_ADMIN_KEY: ADMIN_KEY, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('mosaic profiles (in-process) against the local runtime', () => {
  it('get: the unified person by any identifier, as a readable summary', async () => {
    const { code, stdout, stderr } = await cli(['profiles', 'get', 'email:Jane+CLI@example.com']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/^Profile p_[0-9a-f]+\n/);
    expect(stdout).toContain('Identities (4)');
    for (const row of [
      /anonymous_id +web-anon-1\n/,
      /anonymous_id +phone-anon-2\n/,
      /email +jane\+cli@example.com\n/,
      /user_id +cli-user-1\n/,
      /city +Lyon\n/,
      /plan +pro\n/,
      /events +4 \(identify 2, track 2\)\n/,
      /Order Completed +1\n/,
    ]) {
      expect(stdout).toMatch(row);
    }
    expect(stdout).toMatch(/merged from +p_[0-9a-f]+(, p_[0-9a-f]+)*\n/);
  });

  it('get --json: exactly what the Profile API answers', async () => {
    const { code, stdout } = await cli(['--json', 'profiles', 'get', 'user_id:cli-user-1']);
    expect(code).toBe(EXIT.ok);
    const direct = await fetch(`${runtime.url}/v1/profiles/user_id:cli-user-1`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(stdout).toBe(`${await direct.text()}\n`);
  });

  it('events --limit: a table of the newest events', async () => {
    const { code, stdout } = await cli(['profiles', 'events', 'anonymous_id:phone-anon-2', '--limit', '2']);
    expect(code).toBe(EXIT.ok);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Last 2 events of profile p_[0-9a-f]+, newest first$/);
    expect(lines[1]).toMatch(/^ {2}TIME +TYPE +EVENT +SOURCE +MESSAGE ID$/);
    expect(lines).toHaveLength(4);
    expect(stdout).toContain(' website ');
  });

  it('merges: the merges that joined the two devices, on a timeline', async () => {
    const profile = JSON.parse((await cli(['--json', 'profiles', 'get', 'user_id:cli-user-1'])).stdout) as {
      profileId: string;
    };
    const { code, stdout } = await cli(['profiles', 'merges', 'user_id:cli-user-1']);
    expect(code).toBe(EXIT.ok);
    // How many merges depends on which of the person's events the resolver saw first; at least one.
    const merged = stdout.split('\n').filter((line) => / merged +p_/.test(line));
    expect(merged.length).toBeGreaterThanOrEqual(1);
    for (const line of merged) {
      expect(line).toMatch(/ merged +p_[0-9a-f]+ → p_[0-9a-f]+, joined by (anonymous_id|user_id|email):\S+$/);
    }
    expect(stdout).toContain(`→ ${profile.profileId}, joined by`);
    expect(stdout).toMatch(/\n {10,}message \S+ from website\n/);
  });

  it('get: a value ending in /events still reads the profile, not its events', async () => {
    const { code, stdout } = await cli(['profiles', 'get', 'anonymous_id:tab/events']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/anonymous_id +tab\/events\n/);
    expect(stdout).toMatch(/Tab Opened +1\n/);
  });

  it('nobody with that identifier: exit 2 and the API error on stderr, nothing on stdout', async () => {
    const { code, stdout, stderr } = await cli(['profiles', 'get', 'email:nobody@example.com']);
    expect(code).toBe(EXIT.notFound);
    expect(stdout).toBe('');
    expect(stderr).toBe('mosaic: profile_not_found: No profile has this identifier\n');
  });

  it('a wrong key: exit 3; the development key against this runtime: exit 3 with a hint', async () => {
    const wrong = await cli(['--key', 'not-the-admin-key', 'profiles', 'get', 'user_id:cli-user-1']);
    expect(wrong.code).toBe(EXIT.auth);
    expect(wrong.stderr).toMatch(/^mosaic: forbidden: Forbidden\n/);
    const dev = await cli(['profiles', 'get', 'user_id:cli-user-1'], { MOSAIC_ADMIN_KEY: '' });
    expect(dev.code).toBe(EXIT.auth);
    expect(dev.stderr).toContain('the local development admin key was sent');
  });

  it('an unknown identifier type: exit 1 with the types the API knows', async () => {
    const { code, stderr } = await cli(['profiles', 'get', 'shoe_size:42']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/^mosaic: unknown_identifier_type: .*user_id, email/);
  });

  it('nothing listening: exit 4, asking whether `npm start` is running', async () => {
    const { code, stdout, stderr } = await cli(['profiles', 'get', 'user_id:cli-user-1'], {
      MOSAIC_API_URL: downUrl,
    });
    expect(code).toBe(EXIT.unavailable);
    expect(stdout).toBe('');
    expect(stderr).toContain(`nothing is listening at ${downUrl}`);
    expect(stderr).toContain('is `npm start` running?');
  });
});

describe('bin/mosaic-cli.mjs (a child process, as a user runs it)', () => {
  it('prints the profile JSON and exits 0; exits 2, 3 and 4 as documented, without stack traces', async () => {
    const found = await bin(['profiles', 'get', 'user_id:cli-user-1', '--json']);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(EXIT.ok);
    expect(JSON.parse(found.stdout)).toMatchObject({
      identities: expect.arrayContaining([{ type: 'user_id', value: 'cli-user-1' }]),
    });

    const missing = await bin(['profiles', 'merges', 'user_id:nobody']);
    expect(missing).toMatchObject({ code: EXIT.notFound, stdout: '' });
    expect(missing.stderr).toContain('profile_not_found');

    const refused = await bin(['profiles', 'get', 'user_id:cli-user-1'], {
      MOSAIC_ADMIN_KEY: 'wrong-key-123',
    });
    expect(refused.code).toBe(EXIT.auth);

    const down = await bin(['profiles', 'get', 'user_id:cli-user-1'], { MOSAIC_API_URL: downUrl });
    expect(down.code).toBe(EXIT.unavailable);
    expect(down.stderr).toContain('is `npm start` running?');

    for (const result of [missing, refused, down]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 on a usage error', async () => {
    const usage = await bin(['profiles', 'get', 'no-colon']);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toContain('Expected type:value');
  });
});
