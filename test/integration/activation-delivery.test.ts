import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { type LocalDestinations, startLocalDestinations } from '../../src/adapters/local/destination-workers';
import { MemoryEventBus } from '../../src/adapters/local/memory-event-bus';
import { idempotencyKey } from '../../src/core/activation/delivery-plan';
import { type DestinationInput, parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { sha256Hex } from '../../src/core/activation/pii';
import { audienceExportCompletedEvent } from '../../src/core/events/bus-events';
import type { Sleep } from '../../src/ports/clock';
import {
  type ActivationExport,
  addPeopleToLake,
  consentVariedPeople,
  profileOf,
  runActivationExport,
} from '../support/activation-export';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { RecordingLogger } from '../support/recording-logger';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Activation end to end on one machine: a real export written by the DuckDB export runner, profiles
 * with consent in the identity store on dynalite, the in-process bus, one worker per destination
 * (`startLocalDestinations`), and real HTTP receivers that verify every signature.
 */
/** 30 pro members: every third denies email, every fifth states nothing; evens grant advertising. */
const PEOPLE = consentVariedPeople(31, { email: 'member', phoneFrom: 2000, firstName: 'First' });
const PRO = PEOPLE.filter((p) => p.plan === 'pro');
const EMAIL_OK = PRO.filter((p) => p.consent?.email_marketing === true).map((p) => `p-${p.id}`);
const ADS_OK = PRO.filter((p) => p.consent?.advertising === true).map((p) => `p-${p.id}`);
const SECRETS = { 'esp-signing': 'whsec_esp_0123456789', 'crm-signing': 'whsec_crm_9876543210' };

function webhook(name: string, url: string, extra: Partial<DestinationInput> = {}): DestinationInput {
  return {
    kind: 'webhook',
    name,
    segments: ['pro-buyers'],
    url,
    auth: { type: 'none' },
    signingSecretRef: `${name}-signing`,
    consent: { category: 'email_marketing' },
    batchSize: 10,
    rateLimitPerSecond: 1000,
    fields: {
      identifiers: [{ type: 'email', pii: 'raw' }],
      traits: [{ name: 'first_name', pii: 'raw' }],
    },
    ...extra,
  } as DestinationInput;
}

describe('activation on the local runtime’s pieces', { timeout: 60_000 }, () => {
  let dataDir: string;
  let dynamo: LocalDynamoDb;
  let store: DynamoDbIdentityStore;
  let exported: Omit<ActivationExport, 'profiles'>;
  const open: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-activation-'));
    await addPeopleToLake(dataDir, PEOPLE);
    exported = await runActivationExport(dataDir);
    dynamo = await startDynalite();
    await dynamo.createTable('identity');
    store = new DynamoDbIdentityStore({ client: dynamo.client, tableName: 'identity' });
    for (const person of PEOPLE) await store.createProfile(profileOf(person));
  });
  afterEach(async () => {
    while (open.length > 0) await open.pop()?.close();
  });
  afterAll(async () => {
    await dynamo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(
    destinations: DestinationInput[],
    options: { sleep?: Sleep; logger?: RecordingLogger } = {},
  ): Promise<{ bus: MemoryEventBus; workers: LocalDestinations; run: string }> {
    const run = await mkdtemp(join(dataDir, 'run-'));
    const bus = new MemoryEventBus();
    const workers = await startLocalDestinations({
      bus,
      store,
      segments: {
        getExport: async (id) => (id === exported.record.exportId ? exported.record : undefined),
      },
      dataDir: run,
      destinations: parseDestinationsConfig({ destinations }),
      secrets: SECRETS,
      env: {},
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    open.push({ close: () => workers.close() }, { close: () => bus.close() });
    return { bus, workers, run };
  }
  const publish = (bus: MemoryEventBus) => bus.publish([audienceExportCompletedEvent(exported.detail)]);
  const settle = async (bus: MemoryEventBus, workers: LocalDestinations) => {
    await bus.drain();
    await workers.drain();
  };

  it('signed batches; 500 then 429 (Retry-After: 1) then 200 → every consenting member exactly once; duplicates and replays change nothing', async () => {
    const receiver = await WebhookReceiver.start(
      ({ attempt }) =>
        attempt === 1
          ? { status: 500 }
          : attempt === 2
            ? { status: 429, headers: { 'retry-after': '1' } }
            : { status: 200 },
      SECRETS['esp-signing'],
    );
    open.push(receiver);
    const sleeps: number[] = [];
    const logger = new RecordingLogger();
    const { bus, workers } = await start([webhook('esp', receiver.url)], {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      logger,
    });
    // The same export announced twice at once (at-least-once delivery).
    await Promise.all([publish(bus), publish(bus)]);
    await settle(bus, workers);

    expect(receiver.requests.length).toBe(9);
    expect(receiver.requests.every((r) => r.verified === true)).toBe(true);
    expect(receiver.requests.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 429, 429, 429, 500, 500, 500,
    ]);
    expect(sleeps.filter((ms) => ms === 1000).length).toBe(3);
    expect(new Set(receiver.acceptedAll().map((r) => r.idempotencyKey))).toEqual(
      new Set([0, 1, 2].map((i) => idempotencyKey(exported.detail.exportId, 'esp', i))),
    );
    // Exactly once, and only people who granted the destination's category.
    expect(receiver.acceptedProfileIds().sort()).toEqual(EMAIL_OK);
    expect(receiver.acceptedAll().length).toBe(3);
    const summaries = workers.results('esp').filter((r) => r.outcome === 'delivered');
    expect(summaries).toHaveLength(2);
    expect(summaries[0]).toMatchObject({
      summary: { sent: EMAIL_OK.length, suppressedByConsent: 30 - EMAIL_OK.length, failed: 0 },
    });
    expect(summaries[1]).toMatchObject({ alreadyDelivered: 3, summary: { sent: 0 } });

    // An archive replay of the same export, twice: the receiver sees nothing new.
    const before = receiver.requests.length;
    await publish(bus);
    await publish(bus);
    await settle(bus, workers);
    expect(receiver.requests.length).toBe(before);

    const logs = logger.text();
    for (const person of PEOPLE) {
      expect(logs).not.toContain(person.email);
      expect(logs).not.toContain(person.firstName);
    }
    expect(logs).not.toContain(SECRETS['esp-signing']);
  });

  it('a destination that is down delays no other: the healthy one finishes while the other is still failing', async () => {
    let down = true;
    const failing = await WebhookReceiver.start(
      () => (down ? { status: 503 } : { status: 200 }),
      SECRETS['esp-signing'],
    );
    const healthy = await WebhookReceiver.start(() => ({ status: 200 }), SECRETS['crm-signing']);
    open.push(failing, healthy);
    // Back-off waits really happen, shortened, so the failing destination keeps retrying meanwhile.
    const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5)));
    const { bus, workers } = await start(
      [
        webhook('esp', failing.url, {
          retry: { maxAttempts: 100, baseDelayMs: 1, maxDelayMs: 5 },
          reservedConcurrency: 1,
        }),
        webhook('crm', healthy.url, { reservedConcurrency: 1 }),
      ],
      { sleep },
    );
    await publish(bus);
    const deadline = Date.now() + 20_000;
    while (healthy.acceptedAll().length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(healthy.acceptedProfileIds().sort()).toEqual(EMAIL_OK);
    // At that moment the other destination has been failing all along.
    expect(failing.requests.length).toBeGreaterThan(0);
    expect(failing.acceptedAll()).toEqual([]);
    expect(workers.stats().esp?.running).toBe(1);

    down = false;
    await settle(bus, workers);
    expect(failing.acceptedProfileIds().sort()).toEqual(EMAIL_OK);
    expect(failing.requests.every((r) => r.verified === true)).toBe(true);
  });

  it('consent and PII: an ad-type destination gets only members who granted advertising, hashed, never a raw email or phone; a file drop writes its CSV', async () => {
    const ads = await WebhookReceiver.start();
    open.push(ads);
    const { bus, workers, run } = await start([
      webhook('ads', ads.url, {
        signingSecretRef: undefined,
        adType: true,
        consent: { category: 'advertising', required: false },
        batchSize: 7,
        fields: {
          identifiers: [
            { type: 'email', pii: 'sha256' },
            { type: 'phone', pii: 'sha256' },
          ],
          traits: [{ name: 'first_name', pii: 'omit' }],
        },
      }),
      {
        kind: 's3',
        name: 'mail-house',
        segments: ['pro-buyers'],
        bucket: 'mosaic-drops',
        consent: { category: null },
        fields: { traits: [{ name: 'first_name', pii: 'raw' }] },
        csv: {
          columns: [
            { header: 'profile', value: 'profileId' },
            { header: 'first name', value: 'traits.first_name' },
          ],
        },
      } as DestinationInput,
    ]);
    await publish(bus);
    await settle(bus, workers);

    expect(ads.acceptedProfileIds().sort()).toEqual(ADS_OK);
    const bodies = ads.requests.map((r) => r.body).join('\n');
    for (const person of PEOPLE) {
      expect(bodies).not.toContain(person.email);
      expect(bodies).not.toContain(person.phone);
      expect(bodies).not.toContain((person.phone as string).slice(1));
      expect(bodies).not.toContain(person.firstName);
    }
    const first = JSON.parse(ads.requests[0]?.body ?? '{}').members[0];
    expect(first).toEqual({
      profileId: 'p-002',
      identifiers: { email: sha256Hex('member002@example.com'), phone: sha256Hex('16505552002') },
      traits: {},
    });

    const csv = await readFile(
      join(run, 'destinations', 'mail-house', exported.detail.exportId, 'batch-0.csv'),
      'utf8',
    );
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('profile,first name');
    expect(rows.slice(1)).toEqual(PRO.map((p) => `p-${p.id},${p.firstName}`));
    expect(workers.results('mail-house')).toEqual([
      expect.objectContaining({ summary: expect.objectContaining({ sent: 30, failed: 0 }) }),
    ]);
  });
});
