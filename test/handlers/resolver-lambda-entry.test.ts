import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { identifierKey } from '../../src/core/identity/identifier';
import { lambdaContext } from '../support/api-gateway-event';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { kinesisEvent } from '../support/kinesis-event';
import { streamRecord } from '../support/resolver-harness';

// The AWS composition root of the resolver, cold-started with its environment: DynamoDB is dynalite
// (reached through the SDK's service endpoint variable), Firehose and EventBridge are mocked.
const firehose = mockClient(FirehoseClient);
const eventBridge = mockClient(EventBridgeClient);
const TABLE = 'mosaic-identity-entry';
let engine: LocalDynamoDb;

type Entry = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

async function coldStart(): Promise<Entry> {
  vi.resetModules();
  return (await import('../../functions/resolver/index')).handler as unknown as Entry;
}

beforeAll(async () => {
  engine = await startDynalite();
  await engine.createTable(TABLE);
});
afterAll(() => engine.stop());

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  firehose.reset();
  eventBridge.reset();
  firehose.on(PutRecordBatchCommand).callsFake((input) => ({
    FailedPutCount: 0,
    RequestResponses: input.Records.map((_: unknown, i: number) => ({ RecordId: `r-${i}` })),
  }));
  eventBridge.on(PutEventsCommand).callsFake((input) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e-${i}` })),
  }));
  for (const [name, value] of Object.entries({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'mosaiclocal',
    AWS_SECRET_ACCESS_KEY: 'mosaiclocal',
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    IDENTITY_TABLE_NAME: TABLE,
    IDENTITY_LINKS_DELIVERY_STREAM_NAME: 'mosaic-identity-links',
    EVENT_BUS_NAME: 'mosaic',
    MOSAIC_IDENTITY: JSON.stringify({ blocked: { values: ['test@test.com'] } }),
  }))
    vi.stubEnv(name, value);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('resolver Lambda entry (functions/resolver/index.ts)', () => {
  it('resolves a Kinesis batch into profiles, lands identity links and announces the merge', async () => {
    const handler = await coldStart();
    const batch = [
      streamRecord({ type: 'page', anonymousId: 'phone', name: 'Home', messageId: 'e-1' }),
      streamRecord({
        type: 'identify',
        anonymousId: 'laptop',
        traits: { email: 'ann@example.com' },
        messageId: 'e-2',
      }),
      streamRecord({
        type: 'identify',
        anonymousId: 'phone',
        traits: { email: 'ANN@example.com' },
        messageId: 'e-3',
      }),
      streamRecord({
        type: 'identify',
        anonymousId: 'kiosk',
        traits: { email: 'test@test.com' },
        messageId: 'e-4',
      }),
    ];
    expect(await handler(kinesisEvent(batch), lambdaContext())).toEqual({ batchItemFailures: [] });

    const store = new DynamoDbIdentityStore({ client: engine.client, tableName: TABLE });
    const owners = await store.getOwners([
      { type: 'anonymous_id', value: 'phone' },
      { type: 'anonymous_id', value: 'laptop' },
      { type: 'email', value: 'ann@example.com' },
      { type: 'email', value: 'test@test.com' },
    ]);
    const phone = owners.get(identifierKey({ type: 'anonymous_id', value: 'phone' }))?.profileId;
    expect(owners.get(identifierKey({ type: 'anonymous_id', value: 'laptop' }))?.profileId).toBe(phone);
    expect(owners.get(identifierKey({ type: 'email', value: 'ann@example.com' }))?.profileId).toBe(phone);
    // The configured blocklist came from MOSAIC_IDENTITY.
    expect(owners.has(identifierKey({ type: 'email', value: 'test@test.com' }))).toBe(false);

    const links = firehose
      .commandCalls(PutRecordBatchCommand)
      .flatMap((call) => call.args[0].input.Records ?? [])
      .map(
        (record) => JSON.parse(Buffer.from(record.Data as Uint8Array).toString('utf8')) as { reason: string },
      );
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe(
      'mosaic-identity-links',
    );
    expect(links.filter((link) => link.reason === 'merged').length).toBeGreaterThan(0);

    const events = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      EventBusName: 'mosaic',
      Source: 'mosaic',
      DetailType: 'Profile Merged',
    });
    expect(JSON.parse(events[0]?.Detail as string)).toMatchObject({
      version: 1,
      profileId: phone,
      identifier: { type: 'email' },
    });
  });

  it("a messageId reused by another person's message: their identifiers go to a profile of their own, in the table and in identity_links", async () => {
    const handler = await coldStart();
    const alice = streamRecord({
      type: 'identify',
      userId: 'alice-77',
      traits: { email: 'alice77@example.com' },
      messageId: 'collide-77',
    });
    const bob = streamRecord({
      type: 'identify',
      userId: 'bob-77',
      traits: { email: 'bob77@example.com', plan: 'bobplan' },
      messageId: 'collide-77',
      receivedAt: '2026-11-01T10:00:05.000Z',
    });
    for (const batch of [[alice], [bob], [alice]]) {
      expect(await handler(kinesisEvent(batch), lambdaContext())).toEqual({ batchItemFailures: [] });
    }

    const store = new DynamoDbIdentityStore({ client: engine.client, tableName: TABLE });
    const ids = [
      { type: 'user_id', value: 'alice-77' },
      { type: 'email', value: 'alice77@example.com' },
      { type: 'user_id', value: 'bob-77' },
      { type: 'email', value: 'bob77@example.com' },
    ];
    const owners = await store.getOwners(ids);
    const [aliceId, aliceEmail, bobId, bobEmail] = ids.map((id) => owners.get(identifierKey(id))?.profileId);
    expect(aliceEmail).toBe(aliceId);
    expect(bobEmail).toBe(bobId);
    expect(bobId).toBeDefined();
    expect(bobId).not.toBe(aliceId);
    const profiles = await store.getProfiles([aliceId as string, bobId as string]);
    const live = (id: string | undefined) => {
      const record = profiles.get(id as string);
      return record?.state === 'live' ? record.profile : undefined;
    };
    expect(live(aliceId)?.identities.map(identifierKey)).toEqual([
      'email:alice77@example.com',
      'user_id:alice-77',
    ]);
    expect(live(bobId)?.identities.map(identifierKey)).toEqual(['email:bob77@example.com', 'user_id:bob-77']);
    expect(live(bobId)?.traits.plan?.v).toBe('bobplan');
    expect([live(aliceId)?.eventCount, live(bobId)?.eventCount]).toEqual([1, 1]);

    const links = firehose
      .commandCalls(PutRecordBatchCommand)
      .flatMap((call) => call.args[0].input.Records ?? [])
      .map(
        (record) =>
          JSON.parse(Buffer.from(record.Data as Uint8Array).toString('utf8')) as {
            id_value: string;
            profile_id: string;
          },
      );
    const bobsRows = links.filter((row) => row.id_value === 'bob-77' || row.id_value === 'bob77@example.com');
    expect(bobsRows.length).toBeGreaterThan(0);
    expect(bobsRows.every((row) => row.profile_id === bobId)).toBe(true);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('a malformed MOSAIC_IDENTITY fails the cold start, naming the variable', async () => {
    vi.stubEnv('MOSAIC_IDENTITY', '{"types":[]}');
    await expect(coldStart()).rejects.toThrow(/MOSAIC_IDENTITY/);
  });
});
