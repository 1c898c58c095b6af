import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AttributeMap, fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import { ConfigError } from '../../src/core/errors';
import { adminApiEvent } from '../support/admin-api-events';
import { lambdaContext } from '../support/api-gateway-event';
import { JANE_ID, JANE_LEDGER, janeProfile } from '../support/profile-fixtures';

const TABLE = 'mosaic-identity-entry';

// Mocked before the entry module is imported, so the client it creates at cold start is mocked.
const dynamo = mockClient(DynamoDBClient);

type Entry = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A cold start: the entry module evaluated afresh with the current environment. */
async function coldStart(): Promise<Entry> {
  vi.resetModules();
  return (await import('../../functions/profile-api/index')).handler as unknown as Entry;
}

/** The identity table as the DynamoDB adapter lays it out (identity-table.ts), holding Jane. */
const ITEMS: Record<string, Record<string, unknown>> = {
  'I#email:jane@example.com': { pk: 'I#email:jane@example.com', sk: 'I', profileId: 'p_anon', linkedAt: 'x' },
  'P#p_anon': { pk: 'P#p_anon', sk: 'P', state: 'retired', ver: 3, createdAt: 'x', into: JANE_ID },
  [`P#${JANE_ID}`]: {
    pk: `P#${JANE_ID}`,
    sk: 'P',
    state: 'live',
    ver: 7,
    createdAt: 'x',
    doc: JSON.stringify(janeProfile()),
  },
};

beforeEach(() => {
  dynamo.reset();
  dynamo
    .on(BatchGetItemCommand)
    .callsFake((input: { RequestItems: Record<string, { Keys: AttributeMap[] }> }) => {
      const [table, request] = Object.entries(input.RequestItems)[0] ?? [];
      const found = (request?.Keys ?? []).flatMap((key) => {
        const item = ITEMS[String(fromAttributes(key).pk)];
        return item === undefined ? [] : [toAttributes(item)];
      });
      return { Responses: { [table ?? '']: found } };
    });
  dynamo.on(GetItemCommand).callsFake((input: { Key: AttributeMap }) => {
    const item = ITEMS[String(fromAttributes(input.Key).pk)];
    return item === undefined ? {} : { Item: toAttributes(item) };
  });
  dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: AttributeMap }) => ({
    Items: JANE_LEDGER.filter(
      (entry) => `P#${entry.to}` === fromAttributes(input.ExpressionAttributeValues)[':pk'],
    ).map((entry) => toAttributes({ entry: JSON.stringify(entry) })),
  }));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('IDENTITY_TABLE_NAME', TABLE);
  vi.stubEnv('MOSAIC_IDENTITY', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('profile API Lambda entry (functions/profile-api/index.ts)', () => {
  it('reads the profile from IDENTITY_TABLE_NAME through the DynamoDB adapter, following a redirect', async () => {
    const handler = await coldStart();
    const result = await handler(adminApiEvent('/v1/profiles/email:Jane%40Example.COM'), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toMatchObject({ profileId: JANE_ID, traits: { name: 'Jane' } });
    // One key a read: GetItem, strongly consistent (a BatchGetItem only for more).
    const reads = dynamo.commandCalls(GetItemCommand).map((call) => call.args[0].input);
    expect(reads).toEqual([
      {
        TableName: TABLE,
        Key: toAttributes({ pk: 'I#email:jane@example.com', sk: 'I' }),
        ConsistentRead: true,
      },
      { TableName: TABLE, Key: toAttributes({ pk: 'P#p_anon', sk: 'P' }), ConsistentRead: true },
      { TableName: TABLE, Key: toAttributes({ pk: `P#${JANE_ID}`, sk: 'P' }), ConsistentRead: true },
    ]);
    expect(dynamo.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('reads the merge ledger of the profile and of the profiles merged into it', async () => {
    const handler = await coldStart();
    const result = await handler(adminApiEvent(`/v1/profiles/profile_id:${JANE_ID}/merges`), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '').merges.map((entry: { id: string }) => entry.id)).toEqual([
      'l-1',
      'l-2',
      'l-3',
      'l-4',
      'l-5',
    ]);
  });

  it('uses the identity configuration in MOSAIC_IDENTITY: only its types are known', async () => {
    vi.stubEnv('MOSAIC_IDENTITY', JSON.stringify({ types: [{ name: 'crm_id', paths: ['context.crm.id'] }] }));
    const handler = await coldStart();
    const result = await handler(adminApiEvent('/v1/profiles/email:jane@example.com'), lambdaContext());
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '').error.code).toBe('unknown_identifier_type');
  });

  it('refuses a request that carries no authorizer context with 401, reading nothing', async () => {
    const handler = await coldStart();
    const event = adminApiEvent('/v1/profiles/email:jane@example.com', { authorizer: null });
    expect((await handler(event, lambdaContext())).statusCode).toBe(401);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it.each([
    ['IDENTITY_TABLE_NAME is missing', { IDENTITY_TABLE_NAME: undefined }, /IDENTITY_TABLE_NAME/],
    ['MOSAIC_IDENTITY is not JSON', { MOSAIC_IDENTITY: '{types:' }, /MOSAIC_IDENTITY.*not valid JSON/],
    [
      'MOSAIC_IDENTITY is invalid',
      { MOSAIC_IDENTITY: '{"types":[{"name":"Email","paths":["traits.email"]}]}' },
      /MOSAIC_IDENTITY.*types\.0\.name/,
    ],
  ])('fails the cold start naming the variable when %s', async (_what, env, message) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const failure = await coldStart().then(
      () => undefined,
      (error: unknown) => error,
    );
    // The module graph was loaded afresh: the error's class is not this file's ConfigError.
    expect(failure).toMatchObject({ name: ConfigError.name, message: expect.stringMatching(message) });
  });
});
