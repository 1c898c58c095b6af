import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DeliveredBatch, DeliveryLedger } from '../../ports/delivery-ledger';
import { DELIVERY_LEDGER_TABLE_SHAPE, ledgerKey } from './delivery-ledger-table';
import { fromAttributes, toAttributes } from './dynamodb-items';

/**
 * How long a ledger item is kept: 400 days. The ledger must outlive every way the same batch can come
 * back — an SQS redelivery or DLQ redrive (days at most: SQS keeps a message 14 days), and above all an
 * EventBridge archive replay of `Audience Export Completed`, which can come as late as the archive's
 * retention (a year is the usual longest setting) — or a replay would send the batch again. A year and
 * a month covers that with margin, while the table still forgets (DESIGN.md: dedupe records expire).
 * An operator who keeps the archive longer raises `retentionDays` with it.
 */
export const DEFAULT_LEDGER_RETENTION_DAYS = 400;

export interface DynamoDbDeliveryLedgerOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days an item is kept (TTL). Default {@link DEFAULT_LEDGER_RETENTION_DAYS}. */
  readonly retentionDays?: number;
}

/**
 * The {@link DeliveryLedger} in DynamoDB (layout: `delivery-ledger-table.ts`): one item per accepted
 * batch, written with a conditional put (`attribute_not_exists(pk)`), so recording a batch twice — two
 * deliveries racing, a retry after a lost answer — keeps the first record and changes nothing; reads
 * are strongly consistent, so a batch recorded a moment ago is seen by the next delivery.
 */
export class DynamoDbDeliveryLedger implements DeliveryLedger {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly retentionSeconds: number;

  constructor(options: DynamoDbDeliveryLedgerOptions) {
    const days = options.retentionDays ?? DEFAULT_LEDGER_RETENTION_DAYS;
    if (!(Number.isInteger(days) && days >= 1)) throw new RangeError('retentionDays is a positive integer');
    this.client = options.client;
    this.table = options.tableName;
    this.retentionSeconds = days * 86_400;
  }

  async isDelivered(destination: string, idempotencyKey: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: toAttributes(ledgerKey(destination, idempotencyKey)),
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return Item !== undefined;
  }

  async recordDelivered(batch: DeliveredBatch): Promise<void> {
    const deliveredAtMs = Date.parse(batch.deliveredAt);
    if (Number.isNaN(deliveredAtMs)) throw new RangeError('deliveredAt is not an ISO-8601 time');
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toAttributes({
            ...ledgerKey(batch.destination, batch.idempotencyKey),
            destination: batch.destination,
            idempotencyKey: batch.idempotencyKey,
            exportId: batch.exportId,
            batchIndex: batch.batchIndex,
            members: batch.members,
            deliveredAt: batch.deliveredAt,
            [DELIVERY_LEDGER_TABLE_SHAPE.timeToLiveAttribute]:
              Math.floor(deliveredAtMs / 1000) + this.retentionSeconds,
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // Recorded already (a retry, or a delivery racing this one): the first record stands.
      if ((error as { name?: string } | null)?.name === 'ConditionalCheckFailedException') return;
      throw error;
    }
  }

  /** The stored record of a batch (tests, operators). */
  async get(destination: string, idempotencyKey: string): Promise<DeliveredBatch | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: toAttributes(ledgerKey(destination, idempotencyKey)),
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const record = fromAttributes(Item);
    return {
      destination: String(record.destination),
      idempotencyKey: String(record.idempotencyKey),
      exportId: String(record.exportId),
      batchIndex: Number(record.batchIndex),
      members: Number(record.members),
      deliveredAt: String(record.deliveredAt),
    };
  }
}
