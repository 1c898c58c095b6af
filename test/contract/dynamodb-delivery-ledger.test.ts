import { DeleteTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DELIVERY_LEDGER_TABLE_SHAPE,
  deliveryLedgerTableDefinition,
  ledgerKey,
} from '../../src/adapters/aws/delivery-ledger-table';
import {
  DEFAULT_LEDGER_RETENTION_DAYS,
  DynamoDbDeliveryLedger,
} from '../../src/adapters/aws/dynamodb-delivery-ledger';
import { createActiveTable } from '../support/dynalite';
import { describeDeliveryLedgerContract } from './delivery-ledger.contract';
import { DYNAMODB_ENGINES, uniqueTableName, useEngine } from './dynamodb-engines';

// The delivery ledger against dynalite (the local runtime's engine) and DynamoDB Local (AWS semantics).
for (const engine of DYNAMODB_ENGINES) {
  describe(`DynamoDbDeliveryLedger on ${engine.name}`, () => {
    const db = useEngine(engine);

    describeDeliveryLedgerContract(engine.name, async () => {
      const tableName = uniqueTableName('ledger');
      await createActiveTable(db().client, deliveryLedgerTableDefinition(tableName));
      const open = () => new DynamoDbDeliveryLedger({ client: db().client, tableName });
      return {
        ledger: open(),
        reopen: async () => open(),
        close: async () => {
          await db().client.send(new DeleteTableCommand({ TableName: tableName }));
        },
      };
    });

    describe('items', () => {
      let tableName: string;
      beforeEach(async () => {
        tableName = uniqueTableName('ledger');
        await createActiveTable(db().client, deliveryLedgerTableDefinition(tableName));
      });
      afterEach(async () => {
        await db().client.send(new DeleteTableCommand({ TableName: tableName }));
      });

      it('hold ids and counts, expire 400 days after delivery (TTL), and the first record stands', async () => {
        const ledger = new DynamoDbDeliveryLedger({ client: db().client, tableName });
        const first = {
          destination: 'esp',
          idempotencyKey: 'd'.repeat(64),
          exportId: 'x0000000001',
          batchIndex: 3,
          members: 250,
          deliveredAt: '2026-11-22T10:00:00.000Z',
        };
        await ledger.recordDelivered(first);
        await ledger.recordDelivered({ ...first, members: 1, deliveredAt: '2026-11-23T10:00:00.000Z' });
        expect(await ledger.get('esp', 'd'.repeat(64))).toEqual(first);
        const { Item } = await db().client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: {
              pk: { S: ledgerKey('esp', 'd'.repeat(64)).pk },
              sk: { S: ledgerKey('esp', 'd'.repeat(64)).sk },
            },
          }),
        );
        expect(DEFAULT_LEDGER_RETENTION_DAYS).toBe(400);
        expect(Item?.[DELIVERY_LEDGER_TABLE_SHAPE.timeToLiveAttribute]).toEqual({
          N: String(Date.parse('2026-11-22T10:00:00.000Z') / 1000 + 400 * 86_400),
        });
      });

      it('a shorter retention is honoured; a retention that is not a positive whole number of days is refused', async () => {
        const ledger = new DynamoDbDeliveryLedger({ client: db().client, tableName, retentionDays: 30 });
        await ledger.recordDelivered({
          destination: 'esp',
          idempotencyKey: 'e'.repeat(64),
          exportId: 'x0000000001',
          batchIndex: 0,
          members: 1,
          deliveredAt: '2026-11-22T10:00:00.000Z',
        });
        const { Item } = await db().client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { pk: { S: ledgerKey('esp', 'e'.repeat(64)).pk }, sk: { S: 'B' } },
          }),
        );
        expect(Item?.expiresAt?.N).toBe(String(Date.parse('2026-11-22T10:00:00.000Z') / 1000 + 30 * 86_400));
        expect(
          () => new DynamoDbDeliveryLedger({ client: db().client, tableName, retentionDays: 0 }),
        ).toThrow(RangeError);
      });
    });
  });
}
