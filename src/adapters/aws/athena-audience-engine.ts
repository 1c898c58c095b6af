import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  type QueryExecution,
  StartQueryExecutionCommand,
  type StartQueryExecutionInput,
} from '@aws-sdk/client-athena';
import { ServiceUnavailableError } from '../../core/errors';
import { sqlStringLiteral } from '../../core/segments/params';
import { PREVIEW_SAMPLE_SIZE } from '../../core/segments/print-sql';
import type { AudienceEngine, BoundQuery, PreviewOutcome } from '../../ports/audience-engine';
import {
  type Clock,
  type IdGenerator,
  randomIds,
  realSleep,
  type Sleep,
  systemClock,
} from '../../ports/clock';

export interface AthenaAudienceEngineOptions {
  readonly client: AthenaClient;
  /** The workgroup every preview runs in (its result location, bytes-scanned cutoff, engine version). */
  readonly workGroup: string;
  /** The Glue database of the lake's tables. */
  readonly database: string;
  /** The data catalog; Athena's default (`AwsDataCatalog`) when not given. */
  readonly catalog?: string;
  /** The first wait between status checks; each next wait doubles, up to 2 s (or this, if larger). Default 500 ms. */
  readonly pollIntervalMs?: number;
  readonly sleep?: Sleep;
  readonly clock?: Clock;
  /**
   * Each preview's `ClientRequestToken` (Athena wants 32–128 characters; default a random UUID). It is
   * also the `previewId` of a query Athena refuses before it runs, which has no execution id.
   */
  readonly newId?: IdGenerator;
}

export const DEFAULT_POLL_INTERVAL_MS = 500;
export const MAX_POLL_INTERVAL_MS = 2000;

/**
 * {@link AudienceEngine} on Athena: a preview is a `StartQueryExecution` in the configured workgroup,
 * polled with `GetQueryExecution` (500 ms, doubling up to 2 s) until it ends or `waitMs` has passed; a
 * query still going then answers `RUNNING` with its `QueryExecutionId` as the `previewId`, which
 * {@link previewStatus} reads later. Parameters go as `ExecutionParameters`, each a SQL string literal
 * (`athenaExecutionParameters`), and only when there are any (Athena refuses an empty list).
 *
 * Outcomes: `SUCCEEDED` reads the preview's one page of rows (`member_count`, `profile_id`) with
 * `GetQueryResults`; `bytesScanned` is the execution's `DataScannedInBytes`, and `elapsedMs` its
 * `TotalExecutionTimeInMillis` — Athena's submission-to-completion time (queueing and planning
 * included), the same whether the preview is read by `preview` or later by `previewStatus`. A query
 * that fails or is cancelled — a syntax error, the workgroup's bytes-scanned cutoff — or one Athena
 * refuses to start (`InvalidRequestException`) is `FAILED` with Athena's reason, never an exception.
 *
 * Exceptions are only for calls to Athena that fail: throttling, server errors and network failures
 * that outlast the SDK's retries reject with a retryable `ServiceUnavailableError` (other errors, such
 * as access denied, as the SDK threw them). Once a query has started, a status check that fails so
 * answers `RUNNING` instead, so the running query's id is not lost: the caller polls it.
 */
export class AthenaAudienceEngine implements AudienceEngine {
  readonly dialect = 'athena' as const;
  private readonly client: AthenaClient;
  private readonly pollIntervalMs: number;
  private readonly sleep: Sleep;
  private readonly clock: Clock;
  private readonly newId: IdGenerator;

  constructor(private readonly options: AthenaAudienceEngineOptions) {
    this.client = options.client;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!(this.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be positive');
    this.sleep = options.sleep ?? realSleep;
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomIds;
  }

  async preview(query: BoundQuery, waitMs: number): Promise<PreviewOutcome> {
    const deadline = this.clock.now() + Math.max(0, waitMs);
    const token = this.newId();
    let previewId: string;
    try {
      const started = await this.client.send(new StartQueryExecutionCommand(this.startInput(query, token)));
      if (started.QueryExecutionId === undefined) throw new Error('StartQueryExecution returned no id');
      previewId = started.QueryExecutionId;
    } catch (error) {
      if (isNamed(error, 'InvalidRequestException')) {
        return { status: 'FAILED', previewId: token, error: `Athena refused the query: ${messageOf(error)}` };
      }
      throw asServiceUnavailable(error, 'Athena StartQueryExecution');
    }

    let delay = this.pollIntervalMs;
    const maxDelay = Math.max(MAX_POLL_INTERVAL_MS, this.pollIntervalMs);
    for (;;) {
      const remaining = deadline - this.clock.now();
      if (remaining > 0) await this.sleep(Math.min(delay, remaining));
      let outcome: PreviewOutcome;
      try {
        outcome = await this.outcome(previewId, await this.execution(previewId));
      } catch (error) {
        // The query runs on; a status check that failed for now must not lose its id.
        if (isTransientAwsError(error)) return { status: 'RUNNING', previewId };
        throw error;
      }
      if (outcome.status !== 'RUNNING' || this.clock.now() >= deadline) return outcome;
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  async previewStatus(previewId: string): Promise<PreviewOutcome | undefined> {
    if (!QUERY_EXECUTION_ID.test(previewId)) return undefined;
    let execution: QueryExecution;
    try {
      execution = await this.execution(previewId);
    } catch (error) {
      // Athena's answer for an id it does not know (or of a shape it never issues).
      if (isNamed(error, 'InvalidRequestException')) return undefined;
      throw asServiceUnavailable(error, 'Athena GetQueryExecution');
    }
    // Another workgroup's query is not one of our previews.
    if (execution.WorkGroup !== undefined && execution.WorkGroup !== this.options.workGroup) return undefined;
    try {
      return await this.outcome(previewId, execution);
    } catch (error) {
      throw asServiceUnavailable(error, 'Athena GetQueryResults');
    }
  }

  private startInput(query: BoundQuery, token: string): StartQueryExecutionInput {
    return {
      QueryString: query.sql,
      WorkGroup: this.options.workGroup,
      QueryExecutionContext: {
        Database: this.options.database,
        ...(this.options.catalog === undefined ? {} : { Catalog: this.options.catalog }),
      },
      ...(query.values.length === 0
        ? {}
        : { ExecutionParameters: query.values.map((value) => sqlStringLiteral(String(value))) }),
      ClientRequestToken: token,
    };
  }

  private async execution(previewId: string): Promise<QueryExecution> {
    const out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: previewId }));
    if (out.QueryExecution === undefined)
      throw new Error(`GetQueryExecution returned nothing for ${previewId}`);
    return out.QueryExecution;
  }

  /** The outcome of an execution in any state; reads the rows of one that succeeded. */
  private async outcome(previewId: string, execution: QueryExecution): Promise<PreviewOutcome> {
    const status = execution.Status;
    switch (status?.State) {
      case 'SUCCEEDED': {
        const results = await this.client.send(
          // The header row, then at most PREVIEW_SAMPLE_SIZE rows (one when there are no members).
          new GetQueryResultsCommand({ QueryExecutionId: previewId, MaxResults: PREVIEW_SAMPLE_SIZE + 1 }),
        );
        const rows = previewRows(results);
        if (typeof rows === 'string') return { status: 'FAILED', previewId, error: rows };
        const statistics = execution.Statistics;
        return {
          status: 'SUCCEEDED',
          previewId,
          ...rows,
          ...(statistics?.DataScannedInBytes === undefined
            ? {}
            : { bytesScanned: statistics.DataScannedInBytes }),
          elapsedMs: elapsedMs(execution),
        };
      }
      case 'FAILED':
      case 'CANCELLED':
        return {
          status: 'FAILED',
          previewId,
          error:
            status.StateChangeReason ??
            status.AthenaError?.ErrorMessage ??
            (status.State === 'CANCELLED' ? 'the query was cancelled' : 'the query failed'),
        };
      default:
        return { status: 'RUNNING', previewId };
    }
  }
}

/** Athena's query execution ids are UUIDs; anything far from that shape is not worth a call. */
const QUERY_EXECUTION_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * The count and sample of a preview's result page (`member_count`, `profile_id`; the first row is the
 * header; a NULL cell has no `VarCharValue`), or what is wrong with it.
 */
function previewRows(results: GetQueryResultsOutput): { count: number; sample: string[] } | string {
  const names = (results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((column) => column.Name);
  const countAt = names.indexOf('member_count');
  const idAt = names.indexOf('profile_id');
  if (countAt < 0 || idAt < 0) {
    return `unexpected preview result: columns ${JSON.stringify(names)}, not member_count and profile_id`;
  }
  const rows = (results.ResultSet?.Rows ?? []).map((row) =>
    (row.Data ?? []).map((cell) => cell.VarCharValue),
  );
  const first = rows[0];
  const data = first !== undefined && names.every((name, i) => first[i] === name) ? rows.slice(1) : rows;
  const countText = data[0]?.[countAt];
  const count = countText === undefined ? Number.NaN : Number(countText);
  if (!Number.isSafeInteger(count) || count < 0) {
    return `unexpected preview result: member_count ${JSON.stringify(countText ?? null)}`;
  }
  const sample = data
    .map((row) => row[idAt])
    .filter((id): id is string => id !== undefined)
    .slice(0, PREVIEW_SAMPLE_SIZE);
  return { count, sample };
}

function elapsedMs(execution: QueryExecution): number {
  const total = execution.Statistics?.TotalExecutionTimeInMillis;
  if (total !== undefined) return total;
  const engine = execution.Statistics?.EngineExecutionTimeInMillis;
  if (engine !== undefined) return engine;
  const { SubmissionDateTime: submitted, CompletionDateTime: completed } = execution.Status ?? {};
  return submitted && completed ? Math.max(0, completed.getTime() - submitted.getTime()) : 0;
}

/** Error names of AWS calls that a later retry may get through (throttling, server faults, timeouts). */
const TRANSIENT_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'ThrottledException',
  'Throttling',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error of an AWS SDK call is one a later retry may get through: throttling, a server
 * fault, a timeout or a network failure. (The SDK has already retried it under its own policy.)
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { $fault?: string; $retryable?: unknown; code?: unknown };
  return (
    TRANSIENT_NAMES.has(e.name) ||
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    (typeof e.code === 'string' && NETWORK_CODES.has(e.code))
  );
}

/** A transient AWS failure as a retryable {@link ServiceUnavailableError}; any other error as it is. */
export function asServiceUnavailable(error: unknown, call: string): unknown {
  if (error instanceof ServiceUnavailableError || !isTransientAwsError(error)) return error;
  return new ServiceUnavailableError(`${call} failed: ${messageOf(error)}`, { cause: error });
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
