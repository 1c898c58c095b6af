import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import {
  type EmbeddedDynamoDb,
  ensureIdentityTable,
  startEmbeddedDynamoDb,
} from '../../src/local/embedded-dynamodb';
import { ResolverThread, startThreadWorker } from '../../src/local/resolver-thread-client';
import type { ResolverThreadData } from '../../src/local/resolver-thread-protocol';
import type { ResolverEffects } from '../../src/use-cases/resolve-identities';
import { kinesisEvent } from '../support/kinesis-event';
import { RecordingLogger } from '../support/recording-logger';
import { streamRecord } from '../support/resolver-harness';

const TABLE = 'resolver-thread-test';
let dynamo: EmbeddedDynamoDb;
let data: ResolverThreadData;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
  await ensureIdentityTable(dynamo.client, TABLE);
  data = { endpoint: dynamo.endpoint, tableName: TABLE, identity: DEFAULT_IDENTITY_CONFIG };
});
afterAll(async () => {
  await dynamo.close();
});

/** Two devices of one person: the identify merges the phone's anonymous profile into the browser's. */
function twoDevices(run: string) {
  return [
    streamRecord({ type: 'track', messageId: `${run}-1`, anonymousId: `${run}-browser`, event: 'Viewed' }),
    streamRecord({
      type: 'identify',
      messageId: `${run}-2`,
      anonymousId: `${run}-browser`,
      userId: `${run}-u`,
    }),
    streamRecord({ type: 'track', messageId: `${run}-3`, anonymousId: `${run}-phone`, event: 'Opened' }),
    streamRecord({ type: 'alias', messageId: `${run}-4`, previousId: `${run}-phone`, userId: `${run}-u` }),
  ];
}

/**
 * A worker that stands in for the resolver thread: ready at once, then it exits (code 3) on the first
 * batch — a thread that dies mid-batch.
 */
const dyingWorker = () =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage({ type: 'ready' });
     parentPort.on('message', (m) => { if (m.type === 'batch') process.exit(3); });`,
    { eval: true },
  );

describe('the local runtime resolver thread (src/local/resolver-thread*.ts)', () => {
  it('resolves a batch on its own thread: profiles in DynamoDB, links and merges published here, counters reported', async () => {
    const published: ResolverEffects[] = [];
    const logger = new RecordingLogger();
    const thread = await ResolverThread.start({
      data,
      logger,
      publish: async (effects) => void published.push(effects),
    });
    try {
      const response = await thread.handler(kinesisEvent(twoDevices('ok')));
      expect(response).toEqual({ batchItemFailures: [] });

      // What the thread wrote is in the table, read here through a store of this thread.
      const store = new DynamoDbIdentityStore({ client: dynamo.client, tableName: TABLE });
      const owners = await store.getOwners([
        { type: 'user_id', value: 'ok-u' },
        { type: 'anonymous_id', value: 'ok-browser' },
        { type: 'anonymous_id', value: 'ok-phone' },
      ]);
      const profileIds = new Set([...owners.values()].map((owner) => owner.profileId));
      expect(owners.size).toBe(3);
      expect(profileIds.size).toBe(1);

      // The effects came back to the runtime's thread: every identifier linked, the merge on its way to the bus.
      const links = published.flatMap((effects) => effects.links);
      expect(new Set(links.map((link) => `${link.identifier.type}:${link.identifier.value}`))).toEqual(
        new Set(['user_id:ok-u', 'anonymous_id:ok-browser', 'anonymous_id:ok-phone']),
      );
      expect(published.flatMap((effects) => effects.merges)).toHaveLength(1);

      expect(thread.metric('event.applied')).toBe(4);
      expect(thread.metric('profile_created')).toBe(2);
      expect(thread.metric('profile_merged')).toBe(1);
      expect(thread.requests().writes).toBeGreaterThan(0);
      expect(thread.requests().reads).toBeGreaterThan(0);

      // A batch delivered again changes nothing (idempotent by source and message id).
      const writes = thread.requests().writes;
      expect(await thread.handler(kinesisEvent(twoDevices('ok')))).toEqual({ batchItemFailures: [] });
      expect(thread.metric('event.applied')).toBe(4);
      expect(thread.metric('event.duplicate')).toBe(4);
      expect(thread.requests().writes).toBe(writes);
    } finally {
      await thread.close();
    }
  });

  it.runIf(process.platform === 'linux')(
    'runs below the priority of the collector and APIs: nice 10 for its thread, not the process',
    async () => {
      /** The nice value of each of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
      const niceValues = () =>
        readdirSync('/proc/self/task').map((tid) => {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        });
      const before = niceValues().filter((nice) => nice === 10).length;
      const thread = await ResolverThread.start({
        data,
        logger: new RecordingLogger(),
        publish: async () => {},
      });
      try {
        expect(niceValues().filter((nice) => nice === 10)).toHaveLength(before + 1);
        expect(niceValues()[0]).toBe(0); // the process's own thread keeps its priority
      } finally {
        await thread.close();
      }
    },
  );

  it('reaches the engine by messages when given a port, and a new thread gets a new port', async () => {
    let connected = 0;
    let started = 0;
    const thread = await ResolverThread.start({
      // Nothing listens at this endpoint: the thread's requests can only have gone over the port.
      data: { ...data, endpoint: 'http://127.0.0.1:9' },
      connectEngine: () => {
        connected++;
        return dynamo.connect();
      },
      logger: new RecordingLogger(),
      publish: async () => {},
      startWorker: (d) => (started++ === 0 ? dyingWorker() : startThreadWorker(d)),
    });
    try {
      await expect(thread.handler(kinesisEvent(twoDevices('port')))).rejects.toThrow('exit code 3');
      expect(await thread.handler(kinesisEvent(twoDevices('port')))).toEqual({ batchItemFailures: [] });
      expect([started, connected]).toEqual([2, 2]);
      const store = new DynamoDbIdentityStore({ client: dynamo.client, tableName: TABLE });
      const owners = await store.getOwners([
        { type: 'user_id', value: 'port-u' },
        { type: 'anonymous_id', value: 'port-phone' },
      ]);
      expect(new Set([...owners.values()].map((owner) => owner.profileId)).size).toBe(1);
      expect(thread.metric('profile_merged')).toBe(1);
    } finally {
      await thread.close();
    }
  });

  it('fails the batch when publishing its effects fails, so the stream delivers it again', async () => {
    let refuse = true;
    const thread = await ResolverThread.start({
      data,
      logger: new RecordingLogger(),
      publish: async () => {
        if (refuse) throw new Error('bus unavailable');
      },
    });
    try {
      const event = kinesisEvent(twoDevices('pub'));
      // The whole batch fails with the reason; nothing of it is acknowledged.
      await expect(thread.handler(event)).rejects.toThrow('bus unavailable');
      refuse = false;
      expect(await thread.handler(event)).toEqual({ batchItemFailures: [] });
    } finally {
      await thread.close();
    }
  });

  it("passes the thread's log lines to the runtime's logger", async () => {
    const logger = new RecordingLogger();
    const thread = await ResolverThread.start({ data, logger, publish: async () => {} });
    try {
      // A record that is not a stream record: the handler logs it (without its contents) and fails it.
      const response = await thread.handler(
        kinesisEvent([...twoDevices('log').slice(0, 1), 'not json at all']),
      );
      expect(response.batchItemFailures).toHaveLength(1);
      expect(logger.lines.map((line) => [line.level, line.message])).toContainEqual([
        'error',
        'not a stream record: failing it for the on-failure destination',
      ]);
      expect(logger.text()).not.toContain('not json at all');
    } finally {
      await thread.close();
    }
  });

  it('a thread that dies fails the batches it held; the next batch starts a new thread, and counts carry on', async () => {
    const logger = new RecordingLogger();
    let started = 0;
    const thread = await ResolverThread.start({
      data,
      logger,
      publish: async () => {},
      // The first thread dies on its first batch; the ones after it are real.
      startWorker: (d) => (started++ === 0 ? dyingWorker() : startThreadWorker(d)),
    });
    try {
      await expect(thread.handler(kinesisEvent(twoDevices('crash')))).rejects.toThrow(
        'the resolver thread stopped (exit code 3)',
      );
      expect(logger.lines.map((line) => line.message)).toContain(
        'the resolver thread stopped; its batches will be delivered again',
      );
      expect(await thread.handler(kinesisEvent(twoDevices('crash')))).toEqual({ batchItemFailures: [] });
      expect(started).toBe(2);
      expect(thread.metric('event.applied')).toBe(4);
    } finally {
      await thread.close();
    }
  });

  it('refuses to start when its worker cannot start, with the reason', async () => {
    await expect(
      ResolverThread.start({
        data,
        logger: new RecordingLogger(),
        publish: async () => {},
        startWorker: () => new Worker('throw new Error("no bundle here")', { eval: true }),
      }),
    ).rejects.toThrow('the resolver thread could not start: no bundle here');
  });

  it('refuses batches once closed', async () => {
    const thread = await ResolverThread.start({
      data,
      logger: new RecordingLogger(),
      publish: async () => {},
    });
    await thread.close();
    await expect(thread.handler(kinesisEvent(twoDevices('closed')))).rejects.toThrow('closed');
  });
});
