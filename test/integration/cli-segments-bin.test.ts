import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/failures';
import { ADMIN_KEY, type FakeSegmentsApi, startFakeSegmentsApi } from '../support/fake-segments-api';

const BIN = fileURLToPath(new URL('../../bin/mosaic-cli.mjs', import.meta.url));

let api: FakeSegmentsApi;
beforeAll(async () => {
  api = await startFakeSegmentsApi();
});
afterAll(async () => {
  await api.close();
});

/** `mosaic` as a user runs it: a child process through the bin, `stdin` piped in. */
function bin(argv: string[], stdin = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      env: { ...process.env, MOSAIC_API_URL: api.url, MOSAIC_ADMIN_KEY: ADMIN_KEY },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('mosaic segments through bin/mosaic-cli.mjs', () => {
  it('create -f - reads the process stdin; preview waits through 202s in real time; exit codes as documented', async () => {
    const definition = { all: [{ trait: { name: 'plan', op: 'eq', value: 'pro' } }] };
    const created = await bin(
      ['--json', 'segments', 'create', '-f', '-', '--id', 'slow-bin'],
      JSON.stringify({ id: 'ignored', name: 'Pro', definition }),
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(EXIT.ok);
    expect(created.stdout).toBe(`${api.lastBody('POST', '/v1/segments')}\n`);
    expect(api.segments.get('slow-bin')).toMatchObject({ name: 'Pro', definition });

    // 202, 202, 200 with a real one-second pause between polls; stderr is a pipe: plain lines.
    const started = Date.now();
    const preview = await bin(['segments', 'preview', 'slow-bin']);
    expect(preview.code).toBe(EXIT.ok);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(preview.stdout).toMatch(/^Segment slow-bin: 1,234 members\n/);
    expect(preview.stderr).toMatch(/^mosaic: preview of segment slow-bin RUNNING \(\d+ ms\)\n$/);

    const invalid = await bin(
      ['segments', 'update', 'slow-bin', '-f', '-'],
      '{"name":"x","definition":{"trait":{"op":"?"}}}',
    );
    expect(invalid.code).toBe(EXIT.usage);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toMatch(/^mosaic: invalid_segment: 1 issue\n {2}definition\.trait\.op: /);
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
  });
});
