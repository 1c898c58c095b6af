import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import {
  type DynaliteServer,
  embeddedEngineClient,
  ensureIdentityTable,
  startDynaliteServer,
  startDynaliteThread,
} from '../../src/local/embedded-dynamodb';
import { EnginePortHandler } from '../../src/local/engine-port-handler';

/** Nothing listens here: a request that went over HTTP instead of a port would fail. */
const NO_HTTP = 'http://127.0.0.1:9';

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

  it('creates a table and returns once it is ACTIVE, not while the engine still says CREATING', async () => {
    const slow = await startDynaliteServer({ createTableMs: 150 });
    const client = embeddedEngineClient(slow.endpoint);
    try {
      const started = performance.now();
      await ensureIdentityTable(client, 'created-slowly');
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      // The very next request finds the table; dynalite refuses one that is CREATING as not found.
      await client.send(
        new PutItemCommand({ TableName: 'created-slowly', Item: toAttributes({ pk: 'a', sk: 'b' }) }),
      );
      await ensureIdentityTable(client, 'created-slowly'); // exists: returns at once
    } finally {
      client.destroy();
      await slow.close();
    }
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

describe("dynalite's thread on disk (LevelDB, read synchronously on the thread)", () => {
  it('reads every write as soon as it is acknowledged, under concurrent writers, and after a restart', async () => {
    const path = await mkdtemp(join(tmpdir(), 'mosaic-engine-'));
    const table = 'engine-disk';
    const item = (n: number, version: number) => ({
      pk: `P#p${n}`,
      sk: 'P',
      version,
      doc: 'x'.repeat(n * 97),
    });
    try {
      let engine = await startDynaliteThread({ path });
      let client = embeddedEngineClient(engine.endpoint);
      await ensureIdentityTable(client, table);
      // 40 items, each put three times on the condition of its version, all at once: every condition
      // reads the version the put before it left, or one of them fails.
      await Promise.all(
        Array.from({ length: 40 }, async (_, n) => {
          for (let version = 1; version <= 3; version++) {
            await client.send(
              new PutItemCommand({
                TableName: table,
                Item: toAttributes(item(n, version)),
                ConditionExpression: version === 1 ? 'attribute_not_exists(pk)' : 'version = :before',
                ...(version === 1
                  ? {}
                  : { ExpressionAttributeValues: toAttributes({ ':before': version - 1 }) }),
              }),
            );
            const read = await client.send(
              new GetItemCommand({ TableName: table, Key: toAttributes({ pk: `P#p${n}`, sk: 'P' }) }),
            );
            expect(fromAttributes(read.Item ?? {})).toEqual(item(n, version));
          }
        }),
      );
      client.destroy();
      await engine.close();

      engine = await startDynaliteThread({ path });
      client = embeddedEngineClient(NO_HTTP, engine.connect());
      try {
        const keys = Array.from({ length: 40 }, (_, n) => toAttributes({ pk: `P#p${n}`, sk: 'P' }));
        const read = await client.send(
          new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys } } }),
        );
        const got = (read.Responses?.[table] ?? []).map((found) => fromAttributes(found));
        expect(got.sort((a, b) => String(a.pk).localeCompare(String(b.pk), 'en', { numeric: true }))).toEqual(
          Array.from({ length: 40 }, (_, n) => item(n, 3)),
        );
      } finally {
        client.destroy();
        await engine.close();
      }
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  });
});

describe("the embedded engine client over a port to dynalite's thread (EnginePortHandler)", () => {
  it('reads, writes, batches and reports errors as over HTTP', async () => {
    const engine = await startDynaliteThread();
    const client = embeddedEngineClient(NO_HTTP, engine.connect());
    try {
      await ensureIdentityTable(client, 'engine-port');
      const items = [1, 2, 3].map((n) => ({ pk: `I#user_id:u${n}`, sk: 'I', profileId: `p${n}`, n }));
      for (const item of items) {
        await client.send(new PutItemCommand({ TableName: 'engine-port', Item: toAttributes(item) }));
      }
      const read = await client.send(
        new GetItemCommand({ TableName: 'engine-port', Key: toAttributes({ pk: 'I#user_id:u2', sk: 'I' }) }),
      );
      expect(fromAttributes(read.Item ?? {})).toEqual(items[1]);
      const batch = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            'engine-port': { Keys: items.map((item) => toAttributes({ pk: item.pk, sk: 'I' })) },
          },
        }),
      );
      const got = (batch.Responses?.['engine-port'] ?? []).map((item) => fromAttributes(item));
      expect(got.sort((a, b) => Number(a.n) - Number(b.n))).toEqual(items);
      // The engine's errors arrive as the SDK's typed exceptions, parsed from the answer as over HTTP.
      await expect(
        client.send(
          new PutItemCommand({
            TableName: 'engine-port',
            Item: toAttributes({ ...items[0], profileId: 'other' }),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await expect(
        client.send(
          new GetItemCommand({ TableName: 'no-such-table', Key: toAttributes({ pk: 'a', sk: 'b' }) }),
        ),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      client.destroy();
      await engine.close();
    }
  });

  it('fails what is in flight when the engine stops, and every request after', async () => {
    const engine = await startDynaliteThread();
    const client = embeddedEngineClient(NO_HTTP, engine.connect());
    await ensureIdentityTable(client, 'engine-port-stop');
    const key = toAttributes({ pk: 'I#user_id:u1', sk: 'I' });
    const inFlight = Array.from({ length: 20 }, () =>
      client.send(new GetItemCommand({ TableName: 'engine-port-stop', Key: key })).then(
        () => 'answered',
        (error: Error) => error.message,
      ),
    );
    await engine.close();
    const outcomes = await Promise.all(inFlight);
    // Each either had its answer before the engine stopped or failed with the reason; none hangs.
    for (const outcome of outcomes)
      expect(['answered', 'the embedded engine closed its port']).toContain(outcome);
    await expect(
      client.send(new GetItemCommand({ TableName: 'engine-port-stop', Key: key })),
    ).rejects.toThrow('the embedded engine');
    client.destroy();
  });

  it('gives up on an engine that does not answer (timeout) and on an aborted request', async () => {
    const { port1, port2 } = new MessageChannel();
    const seen: unknown[] = [];
    port1.on('message', (message) => seen.push(message)); // an engine that never answers
    const handler = new EnginePortHandler(port2, 50);
    const request = {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/',
      query: { a: ['1', '2'], b: null },
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.GetItem' },
      body: new TextEncoder().encode('{"TableName":"t"}'),
    };
    await expect(handler.handle(request)).rejects.toMatchObject({ name: 'TimeoutError' });
    // What the engine is handed: the request line's path and query, lower-case header names, the body as text.
    expect(seen[0]).toEqual({
      id: 0,
      method: 'POST',
      path: '/?a=1&a=2&b=',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{"TableName":"t"}',
    });

    const abort = new AbortController();
    const aborted = handler.handle(request, { abortSignal: abort.signal });
    abort.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(handler.handle(request, { abortSignal: abort.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    // A request's own timeout wins over the handler's, and the error names the one that ran out.
    await expect(handler.handle(request, { requestTimeout: 20 })).rejects.toThrow(
      'the embedded engine did not answer within 20 ms',
    );
    // A request that settles lets go of its signal, which may live on for other requests.
    const shared = new AbortController();
    const listening = vi.spyOn(shared.signal, 'removeEventListener');
    await expect(handler.handle(request, { abortSignal: shared.signal })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(listening).toHaveBeenCalledWith('abort', expect.any(Function));

    handler.destroy();
    port1.close();
    await expect(handler.handle(request)).rejects.toThrow('the embedded engine client is closed');
  });
});
