/** The key shape of a Mosaic DynamoDB table: string partition and sort keys, and a TTL attribute. */
export interface TableShape {
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Epoch seconds after which DynamoDB may delete an item (records that must expire). */
  readonly timeToLiveAttribute: string;
}

/** The CreateTable input for a table of this shape (dynalite, DynamoDB Local). */
export function tableDefinition(shape: TableShape, tableName: string) {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: shape.partitionKey, AttributeType: 'S' as const },
      { AttributeName: shape.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: shape.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: shape.sortKey, KeyType: 'RANGE' as const },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
}
