import {
  AthenaClient,
  AthenaServiceException,
  GetQueryExecutionCommand,
  type GetQueryExecutionOutput,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  InvalidRequestException,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AthenaAudienceEngine,
  type AthenaAudienceEngineOptions,
} from '../../src/adapters/aws/athena-audience-engine';
import { ServiceUnavailableError } from '../../src/core/errors';
import {
  athenaExecutionParameters,
  bindParams,
  compileSegment,
  printPreviewQuery,
} from '../../src/core/segments';
import type { BoundQuery } from '../../src/ports/audience-engine';
import { ManualClock } from '../../src/ports/clock';

const athena = mockClient(AthenaClient);
const WORK_GROUP = 'mosaic-segments';
const DATABASE = 'mosaic_lake';
const QUERY_ID = '5f0e1a52-8c4b-4f0e-9d7e-0123456789ab';
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const SIMPLE: BoundQuery = { sql: 'SELECT 1 AS member_count, NULL AS profile_id', values: [] };

beforeEach(() => {
  athena.reset();
});

/** The engine on a mocked client, with a clock that moves only when the engine sleeps. */
function engine(options: Partial<AthenaAudienceEngineOptions> = {}) {
  const clock = new ManualClock(NOW);
  const sleeps: number[] = [];
  let ids = 0;
  const athenaEngine = new AthenaAudienceEngine({
    client: new AthenaClient({ region: 'eu-west-1' }),
    workGroup: WORK_GROUP,
    database: DATABASE,
    clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
    ...options,
  });
  return { engine: athenaEngine, clock, sleeps };
}

function execution(
  State: QueryExecutionState,
  extra: { reason?: string; bytes?: number; totalMs?: number; workGroup?: string } = {},
): GetQueryExecutionOutput {
  return {
    QueryExecution: {
      QueryExecutionId: QUERY_ID,
      WorkGroup: extra.workGroup ?? WORK_GROUP,
      Status: {
        State,
        ...(extra.reason === undefined ? {} : { StateChangeReason: extra.reason }),
        SubmissionDateTime: new Date(NOW),
        ...(State === 'SUCCEEDED' || State === 'FAILED' ? { CompletionDateTime: new Date(NOW + 9000) } : {}),
      },
      Statistics: {
        ...(extra.bytes === undefined ? {} : { DataScannedInBytes: extra.bytes }),
        ...(extra.totalMs === undefined ? {} : { TotalExecutionTimeInMillis: extra.totalMs }),
        EngineExecutionTimeInMillis: 1234,
      },
    },
  };
}

/** A preview's result page as Athena returns it: the header row first; `null` is a NULL cell. */
function resultPage(rows: ReadonlyArray<readonly [string | null, string | null]>): GetQueryResultsOutput {
  const cell = (value: string | null) => (value === null ? {} : { VarCharValue: value });
  return {
    ResultSet: {
      ResultSetMetadata: {
        ColumnInfo: [
          { Name: 'member_count', Type: 'bigint' },
          { Name: 'profile_id', Type: 'varchar' },
        ],
      },
      Rows: [
        { Data: [{ VarCharValue: 'member_count' }, { VarCharValue: 'profile_id' }] },
        ...rows.map(([count, id]) => ({ Data: [cell(count), cell(id)] })),
      ],
    },
  };
}

const startedInput = (n = 0) => athena.commandCalls(StartQueryExecutionCommand)[n]?.args[0].input;

describe('AthenaAudienceEngine.preview starts the query', () => {
  it('with the SQL, workgroup, database and every bound value as a quoted literal (a quote doubled)', async () => {
    const ast = await compileSegment({
      all: [
        { trait: { name: 'plan', op: 'eq', value: "pro's" } },
        {
          event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, within: { last: { days: 30 } } },
        },
      ],
    });
    const compiled = printPreviewQuery(ast, 'athena');
    const query: BoundQuery = { sql: compiled.sql, values: bindParams(compiled.params, { now: NOW }) };
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));

    await engine().engine.preview(query, 0);

    expect(startedInput()).toEqual({
      QueryString: compiled.sql,
      WorkGroup: WORK_GROUP,
      QueryExecutionContext: { Database: DATABASE },
      ExecutionParameters: [
        "'Order Completed'",
        "'2026-10-23'",
        "'2026-10-23 12:00:00.000'",
        "'2026-11-22 12:00:00.000'",
        "'pro''s'",
        "'2'",
      ],
      ClientRequestToken: '00000000-0000-4000-8000-000000000001',
    });
    // The same literals the core gives for Athena.
    expect(startedInput()?.ExecutionParameters).toEqual(
      athenaExecutionParameters(compiled.params, { now: NOW }),
    );
  });

  it('without ExecutionParameters when there are no values (Athena refuses an empty list), in the catalog given', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('QUEUED'));

    await engine({ catalog: 'lake_catalog' }).engine.preview(SIMPLE, 0);

    expect(startedInput()).toEqual({
      QueryString: SIMPLE.sql,
      WorkGroup: WORK_GROUP,
      QueryExecutionContext: { Database: DATABASE, Catalog: 'lake_catalog' },
      ClientRequestToken: '00000000-0000-4000-8000-000000000001',
    });
    expect(startedInput()).not.toHaveProperty('ExecutionParameters');
  });

  it('numbers go as string literals too; a value that looks like SQL stays one literal', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));

    await engine().engine.preview({ sql: SIMPLE.sql, values: [2.5, 0, "x' OR '1'='1"] }, 0);

    expect(startedInput()?.ExecutionParameters).toEqual(["'2.5'", "'0'", "'x'' OR ''1''=''1'"]);
  });
});

describe('AthenaAudienceEngine.preview polls', () => {
  it('until SUCCEEDED, backing off from 500 ms, then reads count, sample, bytes scanned and elapsed time', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED', { bytes: 73_400_320, totalMs: 3456 }));
    athena.on(GetQueryResultsCommand).resolves(
      resultPage([
        ['3', 'p-a'],
        ['3', 'p-b'],
        ['3', 'p-c'],
      ]),
    );
    const { engine: athenaEngine, sleeps } = engine();

    const outcome = await athenaEngine.preview(SIMPLE, 10_000);

    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      previewId: QUERY_ID,
      count: 3,
      sample: ['p-a', 'p-b', 'p-c'],
      bytesScanned: 73_400_320,
      elapsedMs: 3456,
    });
    expect(sleeps).toEqual([500, 1000, 2000]);
    for (const call of athena.commandCalls(GetQueryExecutionCommand)) {
      expect(call.args[0].input).toEqual({ QueryExecutionId: QUERY_ID });
    }
    expect(athena.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input)).toEqual([
      { QueryExecutionId: QUERY_ID, MaxResults: 11 },
    ]);
  });

  it('answers RUNNING with the execution id once waitMs has passed, without real waiting and without reading results', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    const { engine: athenaEngine, sleeps, clock } = engine();

    const outcome = await athenaEngine.preview(SIMPLE, 5000);

    expect(outcome).toEqual({ status: 'RUNNING', previewId: QUERY_ID });
    // 500, 1000, 2000, then only what is left of the 5 s; the last check is at the deadline.
    expect(sleeps).toEqual([500, 1000, 2000, 1500]);
    expect(clock.now()).toBe(NOW + 5000);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('never waits more than 2 s between checks', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    const { engine: athenaEngine, sleeps } = engine();

    await athenaEngine.preview(SIMPLE, 12_000);

    expect(sleeps).toEqual([500, 1000, 2000, 2000, 2000, 2000, 2000, 500]);
  });

  it('with waitMs 0 checks once, at once', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution('FAILED', { reason: 'line 1:8: Column x cannot be resolved' }));
    const { engine: athenaEngine, sleeps } = engine();

    expect(await athenaEngine.preview(SIMPLE, 0)).toEqual({
      status: 'FAILED',
      previewId: QUERY_ID,
      error: 'line 1:8: Column x cannot be resolved',
    });
    expect(sleeps).toEqual([]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(1);
  });

  it('a query that fails (the bytes-scanned cutoff) is FAILED with Athena reason, not an exception', async () => {
    const reason =
      'Query exhausted resources at this scale factor. Bytes scanned limit was exceeded: 10485760 bytes';
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('FAILED', { reason }));

    const outcome = await engine().engine.preview(SIMPLE, 10_000);

    expect(outcome).toEqual({ status: 'FAILED', previewId: QUERY_ID, error: reason });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('a cancelled query is FAILED, with a reason even when Athena gives none', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('CANCELLED'));

    expect(await engine().engine.preview(SIMPLE, 1000)).toEqual({
      status: 'FAILED',
      previewId: QUERY_ID,
      error: 'the query was cancelled',
    });
  });

  it('a query Athena refuses to start is FAILED with the refusal, its previewId the request token', async () => {
    athena.on(StartQueryExecutionCommand).rejects(
      new InvalidRequestException({
        message:
          'queryString failed to satisfy constraint: Member must have length less than or equal to 262144',
        $metadata: {},
      }),
    );

    const outcome = await engine().engine.preview(SIMPLE, 1000);

    expect(outcome).toEqual({
      status: 'FAILED',
      previewId: '00000000-0000-4000-8000-000000000001',
      error:
        'Athena refused the query: InvalidRequestException: queryString failed to satisfy constraint: Member must have length less than or equal to 262144',
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(0);
  });
});

describe('AthenaAudienceEngine reads the preview rows', () => {
  async function previewOf(page: GetQueryResultsOutput) {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { bytes: 0, totalMs: 80 }));
    athena.on(GetQueryResultsCommand).resolves(page);
    return engine().engine.preview(SIMPLE, 1000);
  }

  it('no members: one row with a NULL profile id → count 0, an empty sample', async () => {
    expect(await previewOf(resultPage([['0', null]]))).toEqual({
      status: 'SUCCEEDED',
      previewId: QUERY_ID,
      count: 0,
      sample: [],
      bytesScanned: 0,
      elapsedMs: 80,
    });
  });

  it('many members: the count of all of them, the ids in the order given, NULL cells skipped', async () => {
    const ids = ['p-09', 'p-02', 'p-05', 'p-01', 'p-07', 'p-03', 'p-04', 'p-08', 'p-06'];
    const outcome = await previewOf(
      resultPage([...ids.map((id) => ['12345', id] as const), ['12345', null]]),
    );
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', count: 12_345, sample: ids });
  });

  it('at most 10 ids even if Athena returned more rows', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
    const outcome = await previewOf(resultPage(ids.map((id) => ['40', id] as const)));
    expect(outcome).toMatchObject({ count: 40, sample: ids.slice(0, 10) });
  });

  it('columns are found by name, in any order; an empty-string id is a value, not NULL', async () => {
    const outcome = await previewOf({
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: [
            { Name: 'profile_id', Type: 'varchar' },
            { Name: 'member_count', Type: 'bigint' },
          ],
        },
        Rows: [
          { Data: [{ VarCharValue: 'profile_id' }, { VarCharValue: 'member_count' }] },
          { Data: [{ VarCharValue: '' }, { VarCharValue: '2' }] },
          { Data: [{ VarCharValue: 'p-b' }, { VarCharValue: '2' }] },
        ],
      },
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', count: 2, sample: ['', 'p-b'] });
  });

  it('without statistics: no bytesScanned, elapsed from the engine time', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['1', 'p-a']]));
    const outcome = await engine().engine.preview(SIMPLE, 1000);
    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      previewId: QUERY_ID,
      count: 1,
      sample: ['p-a'],
      elapsedMs: 1234,
    });
  });

  it('a result of another shape is FAILED, naming what is wrong', async () => {
    const outcome = await previewOf({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'profile_id', Type: 'varchar' }] },
        Rows: [{ Data: [{ VarCharValue: 'profile_id' }] }, { Data: [{ VarCharValue: 'p-a' }] }],
      },
    });
    expect(outcome).toEqual({
      status: 'FAILED',
      previewId: QUERY_ID,
      error: 'unexpected preview result: columns ["profile_id"], not member_count and profile_id',
    });
    const noCount = await previewOf(resultPage([[null, 'p-a']]));
    expect(noCount).toEqual({
      status: 'FAILED',
      previewId: QUERY_ID,
      error: 'unexpected preview result: member_count null',
    });
  });
});

describe('AthenaAudienceEngine.previewStatus', () => {
  it('reads a preview started earlier: RUNNING while Athena runs it, then the outcome', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED', { bytes: 1024, totalMs: 61_000 }));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['1', 'p-a']]));
    const { engine: athenaEngine, sleeps } = engine();

    expect(await athenaEngine.previewStatus(QUERY_ID)).toEqual({ status: 'RUNNING', previewId: QUERY_ID });
    expect(await athenaEngine.previewStatus(QUERY_ID)).toEqual({
      status: 'SUCCEEDED',
      previewId: QUERY_ID,
      count: 1,
      sample: ['p-a'],
      bytesScanned: 1024,
      elapsedMs: 61_000,
    });
    expect(sleeps).toEqual([]);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('a failed preview is FAILED with the reason', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution('FAILED', { reason: 'Bytes scanned limit was exceeded' }));
    expect(await engine().engine.previewStatus(QUERY_ID)).toEqual({
      status: 'FAILED',
      previewId: QUERY_ID,
      error: 'Bytes scanned limit was exceeded',
    });
  });

  it('an id Athena does not know is undefined', async () => {
    athena.on(GetQueryExecutionCommand).rejects(
      new InvalidRequestException({
        message: 'QueryExecution 5f0e1a52-0000-4f0e-9d7e-0123456789ab was not found',
        AthenaErrorCode: 'INVALID_INPUT',
        $metadata: {},
      }),
    );
    expect(await engine().engine.previewStatus('5f0e1a52-0000-4f0e-9d7e-0123456789ab')).toBeUndefined();
  });

  it("another workgroup's query is undefined, and its results are not read", async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { workGroup: 'finance' }));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['1', 'secret']]));
    expect(await engine().engine.previewStatus(QUERY_ID)).toBeUndefined();
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('an id of a shape Athena never issues is undefined without a call', async () => {
    expect(await engine().engine.previewStatus('../../etc/passwd')).toBeUndefined();
    expect(await engine().engine.previewStatus('')).toBeUndefined();
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(0);
  });
});

describe('AthenaAudienceEngine when Athena calls fail', () => {
  const throttled = () =>
    new TooManyRequestsException({
      message: 'Rate exceeded',
      Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
      $metadata: {},
    });

  it('a start throttled past the SDK retries rejects with a retryable ServiceUnavailableError', async () => {
    athena.on(StartQueryExecutionCommand).rejects(throttled());
    const error = await engine()
      .engine.preview(SIMPLE, 1000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryable: true, statusCode: 503 });
    expect((error as Error).cause).toBeInstanceOf(TooManyRequestsException);
  });

  it('a status check throttled after the start answers RUNNING, so the running query is not lost', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('RUNNING')).rejects(throttled());
    expect(await engine().engine.preview(SIMPLE, 10_000)).toEqual({ status: 'RUNNING', previewId: QUERY_ID });
  });

  it('reading the results of a finished query when throttled answers RUNNING too', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).rejects(throttled());
    expect(await engine().engine.preview(SIMPLE, 10_000)).toEqual({ status: 'RUNNING', previewId: QUERY_ID });
  });

  it('previewStatus throttled rejects with ServiceUnavailableError (status check and results)', async () => {
    athena.on(GetQueryExecutionCommand).rejects(throttled());
    await expect(engine().engine.previewStatus(QUERY_ID)).rejects.toBeInstanceOf(ServiceUnavailableError);
    athena.reset();
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).rejects(throttled());
    await expect(engine().engine.previewStatus(QUERY_ID)).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('a server fault or a network failure is retryable too; access denied is not, and stays as the SDK threw it', async () => {
    const serverFault = new AthenaServiceException({
      name: 'InternalServerException',
      $fault: 'server',
      $metadata: {},
      message: 'internal',
    });
    athena.on(StartQueryExecutionCommand).rejects(serverFault);
    await expect(engine().engine.preview(SIMPLE, 0)).rejects.toBeInstanceOf(ServiceUnavailableError);

    athena.reset();
    athena
      .on(StartQueryExecutionCommand)
      .rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(engine().engine.preview(SIMPLE, 0)).rejects.toBeInstanceOf(ServiceUnavailableError);

    athena.reset();
    const denied = new AthenaServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
      message: 'not authorized to perform athena:StartQueryExecution',
    });
    athena.on(StartQueryExecutionCommand).rejects(denied);
    await expect(engine().engine.preview(SIMPLE, 0)).rejects.toBe(denied);

    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).rejects(denied);
    await expect(engine().engine.preview(SIMPLE, 0)).rejects.toBe(denied);
  });
});

describe('AthenaAudienceEngine', () => {
  it('speaks the athena dialect', () => {
    expect(engine().engine.dialect).toBe('athena');
  });
});
