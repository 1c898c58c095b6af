import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
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

/**
 * Starts `engine` (then runs `afterStart`) before the enclosing suite's tests and stops it after
 * them; returns a getter for the running engine. If it cannot start (no Java, no jar), every test of the suite fails with the reason: a
 * failing `beforeAll` alone would only mark them skipped.
 */
export function useEngine(
  engine: DynamoDbEngine,
  afterStart: (db: LocalDynamoDb) => Promise<void> = async () => {},
): () => LocalDynamoDb {
  let db: LocalDynamoDb | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      db = await engine.start();
      await afterStart(db);
    } catch (error) {
      failure = error;
    }
  });
  beforeEach(() => {
    if (failure !== undefined) throw failure;
  });
  afterAll(async () => {
    await db?.stop();
  });
  return () => {
    if (db === undefined) throw failure ?? new Error(`${engine.name} has not started`);
    return db;
  };
}
