import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAudienceReader } from '../../src/adapters/local/duckdb-audience-reader';
import { FileDeadLetterSink, FileDeliveryLedger } from '../../src/adapters/local/file-delivery-ledger';
import { FileDropSender } from '../../src/adapters/local/file-drop-sender';
import { idempotencyKey } from '../../src/core/activation/delivery-plan';
import {
  type Destination,
  type DestinationInput,
  parseDestinationsConfig,
} from '../../src/core/activation/destination-config';
import type { HttpOutcome } from '../../src/core/activation/http-retry';
import { sha256Hex } from '../../src/core/activation/pii';
import type { AudienceReader } from '../../src/ports/audience-reader';
import { ManualClock } from '../../src/ports/clock';
import type { DestinationSender, OutboundBatch } from '../../src/ports/destination-sender';
import { type DeliverAudienceDeps, deliverAudience } from '../../src/use-cases/deliver-audience';
import {
  type ActivationExport,
  type ActivationPerson,
  addPeopleToLake,
  consentVariedPeople,
  profileOf,
  runActivationExport,
} from '../support/activation-export';
import { MemoryProfileReader } from '../support/memory-profile-reader';
import { RecordingLogger } from '../support/recording-logger';

/**
 * The delivery use case over a real export (DuckDB export runner → members Parquet → DuckDB audience
 * reader), the local ledger and dead-letter files, profiles in the identity store's twin, and a scripted
 * sender: batches, consent, PII, retries, the ledger and the dead-letter queue.
 */
/** 25 people on the pro plan (p-001..p-025) and one on free; consent varies by number. */
const PEOPLE = consentVariedPeople(26, { email: 'person', phoneFrom: 1000, firstName: 'Name' });
const PRO = PEOPLE.filter((p) => p.plan === 'pro');
const emailAllowed = PRO.filter((p) => p.consent?.email_marketing === true).map((p) => `p-${p.id}`);

function destination(input: Partial<DestinationInput> & { name: string }): Destination {
  const base: DestinationInput = {
    kind: 'webhook',
    name: input.name,
    segments: ['pro-buyers'],
    url: 'http://127.0.0.1:9/hook',
    auth: { type: 'none' },
    consent: { category: 'email_marketing' },
    batchSize: 10,
    fields: {
      identifiers: [
        { type: 'email', pii: 'raw' },
        { type: 'phone', pii: 'omit' },
      ],
      traits: [{ name: 'first_name', pii: 'raw' }],
    },
  } as DestinationInput;
  const merged: Record<string, unknown> = { ...base, ...input };
  if (merged.kind !== 'webhook') {
    delete merged.url;
    delete merged.auth;
  }
  const config = parseDestinationsConfig({ destinations: [merged] });
  return config.destinations[0] as Destination;
}

/** A sender that answers from a script per idempotency key (then 200) and keeps what it was sent. */
class ScriptedSender implements DestinationSender {
  readonly sent: OutboundBatch[] = [];
  readonly attempts = new Map<string, number>();
  constructor(private readonly script: (key: string, attempt: number) => HttpOutcome = () => ok) {}
  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const key = batch.context.idempotencyKey;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const outcome = this.script(key, attempt);
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) this.sent.push(batch);
    return outcome;
  }
  acceptedIds(): string[] {
    return this.sent.flatMap((b) => b.members.map((m) => m.profileId));
  }
}
const ok: HttpOutcome = { kind: 'response', status: 200 };

describe('deliverAudience', { timeout: 30_000 }, () => {
  let dataDir: string;
  let exported: Omit<ActivationExport, 'profiles'>;
  let reader: DuckDbAudienceReader;
  const profiles = new MemoryProfileReader();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-deliver-'));
    await addPeopleToLake(dataDir, PEOPLE);
    exported = await runActivationExport(dataDir);
    reader = await DuckDbAudienceReader.open({ threads: 1 });
    for (const person of PEOPLE) profiles.putLive(profileOf(person));
  });
  afterAll(async () => {
    reader?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Fresh ledger and DLQ (own folder), the shared export and profiles. */
  async function setup(sender: DestinationSender, overrides: Partial<DeliverAudienceDeps> = {}) {
    const dir = await mkdtemp(join(dataDir, 'run-'));
    const sleeps: number[] = [];
    const logger = new RecordingLogger();
    const deps: DeliverAudienceDeps = {
      exports: { getExport: async (id) => (id === exported.record.exportId ? exported.record : undefined) },
      reader,
      profiles,
      ledger: new FileDeliveryLedger(dir),
      deadLetters: new FileDeadLetterSink(dir),
      sender,
      clock: new ManualClock(Date.parse('2026-11-22T12:00:10.000Z')),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      logger,
      ...overrides,
    };
    return { deps, dir, sleeps, logger };
  }

  it('the audience reader gives the export members with named fields, in profile-id order, in pages', async () => {
    const source = {
      membersLocation: exported.detail.membersLocation,
      identifiers: exported.record.identifiers,
      traits: exported.record.traits,
    };
    expect(await reader.count(source)).toBe(25);
    const pages = [];
    for await (const page of reader.pages(source, 10)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const members = pages.flat();
    expect(members.map((m) => m.profileId)).toEqual(PRO.map((p) => `p-${p.id}`));
    expect(members[0]).toEqual({
      profileId: 'p-001',
      identifiers: { email: 'person001@example.com', phone: '+16505551001' },
      traits: { plan: 'pro', first_name: 'Name1' },
    });
  });

  it('sends every consenting member once, in batches keyed by (export, destination, index), with only the allowed fields', async () => {
    const sender = new ScriptedSender();
    const { deps, dir } = await setup(sender);
    const target = destination({ name: 'esp' });
    const result = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(result.outcome).toBe('delivered');
    if (result.outcome !== 'delivered') return;
    expect(sender.acceptedIds()).toEqual(emailAllowed);
    expect(result.summary).toMatchObject({
      sent: emailAllowed.length,
      suppressedByConsent: 25 - emailAllowed.length,
      failed: 0,
      batches: { total: 3, sent: 3, failed: 0, empty: 0 },
    });
    expect(sender.sent.map((b) => b.context.idempotencyKey)).toEqual(
      [0, 1, 2].map((i) => idempotencyKey(exported.detail.exportId, 'esp', i)),
    );
    expect(sender.sent[0]?.members[0]).toEqual({
      profileId: 'p-001',
      identifiers: { email: 'person001@example.com' },
      traits: { first_name: 'Name1' },
    });
    const ledger = (await readFile(join(dir, 'destinations', 'esp', 'delivered.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(ledger.map((l) => l.batchIndex)).toEqual([0, 1, 2]);
  });

  it('500 then 429 (Retry-After: 1) then 200: retried with back-off, the Retry-After honoured, delivered once; a replay sends nothing', async () => {
    const sender = new ScriptedSender((_key, attempt) =>
      attempt === 1
        ? { kind: 'response', status: 500 }
        : attempt === 2
          ? { kind: 'response', status: 429, retryAfter: '1' }
          : ok,
    );
    const { deps, sleeps, logger } = await setup(sender);
    const target = destination({ name: 'esp', rateLimitPerSecond: 10_000 });
    const first = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(first).toMatchObject({ summary: { sent: emailAllowed.length, failed: 0 }, alreadyDelivered: 0 });
    expect([...sender.attempts.values()]).toEqual([3, 3, 3]);
    // Per batch: full-jitter back-off after the 500 (random 0.5 of 1 s), then the server's 1 s.
    expect(sleeps.filter((ms) => ms >= 100)).toEqual([500, 1000, 500, 1000, 500, 1000]);
    expect(sender.acceptedIds()).toEqual(emailAllowed);

    const again = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(again).toMatchObject({ outcome: 'delivered', alreadyDelivered: 3, summary: { sent: 0 } });
    expect(sender.acceptedIds()).toEqual(emailAllowed);
    expect([...sender.attempts.values()]).toEqual([3, 3, 3]);
    expect(logger.lines.some((l) => l.message === 'a batch will be retried')).toBe(true);
  });

  it('a batch refused with a 4xx goes to the dead-letter queue at once and counts as failed; a replay tries it again', async () => {
    const badKey = idempotencyKey(exported.detail.exportId, 'esp', 1);
    let refuse = true;
    const sender = new ScriptedSender((key) =>
      key === badKey && refuse ? { kind: 'response', status: 400 } : ok,
    );
    const { deps, dir } = await setup(sender);
    const target = destination({ name: 'esp' });
    const result = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(result).toMatchObject({ summary: { batches: { sent: 2, failed: 1 } } });
    expect(sender.attempts.get(badKey)).toBe(1);
    const letters = await new FileDeadLetterSink(dir).list('esp');
    expect(letters).toEqual([
      expect.objectContaining({
        destination: 'esp',
        exportId: exported.detail.exportId,
        batchIndex: 1,
        idempotencyKey: badKey,
        reason: 'permanent',
        status: 400,
        attempts: 1,
      }),
    ]);
    if (result.outcome === 'delivered') expect(result.summary.failed).toBe(letters[0]?.members);
    expect(JSON.stringify(letters)).not.toMatch(/@example\.com|Name\d/);

    refuse = false;
    const replay = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(replay).toMatchObject({ alreadyDelivered: 2, summary: { batches: { sent: 1, failed: 0 } } });
    expect(sender.acceptedIds().sort()).toEqual(emailAllowed);
  });

  it('retryable failures that never stop are given up after the policy’s attempts', async () => {
    const sender = new ScriptedSender(() => ({ kind: 'network_error', code: 'ECONNREFUSED' }));
    const { deps, dir } = await setup(sender);
    const target = destination({ name: 'esp', batchSize: 100, retry: { maxAttempts: 3 } });
    const result = await deliverAudience(deps, { event: exported.event, destination: target });
    expect(result).toMatchObject({ summary: { sent: 0, failed: emailAllowed.length } });
    expect(await new FileDeadLetterSink(dir).list('esp')).toEqual([
      expect.objectContaining({ reason: 'exhausted', errorCode: 'ECONNREFUSED', attempts: 3 }),
    ]);
  });

  describe('a destination that looks down', () => {
    // Batches of 3: the consenting pro members make several batches (consent is applied per batch).
    const target = () =>
      destination({ name: 'esp', batchSize: 3, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 } });
    const down: HttpOutcome = { kind: 'response', status: 503 };

    it('after three batches in a row spent their retries, waits a cool-down before each next batch, sent as a probe', async () => {
      const sender = new ScriptedSender(() => down);
      const { deps, sleeps, logger } = await setup(sender);
      const result = await deliverAudience(deps, { event: exported.event, destination: target() });
      if (result.outcome !== 'delivered') throw new Error(result.outcome);
      const batches = result.summary.batches.total;
      expect(batches).toBeGreaterThan(4);
      // Every batch is still tried (and dead-lettered), each after the third only after a minute's wait.
      expect(result.summary.batches.failed).toBe(batches - result.summary.batches.empty);
      expect(sleeps.filter((ms) => ms === 60_000)).toHaveLength(result.summary.batches.failed - 3);
      const warnings = logger.lines.filter(
        (l) => l.message === 'the destination looks down: waiting before the next batch',
      );
      expect(warnings).toHaveLength(result.summary.batches.failed - 3);
    });

    it('a probe that gets through ends the cool-downs', async () => {
      let accepting = false;
      const sender = new ScriptedSender(() => (accepting ? ok : down));
      const { deps, sleeps } = await setup(sender, {
        sleep: async (ms) => {
          sleeps.push(ms);
          // The destination comes back during the first cool-down.
          if (ms === 60_000) accepting = true;
        },
      });
      const result = await deliverAudience(deps, { event: exported.event, destination: target() });
      if (result.outcome !== 'delivered') throw new Error(result.outcome);
      expect(result.summary.batches.failed).toBe(3);
      expect(result.summary.batches.sent).toBe(
        result.summary.batches.total - 3 - result.summary.batches.empty,
      );
      expect(sleeps.filter((ms) => ms === 60_000)).toHaveLength(1);
    });

    it('batches refused for good (4xx) do not make the destination look down', async () => {
      const sender = new ScriptedSender(() => ({ kind: 'response', status: 422 }));
      const { deps, sleeps } = await setup(sender);
      const result = await deliverAudience(deps, { event: exported.event, destination: target() });
      if (result.outcome !== 'delivered') throw new Error(result.outcome);
      expect(result.summary.batches.failed).toBeGreaterThan(4);
      expect(sleeps.filter((ms) => ms >= 60_000)).toEqual([]);
    });

    it('with a budget, the cool-down is spent re-queued: the delivery pauses at the next batch', async () => {
      const sender = new ScriptedSender(() => down);
      const { deps } = await setup(sender, {
        budget: { exhausted: () => false, defers: (ms) => ms > 30_000 },
      });
      const result = await deliverAudience(deps, { event: exported.event, destination: target() });
      expect(result).toMatchObject({
        outcome: 'paused',
        summary: { batches: { failed: 3 } },
        resume: { attempts: 0, delayMs: 60_000 },
      });
    });
  });

  it('consent: an ad-type destination fails closed on unknown consent; an opt-out one sends everyone who did not deny', async () => {
    const ads = new ScriptedSender();
    const { deps } = await setup(ads);
    await deliverAudience(deps, {
      event: exported.event,
      destination: destination({
        name: 'ads',
        adType: true,
        consent: { category: 'advertising', required: false },
      }),
    });
    expect(ads.acceptedIds()).toEqual(
      PRO.filter((p) => p.consent?.advertising === true).map((p) => `p-${p.id}`),
    );

    const optOut = new ScriptedSender();
    const second = await setup(optOut);
    await deliverAudience(second.deps, {
      event: exported.event,
      destination: destination({ name: 'news', consent: { category: 'email_marketing', required: false } }),
    });
    expect(optOut.acceptedIds()).toEqual(
      PRO.filter((p) => p.consent?.email_marketing !== false).map((p) => `p-${p.id}`),
    );
  });

  it('a member merged into another profile is judged by the survivor’s consent; one whose profile is gone is suppressed', async () => {
    const graph = new MemoryProfileReader();
    for (const person of PRO) graph.putLive(profileOf(person));
    // p-001 (granted) merged into a survivor that denied; p-002 (granted) is gone.
    graph.putRetired('p-001', 'p-survivor');
    graph.putLive(profileOf({ id: 'survivor', plan: 'pro', consent: { email_marketing: false } }));
    graph.putRetired('p-002', 'p-nowhere');
    const sender = new ScriptedSender();
    const { deps } = await setup(sender, { profiles: graph });
    const result = await deliverAudience(deps, {
      event: exported.event,
      destination: destination({ name: 'esp' }),
    });
    expect(sender.acceptedIds()).toEqual(emailAllowed.filter((id) => id !== 'p-001' && id !== 'p-002'));
    expect(result).toMatchObject({ summary: { suppressedByConsent: 25 - emailAllowed.length + 2 } });
  });

  it('hashes where the policy says sha256: no raw email or phone in any payload, logs free of PII', async () => {
    const sender = new ScriptedSender();
    const { deps, logger } = await setup(sender);
    await deliverAudience(deps, {
      event: exported.event,
      destination: destination({
        name: 'ads',
        adType: true,
        consent: { category: 'advertising' },
        fields: {
          identifiers: [
            { type: 'email', pii: 'sha256' },
            { type: 'phone', pii: 'sha256' },
          ],
          traits: [{ name: 'first_name', pii: 'omit' }],
        },
      }),
    });
    const payloads = JSON.stringify(sender.sent.map((b) => b.payload));
    expect(sender.sent.length).toBeGreaterThan(0);
    for (const person of PRO) {
      expect(payloads).not.toContain(person.email);
      expect(payloads).not.toContain(person.phone);
      expect(payloads).not.toContain((person.phone as string).slice(1));
      expect(payloads).not.toContain(person.firstName);
    }
    expect(sender.sent[0]?.members[0]?.identifiers).toEqual({
      email: sha256Hex('person002@example.com'),
      phone: sha256Hex('16505551002'),
    });
    const logs = logger.text();
    for (const person of PEOPLE) {
      expect(logs).not.toContain(person.email);
      expect(logs).not.toContain(person.firstName);
    }
    expect(logger.lines.find((l) => l.message === 'delivery finished')?.attributes).toMatchObject({
      destination: 'ads',
      exportId: exported.detail.exportId,
    });
  });

  it('reads the next batch’s consent while the current batch is being sent, and still sends in order', async () => {
    const log: string[] = [];
    /** Resolved when the profiles of the batch starting with that member have been read. */
    const read = new Map<string, () => void>();
    const readOf = (first: string) =>
      new Promise<void>((resolve) => {
        read.set(first, resolve);
      });
    const nextRead = [readOf('p-011'), readOf('p-021')];
    const sender: DestinationSender = {
      async send(batch) {
        const index = batch.context.batch.index;
        log.push(`send ${index} start`);
        // Each request is held until the next batch's profiles have been read (the last has none).
        await nextRead[index];
        log.push(`send ${index} done`);
        return ok;
      },
    };
    const watched = {
      getProfiles: async (ids: readonly string[]) => {
        log.push(`profiles ${ids[0]}`);
        read.get(ids[0] as string)?.();
        return profiles.getProfiles(ids);
      },
    };
    const { deps } = await setup(sender, { profiles: watched });
    const result = await deliverAudience(deps, {
      event: exported.event,
      destination: destination({ name: 'esp' }),
    });
    expect(result.outcome).toBe('delivered');
    // Without the read ahead, the held requests would never finish: the test would time out.
    expect(log).toEqual([
      'profiles p-001',
      'send 0 start',
      'profiles p-011',
      'send 0 done',
      'send 1 start',
      'profiles p-021',
      'send 1 done',
      'send 2 start',
      'send 2 done',
    ]);
  });

  it('a consent read ahead that fails is reported after the batch before it was sent and recorded', async () => {
    const sender = new ScriptedSender();
    const failing = {
      getProfiles: async (ids: readonly string[]) => {
        if (ids[0] === 'p-011') throw new Error('the identity store cannot be reached');
        return profiles.getProfiles(ids);
      },
    };
    const { deps } = await setup(sender, { profiles: failing });
    const target = destination({ name: 'esp' });
    await expect(deliverAudience(deps, { event: exported.event, destination: target })).rejects.toThrow(
      'the identity store cannot be reached',
    );
    expect(sender.sent.map((b) => b.context.batch.index)).toEqual([0]);
    const key = idempotencyKey(exported.detail.exportId, 'esp', 0);
    expect(await deps.ledger.isDelivered('esp', key)).toBe(true);
    // The retry of the whole event skips batch 0 and goes on.
    const again = await deliverAudience(
      { ...deps, profiles },
      { event: exported.event, destination: target },
    );
    expect(again).toMatchObject({ outcome: 'delivered', alreadyDelivered: 1 });
    expect(sender.sent.map((b) => b.context.batch.index)).toEqual([0, 1, 2]);
  });

  it('an event for another segment or another destination is not routed and sends nothing', async () => {
    const sender = new ScriptedSender();
    const { deps } = await setup(sender);
    const other = destination({ name: 'esp', segments: ['someone-else'] });
    expect(await deliverAudience(deps, { event: exported.event, destination: other })).toEqual({
      outcome: 'not_routed',
    });
    const forOther = { ...exported.event, detail: { ...exported.event.detail, destination: 'crm' } };
    expect(
      await deliverAudience(deps, { event: forOther, destination: destination({ name: 'esp' }) }),
    ).toEqual({ outcome: 'not_routed' });
    const v2 = { ...exported.event, detail: { ...exported.event.detail, version: 2 } };
    expect(await deliverAudience(deps, { event: v2, destination: destination({ name: 'esp' }) })).toEqual({
      outcome: 'ignored',
      reason: 'unknown_version',
    });
    expect(sender.attempts.size).toBe(0);
  });

  it('a file-drop destination gets one CSV per batch, with its columns', async () => {
    const dir = await mkdtemp(join(dataDir, 'drop-'));
    const drop = destination({
      kind: 's3',
      name: 'mail-house',
      bucket: 'mosaic-drops',
      batchSize: 100,
      fields: {
        identifiers: [{ type: 'email', pii: 'sha256' }],
        traits: [{ name: 'first_name', pii: 'raw' }],
      },
      csv: {
        columns: [
          { header: 'id', value: 'profileId' },
          { header: 'First name', value: 'traits.first_name' },
          { header: 'email_sha256', value: 'identifiers.email' },
        ],
      },
    } as unknown as Partial<DestinationInput> & { name: string });
    if (drop.kind !== 's3') throw new Error('an s3 destination');
    const sender = new FileDropSender({ destination: drop, dataDir: dir });
    const { deps } = await setup(sender);
    const result = await deliverAudience(deps, { event: exported.event, destination: drop });
    expect(result).toMatchObject({ summary: { sent: emailAllowed.length, batches: { sent: 1 } } });
    const csv = await readFile(sender.fileOf(exported.detail.exportId, 0), 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,First name,email_sha256');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(emailAllowed);
    expect(lines[1]).toBe(`p-001,Name1,${sha256Hex('person001@example.com')}`);
    expect(csv).not.toContain('@example.com');
  });
});

describe('deliverAudience over readers of any page size', () => {
  const members = Array.from({ length: 23 }, (_, i) => ({
    profileId: `p-${String(i).padStart(3, '0')}`,
    identifiers: {},
    traits: {},
  }));
  const readerOf = (ids: typeof members, pageSizes: number[]): AudienceReader => ({
    count: async () => ids.length,
    async *pages() {
      let at = 0;
      for (let p = 0; at < ids.length; p++) {
        const size = pageSizes[p % pageSizes.length] as number;
        yield ids.slice(at, at + size);
        at += size;
      }
    },
  });
  const profiles = new MemoryProfileReader();
  for (const m of members) profiles.putLive(profileOf({ id: m.profileId.slice(2), plan: 'pro' }));
  const record = {
    exportId: 'x00000000009',
    segmentId: 'pro-buyers',
    segmentVersion: 1,
    status: 'SUCCEEDED' as const,
    format: 'csv' as const,
    identifiers: [],
    traits: [],
    createdAt: '2026-11-22T12:00:00.000Z',
    location: '/nowhere',
  };
  const event = {
    version: '0' as const,
    id: 'e-9',
    'detail-type': 'Audience Export Completed',
    source: 'mosaic',
    account: '000000000000',
    time: '2026-11-22T12:00:05Z',
    region: 'local',
    resources: [],
    detail: {
      version: 1,
      exportId: record.exportId,
      segmentId: 'pro-buyers',
      segmentVersion: 1,
      format: 'csv',
      count: 23,
      added: 23,
      removed: 0,
      audienceLocation: '/nowhere/audience/',
      changesLocation: '/nowhere/changes/',
      membersLocation: '/nowhere/members/',
      completedAt: '2026-11-22T12:00:05.000Z',
    },
  };
  async function deliver(reader: AudienceReader) {
    const dir = await mkdtemp(join(tmpdir(), 'mosaic-deliver-pages-'));
    const sender = new ScriptedSender();
    try {
      await deliverAudience(
        {
          exports: { getExport: async () => record },
          reader,
          profiles,
          ledger: new FileDeliveryLedger(dir),
          deadLetters: new FileDeadLetterSink(dir),
          sender,
          clock: new ManualClock(0),
          sleep: async () => undefined,
          logger: new RecordingLogger(),
        },
        { event, destination: destination({ name: 'esp', batchSize: 5, consent: { category: null } }) },
      );
      return sender.sent.map((b) => [b.context.idempotencyKey, b.members.map((m) => m.profileId)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('batches (and their keys) do not depend on how the reader pages', async () => {
    const expected = (await deliver(readerOf(members, [5]))) as [string, string[]][];
    expect(expected.map(([, ids]) => ids.length)).toEqual([5, 5, 5, 5, 3]);
    expect(expected[1]?.[0]).toBe(idempotencyKey(record.exportId, 'esp', 1));
    expect(await deliver(readerOf(members, [3, 7, 1]))).toEqual(expected);
    expect(await deliver(readerOf(members, [23]))).toEqual(expected);
  });

  it('a reader whose members are out of profile-id order is refused (keys would not be stable)', async () => {
    const shuffled = [...members.slice(5), ...members.slice(0, 5)];
    await expect(deliver(readerOf(shuffled, [5]))).rejects.toThrow(/profile-id order/);
  });
});

describe('the DuckDB audience reader on a large export', { timeout: 60_000 }, () => {
  it('streams 5,000 members in pages across DuckDB chunks, in order, each once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-reader-'));
    const reader = await DuckDbAudienceReader.open({ threads: 1 });
    try {
      const people: ActivationPerson[] = Array.from({ length: 5000 }, (_, i) => ({
        id: String(i).padStart(5, '0'),
        email: `m${i}@example.com`,
        plan: 'pro',
      }));
      await addPeopleToLake(dataDir, people);
      const exported = await runActivationExport(dataDir, { identifiers: ['email'], traits: ['plan'] });
      const source = {
        membersLocation: exported.detail.membersLocation,
        identifiers: ['email'],
        traits: ['plan'],
      };
      expect(await reader.count(source)).toBe(5000);
      const sizes: number[] = [];
      const ids: string[] = [];
      for await (const page of reader.pages(source, 1000)) {
        sizes.push(page.length);
        for (const m of page) ids.push(m.profileId);
      }
      expect(sizes).toEqual([1000, 1000, 1000, 1000, 1000]);
      expect(ids).toEqual(people.map((p) => `p-${p.id}`));
    } finally {
      reader.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
