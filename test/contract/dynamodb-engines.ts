import { inject } from 'vitest';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { DynamoDbLocalUnavailable, startDynamoDbLocal } from '../support/dynamodb-local';

/** A DynamoDB engine the contract suites run against. */
export interface DynamoDbEngine {
  readonly name: string;
  start(): Promise<LocalDynamoDb>;
}

/**
 * dynalite (what `npm start` embeds) and DynamoDB Local (AWS's own emulator), so behaviour dynalite
 * lacks is still tested against AWS semantics (DESIGN.md, "The same system on one machine").
 */
export const DYNAMODB_ENGINES: readonly DynamoDbEngine[] = [
  { name: 'dynalite', start: startDynalite },
  {
    name: 'DynamoDB Local',
    start: async () => {
      // Fetched by the contract project's global setup; fetched here when run without it.
      const prepared = inject('dynamodbLocal');
      if (prepared === undefined) return startDynamoDbLocal();
      if ('unavailable' in prepared) throw new DynamoDbLocalUnavailable(prepared.unavailable);
      return startDynamoDbLocal({ install: prepared.install });
    },
  },
];

let tables = 0;

/** A table name no other test in this process uses (3–255 of `[A-Za-z0-9_.-]`). */
export function uniqueTableName(prefix: string): string {
  tables += 1;
  return `${prefix}-${process.pid}-${tables}`;
}
