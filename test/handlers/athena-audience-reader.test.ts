import {
  AthenaClient,
  AthenaServiceException,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaAudienceReader } from '../../src/adapters/aws/athena-audience-reader';
import { ServiceUnavailableError } from '../../src/core/errors';
import type { AudienceSource } from '../../src/ports/audience-reader';
import { ManualClock } from '../../src/ports/clock';

const athena = mockClient(AthenaClient);

const SOURCE: AudienceSource = {
  membersLocation: 's3://mosaic-exports/exports/segment_id=pro-buyers/export_id=x0000000001abc/members/',
  identifiers: ['email', 'phone'],
  traits: ['plan'],
};
const COLUMNS = ['profile_id', 'c0', 'c1', 'c2', 'member_count'];

/** Member rows (`p-0001`..), a phone only on even ones; `n` in all. */
function memberRows(n: number): (string | undefined)[][] {
  return Array.from({ length: n }, (_, i) => [
    `p-${String(i + 1).padStart(4, '0')}`,
    `person${i + 1}@example.com`,
    (i + 1) % 2 === 0 ? `+1650555${String(1000 + i)}` : undefined,
    'pro',
    String(n),
  ]);
}

/** `GetQueryResults` as Athena answers it: the header row first on the first page, pages of `max`. */
function serveResults(rows: (string | undefined)[][]) {
  athena.on(GetQueryResultsCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) => {
    const all = [COLUMNS, ...rows];
    const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
    const end = Math.min(all.length, start + (input.MaxResults ?? 1000));
    const out: GetQueryResultsOutput = {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: COLUMNS.map((Name) => ({ Name, Type: 'varchar' })) },
        Rows: all.slice(start, end).map((row) => ({
          Data: row.map((v) => (v === undefined ? {} : { VarCharValue: v })),
        })),
      },
      ...(end < all.length ? { NextToken: String(end) } : {}),
    };
    return out;
  });
}

function reader(clock = new ManualClock(0), sleeps: number[] = []) {
  return new AthenaAudienceReader({
    client: new AthenaClient({}),
    workGroup: 'mosaic-delivery',
    database: 'mosaic_lake',
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  });
}

beforeEach(() => {
  athena.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
});

describe('AthenaAudienceReader', () => {
  it('runs ONE parameterised query (no value in the SQL), polls it, and counts from its first row', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    serveResults(memberRows(2500));
    const sleeps: number[] = [];
    const r = reader(new ManualClock(0), sleeps);
    expect(await r.count(SOURCE)).toBe(2500);
    const pages: number[] = [];
    for await (const page of r.pages(SOURCE, 1000)) pages.push(page.length);
    expect(pages).toEqual([1000, 1000, 500]);

    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts).toHaveLength(1);
    const input = starts[0]?.args[0].input;
    expect(input?.ExecutionParameters).toEqual(["'pro-buyers'", "'x0000000001abc'"]);
    expect(input?.QueryString).not.toContain('pro-buyers');
    expect(input?.QueryString).not.toContain('x0000000001abc');
    expect(input?.QueryString).toContain('FROM "mosaic_lake"."export_members"');
    expect(input?.QueryString).toContain('segment_id = ? AND export_id = ?');
    expect(input?.QueryString).toContain('GROUP BY profile_id');
    expect(input?.QueryString).toContain('ORDER BY profile_id');
    expect(input?.WorkGroup).toBe('mosaic-delivery');
    expect(input?.QueryExecutionContext).toEqual({ Database: 'mosaic_lake' });
    // The audience engine's polling: 500 ms, doubling.
    expect(sleeps).toEqual([500, 1000]);
  });

  it('pages in profile-id order, each member once, named after the export columns; NULL cells are left out', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    serveResults(memberRows(2345));
    const members = [];
    const sizes: number[] = [];
    for await (const page of reader().pages(SOURCE, 300)) {
      sizes.push(page.length);
      members.push(...page);
    }
    expect(sizes.slice(0, 7)).toEqual([300, 300, 300, 300, 300, 300, 300]);
    expect(sizes.at(-1)).toBe(2345 - 7 * 300);
    expect(members.map((m) => m.profileId)).toEqual(memberRows(2345).map((row) => row[0]));
    expect(members[0]).toEqual({
      profileId: 'p-0001',
      identifiers: { email: 'person1@example.com' },
      traits: { plan: 'pro' },
    });
    expect(members[1]).toEqual({
      profileId: 'p-0002',
      identifiers: { email: 'person2@example.com', phone: '+16505551001' },
      traits: { plan: 'pro' },
    });
    // 2,346 rows with the header, 1,000 a call.
    const calls = athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.NextToken)).toEqual([undefined, '1000', '2000']);
    expect(calls.every((c) => c.MaxResults === 1000)).toBe(true);
  });

  it('an empty export counts 0 and has no pages', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    serveResults([]);
    const r = reader();
    expect(await r.count(SOURCE)).toBe(0);
    const pages = [];
    for await (const page of r.pages(SOURCE, 10)) pages.push(page);
    expect(pages).toEqual([]);
  });

  it('members out of code-unit order stop the read', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    serveResults([
      ['p-2', 'a', undefined, 'pro', '2'],
      ['p-1', 'b', undefined, 'pro', '2'],
    ]);
    const read = async () => {
      for await (const _ of reader().pages(SOURCE, 10)) {
        // reading
      }
    };
    await expect(read()).rejects.toThrow(/profile-id order/);
  });

  it('a failed query rejects with its reason; throttling is retryable; a query past the wait is retryable', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', AthenaError: { ErrorMessage: 'TABLE_NOT_FOUND' } } },
    });
    await expect(reader().count(SOURCE)).rejects.toThrow(/failed: TABLE_NOT_FOUND/);

    athena.reset();
    athena.on(StartQueryExecutionCommand).rejects(
      new AthenaServiceException({
        name: 'TooManyRequestsException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'slow down',
      }),
    );
    await expect(reader().count(SOURCE)).rejects.toBeInstanceOf(ServiceUnavailableError);

    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    await expect(reader().count(SOURCE)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('a folder that is not an export members folder is refused before any query', async () => {
    await expect(
      reader().count({ ...SOURCE, membersLocation: "s3://b/exports/x'; DROP/members/" }),
    ).rejects.toThrow(RangeError);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });
});
