import { createHash } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportView } from '../../src/core/segments/views';
import type { LocalRuntime } from '../../src/local/runtime';
import { WebhookReceiver } from '../support/webhook-receiver';
import { ADMIN_KEY, startTestRuntime, WRITE_KEY } from './local-runtime';

const SIGNING_SECRET = 'whsec_e2e_0123456789abcdef';

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
          url: receiver.url,
          auth: { type: 'none' },
          signingSecretRef: 'esp-signing',
          consent: { category: 'email_marketing' },
          batchSize: 100,
          fields: {
            identifiers: [{ type: 'email', pii: 'sha256' }],
            traits: [{ name: 'plan', pii: 'raw' }],
          },
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

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as T;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('SDK events → segment → export → webhook destination, end to end on the local runtime', () => {
  it('delivers the segment’s consenting members once, signed, with the email hashed', async () => {
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: runtime.url,
      flushAt: 50,
      flushInterval: 50,
    });
    const consent = (granted: boolean) => ({
      consent: { categoryPreferences: { email_marketing: granted } },
    });
    // Ann and Bob are VIPs who said yes to email; Cid is a VIP who said no; Dee is not a VIP.
    analytics.identify({
      userId: 'ann',
      traits: { plan: 'vip', email: 'Ann@Example.com' },
      context: consent(true),
    });
    analytics.identify({
      userId: 'bob',
      traits: { plan: 'vip', email: 'bob@example.com' },
      context: consent(true),
    });
    analytics.identify({
      userId: 'cid',
      traits: { plan: 'vip', email: 'cid@example.com' },
      context: consent(false),
    });
    analytics.identify({
      userId: 'dee',
      traits: { plan: 'free', email: 'dee@example.com' },
      context: consent(true),
    });
    await analytics.closeAndFlush({ timeout: 10_000 });
    await runtime.flush();

    await api('POST', '/v1/segments', {
      id: 'vip',
      name: 'VIPs',
      definition: { trait: { name: 'plan', op: 'eq', value: 'vip' } },
    });
    // The export carries the columns the destination receives without listing them.
    const started = await api<ExportView>('POST', '/v1/segments/vip/exports', { destination: 'esp' });
    expect(started).toMatchObject({ identifiers: ['email'], traits: ['plan'] });
    for (let i = 0; i < 200; i++) {
      const current = await api<ExportView>('GET', `/v1/exports/${started.exportId}`);
      if (current.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The export's completion goes over the bus to the destination's worker; flush waits for both.
    await runtime.flush();

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.verified).toBe(true);
    const payload = JSON.parse(request?.body ?? '{}') as {
      exportId: string;
      members: { identifiers: Record<string, string>; traits: Record<string, unknown> }[];
    };
    expect(payload.exportId).toBe(started.exportId);
    expect(payload.members.map((member) => member.identifiers.email).sort()).toEqual(
      [sha256('ann@example.com'), sha256('bob@example.com')].sort(),
    );
    expect(payload.members.every((member) => member.traits.plan === 'vip')).toBe(true);
    expect(request?.body).not.toMatch(/@example\.com/i);
  });
});
