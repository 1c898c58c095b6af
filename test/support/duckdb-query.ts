import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Rows of one DuckDB query (a fresh in-memory database, one thread, UTC session), as JavaScript
 * values: how the tests read back what the local lake wrote.
 */
export async function queryDuckDb(sql: string, params: string[] = []): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    return (await connection.runAndReadAll(sql, params)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}
