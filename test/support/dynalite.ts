import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { identityTableDefinition } from '../../src/adapters/aws/identity-table';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';
import { startDynaliteServer } from '../../src/local/embedded-dynamodb';

/**
 * A DynamoDB-compatible engine running on this machine (dynalite here, DynamoDB Local in
 * `dynamodb-local.ts`), with a client that can only ever reach it.
 */
export interface LocalDynamoDb {
  /** Which engine, for test names: `dynalite` or `DynamoDB Local`. */
  readonly engine: string;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A client for this engine: dummy credentials and region, the endpoint pinned to localhost. */
  readonly client: DynamoDBClient;
  /** Creates a table shaped like the identity table (`identityTableDefinition`) and waits until it is ACTIVE. */
  createTable(name: string): Promise<void>;
  /** Stops the engine and the client; everything it held is gone. */
  stop(): Promise<void>;
}

/**
 * Credentials that no AWS account accepts: a test client must never be able to reach AWS. Letters and
 * digits only: DynamoDB Local (1.23+) answers UnrecognizedClientException to any other access key id.
 */
const DUMMY_CREDENTIALS = { accessKeyId: 'mosaiclocal', secretAccessKey: 'mosaiclocal' } as const;
const DUMMY_REGION = 'us-east-1';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Throws unless `endpoint` is an http URL on this machine. */
export function assertLocalEndpoint(endpoint: string): void {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' || !LOCAL_HOSTS.has(url.hostname)) {
    throw new Error(`refusing a DynamoDB endpoint that is not on this machine: ${endpoint}`);
  }
}

/**
 * A client for a local engine, configured like every Mosaic client (`sdkClientConfig`) but with dummy
 * credentials and a longer request timeout (DynamoDB Local's first requests run before its JIT warms up).
 */
export function localDynamoDbClient(
  endpoint: string,
  options: { readonly maxAttempts?: number } = {},
): DynamoDBClient {
  assertLocalEndpoint(endpoint);
  return new DynamoDBClient({
    ...sdkClientConfig({
      region: DUMMY_REGION,
      endpoint,
      requestTimeoutMs: 15_000,
      connectionTimeoutMs: 2000,
      ...options,
    }),
    credentials: DUMMY_CREDENTIALS,
  });
}

/**
 * Creates a table through `client` and waits until the engine reports it ACTIVE. Both engines answer
 * CreateTable with the table still CREATING and refuse requests to it (ResourceNotFoundException) until
 * it is ACTIVE; dynalite marks it so on a timer, which a busy machine can run after the next request.
 */
export async function createActiveTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<void> {
  const name = definition.TableName;
  await client.send(new CreateTableCommand(definition));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${name} still ${Table?.TableStatus} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Creates an identity table through `client` and waits until the engine reports it ACTIVE. */
export function createIdentityTable(client: DynamoDBClient, name: string): Promise<void> {
  return createActiveTable(client, identityTableDefinition(name));
}

/**
 * Starts dynalite in this process, in memory, on a free port of 127.0.0.1, with tables ACTIVE as soon
 * as they are created. The same engine the local runtime embeds (DESIGN.md, "The same system on one
 * machine").
 */
export async function startDynalite(): Promise<LocalDynamoDb> {
  const server = await startDynaliteServer();
  const client = localDynamoDbClient(server.endpoint);
  return {
    engine: 'dynalite',
    endpoint: server.endpoint,
    client,
    createTable: (name) => createIdentityTable(client, name),
    stop: async () => {
      client.destroy();
      await server.close();
    },
  };
}
