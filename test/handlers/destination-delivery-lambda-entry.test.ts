import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AttributeMap, fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import { idempotencyKey } from '../../src/core/activation/delivery-plan';
import { sha256Hex } from '../../src/core/activation/pii';
import { assembleProfile, createProfile } from '../../src/core/profile/profile';
import { lambdaContext } from '../support/api-gateway-event';
import { EXPORT_ID, exportEvent, SEGMENT_ID } from '../support/delivery-fakes';

// Mocked before the entry module is imported, so the clients it creates at cold start are mocked.
const dynamo = mockClient(DynamoDBClient);
const athena = mockClient(AthenaClient);
const sqs = mockClient(SQSClient);

const TARGET = 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-audiences';
const OWN_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-crm';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-crm-dlq';
const DESTINATION = {
  kind: 'sqs',
  name: 'crm',
  queue: TARGET,
  segments: [SEGMENT_ID],
  consent: { category: 'email_marketing' },
  batchSize: 2,
  fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
};
/** Every destination is in every delivery function's configuration; the function picks its own by name. */
const DESTINATIONS = {
  destinations: [
    { ...DESTINATION, name: 'warehouse', queue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/other' },
    DESTINATION,
  ],
};
const PEOPLE = ['p-1', 'p-2', 'p-3'];

type Entry = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

async function coldStart(): Promise<Entry> {
  vi.resetModules();
  return (await import('../../functions/destination-delivery/index')).handler as unknown as Entry;
}

function profileItem(id: string, consent: boolean) {
  const profile = assembleProfile({
    ...createProfile(id, '2026-11-01T00:00:00.000Z'),
    identities: [{ type: 'email', value: `${id}@example.com` }],
    consent: { categoryPreferences: { email_marketing: consent }, t: 1, h: 'h' },
  });
  return { pk: `P#${id}`, sk: 'P', state: 'live', ver: 1, doc: JSON.stringify(profile), pending: {} };
}

beforeEach(() => {
  dynamo.reset();
  athena.reset();
  sqs.reset();
  dynamo.on(GetItemCommand).callsFake((input: { TableName: string; Key: AttributeMap }) =>
    input.TableName === 'mosaic-segments' && fromAttributes(input.Key).pk === `X#${EXPORT_ID}`
      ? {
          Item: toAttributes({
            pk: `X#${EXPORT_ID}`,
            sk: 'X',
            exportId: EXPORT_ID,
            segmentId: SEGMENT_ID,
            status: 'SUCCEEDED',
            identifiers: ['email'],
            traits: [],
          }),
        }
      : input.TableName === 'mosaic-identity'
        ? // One profile a read goes by GetItem (a batch of one).
          {
            Item: toAttributes(
              profileItem(
                String(fromAttributes(input.Key).pk).slice(2),
                fromAttributes(input.Key).pk !== 'P#p-2',
              ),
            ),
          }
        : {},
  );
  dynamo
    .on(BatchGetItemCommand)
    .callsFake((input: { RequestItems: Record<string, { Keys: AttributeMap[] }> }) => {
      const pks = (input.RequestItems['mosaic-identity']?.Keys ?? []).map((k) =>
        String(fromAttributes(k).pk),
      );
      return {
        Responses: {
          'mosaic-identity': pks.map((pk) => toAttributes(profileItem(pk.slice(2), pk !== 'P#p-2'))),
        },
      };
    });
  dynamo.on(PutItemCommand).resolves({});
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  const columns = ['profile_id', 'c0', 'member_count'];
  athena.on(GetQueryResultsCommand).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map((Name) => ({ Name, Type: 'varchar' })) },
      Rows: [columns, ...PEOPLE.map((id) => [id, `${id}@example.com`, '3'])].map((row) => ({
        Data: row.map((VarCharValue) => ({ VarCharValue })),
      })),
    },
  });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DESTINATION_NAME', 'crm');
  vi.stubEnv('MOSAIC_DESTINATIONS', JSON.stringify(DESTINATIONS));
  vi.stubEnv('IDENTITY_TABLE_NAME', 'mosaic-identity');
  vi.stubEnv('SEGMENTS_TABLE_NAME', 'mosaic-segments');
  vi.stubEnv('LEDGER_TABLE_NAME', 'mosaic-ledger');
  vi.stubEnv('DELIVERY_QUEUE_URL', OWN_QUEUE);
  vi.stubEnv('DEAD_LETTER_QUEUE_URL', DLQ);
  vi.stubEnv('ATHENA_WORKGROUP', 'mosaic');
  vi.stubEnv('GLUE_DATABASE', 'mosaic_lake');
  vi.stubEnv('PAYLOAD_BUCKET', 'mosaic-payloads');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('Destination delivery Lambda entry (functions/destination-delivery/index.ts)', () => {
  it('reads members with Athena, checks consent in the identity table, sends hashed batches to the target queue and records them in the ledger', async () => {
    const handler = await coldStart();
    const event = exportEvent(3);
    const answer = await handler(
      { Records: [{ messageId: 'm-1', body: JSON.stringify(event) } as SQSEvent['Records'][number]] },
      { ...lambdaContext(), getRemainingTimeInMillis: () => 280_000 },
    );
    expect(answer).toEqual({ batchItemFailures: [] });
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ WorkGroup: 'mosaic', QueryExecutionContext: { Database: 'mosaic_lake' } });
    expect(start?.QueryString).toContain('"mosaic_lake"."export_members"');

    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent.map((s) => s.QueueUrl)).toEqual([TARGET, TARGET]);
    const members = sent.flatMap((s) => JSON.parse(s.MessageBody ?? '').members);
    // p-2 denied email_marketing: suppressed.
    expect(members.map((m: { profileId: string }) => m.profileId)).toEqual(['p-1', 'p-3']);
    expect(members[0].identifiers.email).toBe(sha256Hex('p-1@example.com'));
    expect(JSON.stringify(sent)).not.toContain('@example.com');

    const ledger = dynamo.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(ledger.map((p) => p.TableName)).toEqual(['mosaic-ledger', 'mosaic-ledger']);
    expect(ledger.map((p) => fromAttributes(p.Item ?? {}).idempotencyKey)).toEqual([
      idempotencyKey(EXPORT_ID, 'crm', 0),
      idempotencyKey(EXPORT_ID, 'crm', 1),
    ]);
    expect(ledger[0]?.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('an environment without its destination fails the cold start naming the variable', async () => {
    vi.stubEnv('DESTINATION_NAME', '');
    await expect(coldStart()).rejects.toThrow(/DESTINATION_NAME/);
    vi.stubEnv('DESTINATION_NAME', 'esp');
    await expect(coldStart()).rejects.toThrow(
      /DESTINATION_NAME: "esp" is not a destination of MOSAIC_DESTINATIONS/,
    );
    vi.stubEnv('DESTINATION_NAME', 'crm');
    vi.stubEnv('MOSAIC_DESTINATIONS', '');
    await expect(coldStart()).rejects.toThrow(/MOSAIC_DESTINATIONS/);
    vi.stubEnv('MOSAIC_DESTINATIONS', JSON.stringify(DESTINATIONS));
    vi.stubEnv('DELIVERY_QUEUE_URL', 'not a url');
    await expect(coldStart()).rejects.toThrow(/DELIVERY_QUEUE_URL/);
  });
});
