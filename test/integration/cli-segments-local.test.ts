import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context';
import { EXIT } from '../../src/cli/failures';
import { run } from '../../src/cli/mosaic';
import type { ExportView } from '../../src/core/segments/views';
import type { LocalRuntime } from '../../src/local/runtime';
import { ADMIN_KEY, basicAuth, startTestRuntime, WRITE_KEY } from './local-runtime';

let runtime: LocalRuntime;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
  // Two people on the pro plan (one with an order), one on the free plan.
  const response = await fetch(`${runtime.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
    body: JSON.stringify({
      batch: [
        { type: 'identify', userId: 'seg-ann', traits: { plan: 'pro', email: 'ann@example.com' } },
        { type: 'track', userId: 'seg-ann', event: 'Order Completed', properties: { total: 10 } },
        { type: 'identify', userId: 'seg-bob', traits: { plan: 'pro', email: 'bob@example.com' } },
        { type: 'identify', userId: 'seg-cid', traits: { plan: 'free' } },
      ],
    }),
  });
  expect(response.status).toBe(200);
  await runtime.flush();
});
afterAll(async () => {
  await stop();
});

/** The CLI in-process against the local runtime; polls pause 50 ms instead of a second. */
async function cli(argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { MOSAIC_API_URL: runtime.url, MOSAIC_ADMIN_KEY: ADMIN_KEY },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
    ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

describe('mosaic segments against the local runtime (the real Segments API)', () => {
  it('create from stdin, list, show, preview, export --wait, update, delete', async () => {
    const definition = { trait: { name: 'plan', op: 'eq', value: 'pro' } };
    const created = await cli(
      ['segments', 'create', '-f', '-'],
      JSON.stringify({ id: 'cli-pro', name: 'Pro plan', definition }),
    );
    expect(created.stderr).toBe('');
    expect(created).toMatchObject({ code: EXIT.ok });
    expect(created.stdout).toMatch(/^Segment cli-pro: Pro plan\n {2}version {6}1\n/);

    const exists = await cli(
      ['segments', 'create', '-f', '-'],
      JSON.stringify({ id: 'cli-pro', name: 'x', definition }),
    );
    expect(exists.code).toBe(EXIT.usage);
    expect(exists.stderr).toContain('hint: change it with `mosaic segments update');

    const list = await cli(['segments', 'list']);
    expect(list.code).toBe(EXIT.ok);
    expect(list.stdout).toMatch(/\n {2}cli-pro +Pro plan +1 +/);

    const json = await cli(['--json', 'segments', 'show', 'cli-pro']);
    const direct = await fetch(`${runtime.url}/v1/segments/cli-pro`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(json.stdout).toBe(`${await direct.text()}\n`);

    const preview = await cli(['segments', 'preview', 'cli-pro']);
    expect(preview.stderr).toBe('');
    expect(preview.code).toBe(EXIT.ok);
    expect(preview.stdout).toMatch(/^Segment cli-pro: 2 members\n/);
    expect(preview.stdout).toMatch(/\nSample \(2 of 2, by profile id\)\n {2}p_[0-9a-f]+\n {2}p_[0-9a-f]+\n$/);

    const exported = await cli([
      '--json',
      'segments',
      'export',
      'cli-pro',
      '--identifier',
      'email',
      '--trait',
      'plan',
      '--wait',
    ]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(EXIT.ok);
    const view = JSON.parse(exported.stdout) as ExportView;
    expect(view).toMatchObject({ status: 'SUCCEEDED', count: 2, added: 2, removed: 0 });
    const csv = await readFile(join(view.location, 'audience.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('profile_id,email,plan');
    const shown = await cli(['exports', 'show', view.exportId]);
    expect(shown.stdout).toMatch(
      new RegExp(`^Export ${view.exportId} of segment cli-pro \\(version 1\\): SUCCEEDED\\n`),
    );
    expect(shown.stdout).toContain('  members        2\n');

    const invalid = await cli(
      ['segments', 'update', 'cli-pro', '-f', '-'],
      JSON.stringify({
        name: 'Pro',
        definition: { all: [definition, { trait: { name: 'plan', op: 'nope' } }] },
      }),
    );
    expect(invalid.code).toBe(EXIT.usage);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toMatch(
      /^mosaic: invalid_segment: 1 issue\n {2}definition\.all\[1\]\.trait\.op: /,
    );

    const updated = await cli(
      ['segments', 'update', 'cli-pro', '-f', '-', '--name', 'Pro (renamed)'],
      json.stdout,
    );
    expect(updated.code).toBe(EXIT.ok);
    expect(updated.stdout).toMatch(/^Segment cli-pro: Pro \(renamed\)\n {2}version {6}2\n/);

    expect(await cli(['segments', 'delete', 'cli-pro'])).toMatchObject({
      code: EXIT.ok,
      stdout: 'Deleted segment cli-pro\n',
    });
    const gone = await cli(['segments', 'show', 'cli-pro']);
    expect(gone.code).toBe(EXIT.notFound);
    expect(gone.stdout).toBe('');
  });
});
