import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context';
import { EXIT } from '../../src/cli/failures';
import { run } from '../../src/cli/mosaic';
import {
  ADMIN_KEY,
  type FakeDestinationsApi,
  startFakeDestinationsApi,
} from '../support/fake-destinations-api';

let api: FakeDestinationsApi;

beforeAll(async () => {
  api = await startFakeDestinationsApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.requests.length = 0;
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { MOSAIC_API_URL: api.url, MOSAIC_ADMIN_KEY: ADMIN_KEY },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const requestLine = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

describe('mosaic destinations list', () => {
  it('prints the destinations as a table with where each sends and whether it runs locally', async () => {
    const { code, stdout, stderr } = await cli(['destinations', 'list']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map(requestLine)).toEqual(['GET /v1/destinations']);
    expect(stdout).toBe(
      [
        '5 destinations',
        '  NAME    KIND     ENABLED  SEGMENTS  CONSENT          TARGET                                        LOCAL',
        '  esp     webhook  yes      vip       email_marketing  esp.example.com                               yes',
        '  broken  webhook  yes      vip       email_marketing  broken.example.com                            yes',
        '  down    webhook  yes      vip       email_marketing  down.example.com                              yes',
        '  print   s3       yes      vip       none             s3://mail-drops/direct-mail/                  yes',
        '  queue   sqs      no       vip       email_marketing  arn:aws:sqs:eu-west-1:123456789012:audiences  no',
        '',
      ].join('\n'),
    );
  });

  it('--json prints exactly the JSON the API answered', async () => {
    const { code, stdout } = await cli(['destinations', 'list', '--json']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toBe(`${api.lastBody()}\n`);
  });
});

describe('mosaic destinations show', () => {
  it('prints the settings and the fields with their PII policy', async () => {
    const { code, stdout } = await cli(['destinations', 'show', 'esp']);
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map(requestLine)).toEqual(['GET /v1/destinations/esp']);
    expect(stdout).toBe(
      [
        'Destination esp (webhook)',
        '  description   The email service',
        '  enabled       yes',
        '  segments      vip',
        '  consent       email_marketing (opt-in)',
        '  host          esp.example.com',
        '  request       POST, signed, auth api_key',
        '  rate limit    10/s',
        '  timeout       10 s',
        '  payload       default',
        '  batch size    1,000',
        '  concurrency   2',
        '  retries       8 attempts, back-off 1.0 s to 5 min 00 s',
        '  local worker  yes',
        '',
        'Fields (PII policy)',
        '  identifier  email sha256',
        '  trait       plan raw',
        '',
      ].join('\n'),
    );
  });

  it('an unknown name exits 2; a malformed one is a usage error, nothing sent', async () => {
    const missing = await cli(['destinations', 'show', 'nope']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('mosaic: not_found: No destination is named "nope"');
    api.requests.length = 0;
    const bad = await cli(['destinations', 'show', '../x']);
    expect(bad.code).toBe(EXIT.usage);
    expect(api.requests).toHaveLength(0);
  });
});

describe('mosaic destinations test', () => {
  it('prints the result and exits 0 when the test delivery worked', async () => {
    const { code, stdout, stderr } = await cli(['destinations', 'test', 'esp']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map(requestLine)).toEqual(['POST /v1/destinations/esp/test']);
    expect(stdout).toBe(
      [
        'Test of destination esp (webhook): ok',
        '  status           200',
        '  attempts         1',
        '  elapsed          42 ms',
        '  idempotency key  test-0123456789abcdef',
        '  tested           2026-11-22T22:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it('exits 6 when the destination answered an error, with the result on stdout and the reason on stderr', async () => {
    const { code, stdout, stderr } = await cli(['destinations', 'test', 'broken']);
    expect(code).toBe(EXIT.jobFailed);
    expect(stdout).toMatch(/^Test of destination broken \(webhook\): FAILED: HTTP 500\n/);
    expect(stdout).toContain('retryable        yes (a delivery would retry it)');
    expect(stderr).toBe('mosaic: destination_test_failed: the test delivery to broken failed: HTTP 500\n');
  });

  it('exits 6 on a network error; --json still prints the API’s answer as it came', async () => {
    const { code, stdout, stderr } = await cli(['--json', 'destinations', 'test', 'down']);
    expect(code).toBe(EXIT.jobFailed);
    expect(stdout).toBe(`${api.lastBody()}\n`);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(stderr).toContain('ECONNREFUSED');
  });

  it('a kind the deployment cannot send to exits 1 with the API’s reason; an unknown name 2', async () => {
    const queue = await cli(['destinations', 'test', 'queue']);
    expect(queue.code).toBe(EXIT.usage);
    expect(queue.stderr).toContain('not_testable_here');
    expect((await cli(['destinations', 'test', 'nope'])).code).toBe(EXIT.notFound);
  });
});
