import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import {
  type DynaliteServer,
  embeddedEngineClient,
  ensureIdentityTable,
  startDynaliteServer,
} from '../../src/local/embedded-dynamodb';

describe('the embedded engine client', () => {
  let engine: DynaliteServer;
  beforeAll(async () => {
    engine = await startDynaliteServer();
  });
  afterAll(() => engine.close());

  it('reads, writes and reports failed conditions through the SDK as against DynamoDB', async () => {
    const client = embeddedEngineClient(engine.endpoint);
    await ensureIdentityTable(client, 'embedded-client');
    const item = { pk: 'I#user_id:u1', sk: 'I', profileId: 'p1', doc: new Uint8Array([1, 2, 3]) };
    await client.send(new PutItemCommand({ TableName: 'embedded-client', Item: toAttributes(item) }));
    const get = new GetItemCommand({
      TableName: 'embedded-client',
      Key: toAttributes({ pk: item.pk, sk: 'I' }),
      ConsistentRead: true,
    });
    const read = await client.send(get);
    expect(fromAttributes(read.Item ?? {})).toEqual(item);
    // Again: the second call of a command class runs the middleware chain the client cached.
    expect(fromAttributes((await client.send(get)).Item ?? {})).toEqual(item);
    await expect(
      client.send(
        new PutItemCommand({
          TableName: 'embedded-client',
          Item: toAttributes({ ...item, profileId: 'p2' }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    client.destroy();
  });

  it('sends what the engine checks — SigV4-shaped authorization and a date — without signing', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const stub = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const client = embeddedEngineClient(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
    await client.send(new GetItemCommand({ TableName: 'any', Key: toAttributes({ pk: 'a', sk: 'b' }) }));
    client.destroy();
    await new Promise((resolve) => stub.close(resolve));
    expect(seen).toHaveLength(1);
    const headers = seen[0] as IncomingHttpHeaders;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=\S+, SignedHeaders=\S+, Signature=unsigned$/,
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(headers['x-amz-user-agent']).toBeUndefined();
  });
});
