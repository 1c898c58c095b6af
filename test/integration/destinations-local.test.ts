import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/failures';
import { run } from '../../src/cli/mosaic';
import type { DestinationListView, DestinationTestView } from '../../src/core/activation/views';
import type { LocalRuntime } from '../../src/local/runtime';
import { WebhookReceiver } from '../support/webhook-receiver';
import { ADMIN_KEY, startTestRuntime } from './local-runtime';

const SIGNING_SECRET = 'whsec_local_destinations_0123';

let runtime: LocalRuntime;
let stop: () => Promise<void>;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start(() => ({ status: 200 }), SIGNING_SECRET);
  ({ runtime, stop } = await startTestRuntime({
    destinations: {
      destinations: [
        {
          kind: 'webhook',
          name: 'esp',
          segments: ['vip'],
          url: `${receiver.url}?list=tok_in_query`,
          auth: { type: 'none' },
          signingSecretRef: 'esp-signing',
          consent: { category: 'email_marketing' },
          fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
        },
        {
          kind: 's3',
          name: 'print',
          segments: ['vip'],
          bucket: 'mail-drops',
          consent: { category: null },
          fields: { traits: [{ name: 'name', pii: 'raw' }] },
          csv: { columns: [{ header: 'Name', value: 'traits.name' }] },
        },
        {
          kind: 'sqs',
          name: 'queue',
          segments: ['vip'],
          queue: 'arn:aws:sqs:eu-west-1:123456789012:audiences',
          consent: { category: null },
        },
      ],
    },
    destinationSecrets: { 'esp-signing': SIGNING_SECRET },
  }));
});
afterAll(async () => {
  await stop();
  await receiver.close();
});

async function api<T>(method: string, path: string, key = ADMIN_KEY): Promise<{ status: number; json: T }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: response.status, json: (await response.json()) as T };
}

describe('Destinations API on the local runtime', () => {
  it('lists the configured destinations behind the admin key, with which ones this process delivers', async () => {
    expect((await api('GET', '/v1/destinations', 'not-a-key')).status).toBe(403);
    const listed = await api<DestinationListView>('GET', '/v1/destinations');
    expect(listed.status).toBe(200);
    expect(listed.json.destinations.map((d) => [d.name, d.localWorker])).toEqual([
      ['esp', true],
      ['print', true],
      ['queue', false],
    ]);
    expect(JSON.stringify(listed.json)).not.toContain('tok_in_query');
    expect(JSON.stringify(listed.json)).not.toContain('esp-signing');
  });

  it('tests a webhook with a signed request the receiver verifies, leaving the delivery ledger alone', async () => {
    const tested = await api<DestinationTestView>('POST', '/v1/destinations/esp/test');
    expect(tested.status).toBe(200);
    expect(tested.json).toMatchObject({ destination: 'esp', ok: true, status: 200, attempts: 1 });
    const request = receiver.requests.find((r) => r.idempotencyKey === tested.json.idempotencyKey);
    expect(request?.verified).toBe(true);
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ test: true, members: [] });
    // The delivery ledger and the dead letters never hear of a test.
    const folder = join(runtime.dataDir, 'destinations', 'esp');
    for (const name of ['delivered.ndjson', 'dlq.ndjson']) {
      const text = await readFile(join(folder, name), 'utf8').catch(() => '');
      expect(text).not.toContain(tested.json.idempotencyKey);
      expect(text).not.toContain('xtest');
    }
  });

  it('tests a file drop by writing a test file; 409 for SQS, 404 for an unknown name', async () => {
    const tested = await api<DestinationTestView>('POST', '/v1/destinations/print/test');
    expect(tested.json).toMatchObject({ ok: true, status: 200 });
    const folder = join(runtime.dataDir, 'destinations', 'print');
    const tests = (await readdir(folder)).filter((name) => name.startsWith('xtest'));
    expect(tests).toHaveLength(1);
    expect(await readFile(join(folder, tests[0] as string, 'batch-0.csv'), 'utf8')).toBe('Name\r\n');
    expect((await api('POST', '/v1/destinations/queue/test')).status).toBe(409);
    expect((await api('POST', '/v1/destinations/nope/test')).status).toBe(404);
  });

  it('`mosaic destinations list` and `test` work against the runtime', async () => {
    let stdout = '';
    const io = {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: () => undefined,
      env: { MOSAIC_API_URL: runtime.url, MOSAIC_ADMIN_KEY: ADMIN_KEY },
    };
    expect(await run(['destinations', 'list'], io)).toBe(EXIT.ok);
    expect(stdout).toMatch(/^3 destinations\n/);
    stdout = '';
    const before = receiver.requests.length;
    expect(await run(['destinations', 'test', 'esp'], io)).toBe(EXIT.ok);
    expect(stdout).toMatch(/^Test of destination esp \(webhook\): ok\n/);
    expect(receiver.requests.slice(before).map((r) => r.verified)).toEqual([true]);
  });
});
