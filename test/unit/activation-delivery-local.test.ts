import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESTINATION_SECRETS_ENV,
  MapSecretResolver,
  secretsFromEnv,
} from '../../src/adapters/local/destination-secrets';
import { startLocalDestinations } from '../../src/adapters/local/destination-workers';
import { FileDeadLetterSink, FileDeliveryLedger } from '../../src/adapters/local/file-delivery-ledger';
import { MemoryEventBus } from '../../src/adapters/local/memory-event-bus';
import { parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { ConfigError } from '../../src/core/errors';
import { audienceExportCompletedEvent } from '../../src/core/events/bus-events';
import type { AudienceReader } from '../../src/ports/audience-reader';
import type { DeliveredBatch } from '../../src/ports/delivery-ledger';
import type { IdentityStore } from '../../src/ports/identity-store';
import { profileOf } from '../support/activation-export';
import { MemoryProfileReader } from '../support/memory-profile-reader';
import { RecordingLogger } from '../support/recording-logger';

/**
 * The local twins around delivery: the ledger and dead-letter files, secrets from the environment, and
 * the per-destination workers' own retry of a delivery whose dependency failed.
 */
describe('local delivery twins', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mosaic-delivery-local-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const entry = (key: string, destination = 'esp'): DeliveredBatch => ({
    destination,
    idempotencyKey: key,
    exportId: 'x00000000001',
    batchIndex: 0,
    members: 3,
    deliveredAt: '2026-11-22T12:00:00.000Z',
  });

  it('the ledger survives a restart: a new instance over the same folder knows every key, and skips a torn line', async () => {
    const first = new FileDeliveryLedger(dir);
    await first.recordDelivered(entry('k1'));
    await first.recordDelivered(entry('k2'));
    await first.recordDelivered(entry('k1'));
    await first.recordDelivered(entry('k9', 'crm'));
    const file = join(dir, 'destinations', 'esp', 'delivered.ndjson');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);
    await appendFile(file, '{"idempotencyKey":"k3","dest');

    const second = new FileDeliveryLedger(dir);
    await second.open('esp');
    expect(await second.isDelivered('esp', 'k1')).toBe(true);
    expect(await second.isDelivered('esp', 'k2')).toBe(true);
    expect(await second.isDelivered('esp', 'k3')).toBe(false);
    // Keys are per destination.
    expect(await second.isDelivered('esp', 'k9')).toBe(false);
    expect(await second.isDelivered('crm', 'k9')).toBe(true);
    // The next line starts on a line of its own after the torn one, so it is read back.
    await second.recordDelivered(entry('k4'));
    expect(await new FileDeliveryLedger(dir).isDelivered('esp', 'k4')).toBe(true);
  });

  it('destination names that are not names never become paths', async () => {
    const ledger = new FileDeliveryLedger(dir);
    await expect(ledger.isDelivered('../etc', 'k')).rejects.toThrow(RangeError);
    await expect(
      new FileDeadLetterSink(dir).put({ ...entry('k'), destination: 'a/b' } as never),
    ).rejects.toThrow(RangeError);
  });

  it('secrets come from MOSAIC_DESTINATION_SECRETS (JSON); errors name the variable or secret, never a value', async () => {
    expect(secretsFromEnv({})).toEqual({});
    expect(secretsFromEnv({ [DESTINATION_SECRETS_ENV]: '{"esp-signing":"s3cr3t"}' })).toEqual({
      'esp-signing': 's3cr3t',
    });
    const bad = () => secretsFromEnv({ [DESTINATION_SECRETS_ENV]: '{"esp-signing": 42, "x": "hunter2"}' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(DESTINATION_SECRETS_ENV);
    expect(bad).not.toThrow(/hunter2/);
    expect(() => secretsFromEnv({ [DESTINATION_SECRETS_ENV]: 'hunter2' })).not.toThrow(/hunter2/);
    const resolver = new MapSecretResolver({ a: 'value-a' });
    expect(await resolver.resolve('a')).toBe('value-a');
    await expect(resolver.resolve('b')).rejects.toThrow(/"b" is not set/);
  });

  it('a worker retries a delivery whose dependency failed, after a back-off, and gives up after its attempts', async () => {
    const profiles = new MemoryProfileReader().putLive(profileOf({ id: '1', plan: 'pro' }));
    let failures = 1;
    const flaky: Pick<IdentityStore, 'getProfiles'> = {
      async getProfiles(ids) {
        if (failures-- > 0) throw new Error('store unreachable');
        return profiles.getProfiles(ids);
      },
    };
    const reader: AudienceReader = {
      count: async () => 1,
      async *pages() {
        yield [{ profileId: 'p-1', identifiers: {}, traits: {} }];
      },
    };
    const sleeps: number[] = [];
    const logger = new RecordingLogger();
    const bus = new MemoryEventBus();
    const workers = await startLocalDestinations({
      bus,
      store: flaky,
      segments: {
        getExport: async (exportId) =>
          exportId === 'x00000000001'
            ? {
                exportId,
                segmentId: 'pro-buyers',
                segmentVersion: 1,
                status: 'SUCCEEDED',
                format: 'csv',
                identifiers: [],
                traits: [],
                createdAt: '2026-11-22T12:00:00.000Z',
                location: '/nowhere',
              }
            : undefined,
      },
      dataDir: dir,
      destinations: parseDestinationsConfig({
        destinations: [
          {
            kind: 's3',
            name: 'drop',
            segments: ['pro-buyers'],
            bucket: 'mosaic-drops',
            consent: { category: null },
            csv: { columns: [{ header: 'id', value: 'profileId' }] },
          },
        ],
      }),
      secrets: {},
      reader,
      logger,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });
    const detail = (exportId: string) => ({
      version: 1 as const,
      exportId,
      segmentId: 'pro-buyers',
      segmentVersion: 1,
      format: 'csv' as const,
      count: 1,
      added: 1,
      removed: 0,
      audienceLocation: '/nowhere/audience/',
      changesLocation: '/nowhere/changes/',
      membersLocation: '/nowhere/members/',
      completedAt: '2026-11-22T12:00:05.000Z',
    });
    await bus.publish([audienceExportCompletedEvent(detail('x00000000001'))]);
    await bus.drain();
    await workers.drain();
    expect(sleeps).toEqual([500]);
    expect(workers.results('drop')).toEqual([
      expect.objectContaining({ summary: expect.objectContaining({ sent: 1 }) }),
    ]);
    expect(await readFile(join(dir, 'destinations', 'drop', 'x00000000001', 'batch-0.csv'), 'utf8')).toBe(
      'id\r\np-1\r\n',
    );

    // An export the store does not know is not retried: retrying cannot help.
    await bus.publish([audienceExportCompletedEvent(detail('x00000000002'))]);
    await bus.drain();
    await workers.drain();
    expect(workers.stats().drop).toMatchObject({ completed: 1, failedEvents: 1, queued: 0, running: 0 });
    expect(logger.lines.filter((l) => l.message === 'a delivery failed for good')).toHaveLength(1);
    await workers.close();
    await bus.close();
  });
});
