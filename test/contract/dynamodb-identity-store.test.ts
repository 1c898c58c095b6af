import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { describe } from 'vitest';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { DYNAMODB_ENGINES, uniqueTableName, useEngine } from './dynamodb-engines';
import { describeIdentityStoreContract } from './identity-store.contract';

/**
 * Contract tests the adapter fails today, per engine (reported to the adapter's owner). They run as
 * expected failures and turn red once fixed: then delete the entry.
 */
const KNOWN_BUGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

// The DynamoDB adapter against both engines it meets before AWS: dynalite (the local runtime's) and
// DynamoDB Local (AWS's emulator). One engine per suite; a fresh identity table per test.
for (const engine of DYNAMODB_ENGINES) {
  describe(engine.name, () => {
    const running = useEngine(engine);

    describeIdentityStoreContract(
      `DynamoDbIdentityStore on ${engine.name}`,
      async () => {
        const db = running();
        const tableName = uniqueTableName('identity');
        await db.createTable(tableName);
        return {
          store: new DynamoDbIdentityStore({ client: db.client, tableName }),
          // Frees the engine's memory: some tests hold ~18 MB of profiles.
          close: async () => {
            await db.client.send(new DeleteTableCommand({ TableName: tableName }));
          },
        };
      },
      { knownBugs: KNOWN_BUGS[engine.name] ?? {} },
    );
  });
}
