import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { memberColumnNames, memberOf, memberPages } from '../../core/activation/export-members';
import type { MemberRecord } from '../../core/activation/pii';
import { ServiceUnavailableError } from '../../core/errors';
import { EXPORT_ID } from '../../core/segments/export-plan';
import { SEGMENT_ID } from '../../core/segments/names';
import { sqlStringLiteral } from '../../core/segments/params';
import type { AudienceReader, AudienceSource } from '../../ports/audience-reader';
import { type Clock, realSleep, type Sleep, systemClock } from '../../ports/clock';
import {
  asServiceUnavailable,
  DEFAULT_POLL_INTERVAL_MS,
  isTransientAwsError,
  MAX_POLL_INTERVAL_MS,
} from './athena-audience-engine';

export interface AthenaAudienceReaderOptions {
  readonly client: AthenaClient;
  /** The workgroup the query runs in (its result location and bytes-scanned cutoff). */
  readonly workGroup: string;
  /** The Glue database of `export_members`. */
  readonly database: string;
  /** Default `export_members`. */
  readonly table?: string;
  readonly catalog?: string;
  /** The first wait between status checks; it doubles up to 2 s (the audience engine's polling). */
  readonly pollIntervalMs?: number;
  /** The longest wait for the query to finish. Default 4 minutes (within a 5-minute function). */
  readonly maxWaitMs?: number;
  /** How long a finished query's results are reused by later reads of the same export. Default 30 min. */
  readonly reuseMs?: number;
  readonly sleep?: Sleep;
  readonly clock?: Clock;
}

/** Rows per `GetQueryResults` page: Athena's most. */
export const RESULT_PAGE_ROWS = 1000;

const TABLE_PART = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MEMBERS_FOLDER = /\/segment_id=([^/]+)\/export_id=([^/]+)\/members\/?$/;

/**
 * The {@link AudienceReader} on Athena: one query per export over the Glue table `export_members`
 * (partitions `segment_id`, `export_id`; columns `profile_id`, `c0`..), its partition values bound as
 * `ExecutionParameters` (never in the SQL text), one row per profile (`GROUP BY profile_id`, a stray
 * duplicate is not sent twice), `ORDER BY profile_id`, and the member count as a window column of every
 * row — so `count` and `pages` share ONE execution: `count` reads the first row, `pages` pages through
 * the results with `GetQueryResults` (1,000 rows a call, `NextToken`) and cuts them into pages.
 *
 * Why `GetQueryResults` rather than reading the result CSV from S3: it needs no read grant on the
 * workgroup's result bucket nor a CSV parser, gives typed NULLs (a missing value is no `VarCharValue`,
 * not an empty string — the CSV cannot tell them apart), and pages are bounded in memory. The cost —
 * one call per 1,000 members — is small beside the delivery calls a batch makes anyway.
 *
 * The export's ids come from its members folder (`.../segment_id=S/export_id=E/members/`, as
 * `exportFolder` lays it out). A finished query is reused for the same export for `reuseMs` (a
 * delivery continued in the same function instance does not run it again). Polling is the audience
 * engine's (500 ms doubling to 2 s); a query that fails, or runs past `maxWaitMs`, rejects — retryable
 * when Athena was only throttling or slow, so the delivery is retried from its queue.
 */
export class AthenaAudienceReader implements AudienceReader {
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly maxWaitMs: number;
  private readonly reuseMs: number;
  private readonly sleep: Sleep;
  private readonly clock: Clock;
  private readonly executions = new Map<string, { readonly id: Promise<string>; readonly at: number }>();

  constructor(private readonly options: AthenaAudienceReaderOptions) {
    for (const part of [options.database, options.table ?? 'export_members']) {
      if (!TABLE_PART.test(part)) throw new RangeError(`bad table name ${part}`);
    }
    this.table = `"${options.database}"."${options.table ?? 'export_members'}"`;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.maxWaitMs = options.maxWaitMs ?? 4 * 60 * 1000;
    this.reuseMs = options.reuseMs ?? 30 * 60 * 1000;
    this.sleep = options.sleep ?? realSleep;
    this.clock = options.clock ?? systemClock;
  }

  /** The members query of an export with `columns` member columns, and its parameters. */
  membersQuery(source: AudienceSource): { sql: string; parameters: string[] } {
    const { segmentId, exportId } = exportOf(source);
    const columns = memberColumnNames(source).map((_, i) => `c${i}`);
    const sql =
      `SELECT profile_id${columns.map((c) => `, arbitrary(${c}) AS ${c}`).join('')}, count(*) OVER () AS member_count\n` +
      `FROM ${this.table}\n` +
      'WHERE segment_id = ? AND export_id = ? AND profile_id IS NOT NULL\n' +
      'GROUP BY profile_id\nORDER BY profile_id';
    return { sql, parameters: [sqlStringLiteral(segmentId), sqlStringLiteral(exportId)] };
  }

  async count(source: AudienceSource): Promise<number> {
    const id = await this.execution(source);
    const first = await this.results(id, undefined, 2);
    const rows = dataRows(first, true);
    const countAt = columnIndex(first, 'member_count');
    const text = rows[0]?.[countAt];
    if (text === undefined) return 0;
    const count = Number(text);
    if (!Number.isSafeInteger(count) || count < 0) throw new Error('the members query gave no member count');
    return count;
  }

  async *pages(source: AudienceSource, pageSize: number): AsyncIterable<readonly MemberRecord[]> {
    const id = await this.execution(source);
    const results = (token: string | undefined) => this.results(id, token, RESULT_PAGE_ROWS);
    async function* members() {
      let token: string | undefined;
      let first = true;
      do {
        const page = await results(token);
        for (const row of dataRows(page, first)) {
          const profileId = row[0];
          if (profileId !== undefined) yield memberOf(profileId, row.slice(1), source);
        }
        first = false;
        token = page.NextToken;
      } while (token !== undefined);
    }
    yield* memberPages(members(), pageSize);
  }

  /** The finished execution of an export's members query: reused while fresh, else started and polled. */
  private execution(source: AudienceSource): Promise<string> {
    const key = JSON.stringify([exportOf(source), memberColumnNames(source).length]);
    const now = this.clock.now();
    const cached = this.executions.get(key);
    if (cached !== undefined && now - cached.at < this.reuseMs) return cached.id;
    for (const [k, v] of this.executions) if (now - v.at >= this.reuseMs) this.executions.delete(k);
    const id = this.run(source);
    this.executions.set(key, { id, at: now });
    id.catch(() => {
      if (this.executions.get(key)?.id === id) this.executions.delete(key);
    });
    return id;
  }

  private async run(source: AudienceSource): Promise<string> {
    const query = this.membersQuery(source);
    const { client } = this.options;
    const options = this.options;
    let id: string;
    try {
      const started = await client.send(
        new StartQueryExecutionCommand({
          QueryString: query.sql,
          ExecutionParameters: query.parameters,
          WorkGroup: options.workGroup,
          QueryExecutionContext: {
            Database: options.database,
            ...(options.catalog === undefined ? {} : { Catalog: options.catalog }),
          },
        }),
      );
      if (started.QueryExecutionId === undefined) throw new Error('StartQueryExecution returned no id');
      id = started.QueryExecutionId;
    } catch (error) {
      throw asServiceUnavailable(error, 'Athena StartQueryExecution');
    }
    const deadline = this.clock.now() + this.maxWaitMs;
    let delay = this.pollIntervalMs;
    for (;;) {
      await this.sleep(delay);
      let state: string | undefined;
      let reason: string | undefined;
      try {
        const out = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        state = out.QueryExecution?.Status?.State;
        reason = out.QueryExecution?.Status?.AthenaError?.ErrorMessage;
      } catch (error) {
        if (!isTransientAwsError(error)) throw error;
        // A status check that failed for now: the query runs on; ask again.
      }
      if (state === 'SUCCEEDED') return id;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new Error(
          `the export members query ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${reason ?? 'no reason given'}`,
        );
      }
      if (this.clock.now() >= deadline) {
        throw new ServiceUnavailableError(`the export members query ${id} is still running`);
      }
      delay = Math.min(delay * 2, Math.max(MAX_POLL_INTERVAL_MS, this.pollIntervalMs));
    }
  }

  private async results(id: string, token: string | undefined, max: number): Promise<GetQueryResultsOutput> {
    try {
      return await this.options.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: max,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
    } catch (error) {
      throw asServiceUnavailable(error, 'Athena GetQueryResults');
    }
  }
}

/** The export's segment and export ids, from its members folder. */
function exportOf(source: AudienceSource): { segmentId: string; exportId: string } {
  const match = MEMBERS_FOLDER.exec(source.membersLocation);
  const segmentId = match?.[1];
  const exportId = match?.[2];
  if (
    segmentId === undefined ||
    exportId === undefined ||
    !SEGMENT_ID.test(segmentId) ||
    !EXPORT_ID.test(exportId)
  ) {
    throw new RangeError('not the members folder of an export (…/segment_id=S/export_id=E/members/)');
  }
  return { segmentId, exportId };
}

function columnIndex(results: GetQueryResultsOutput, name: string): number {
  const names = (results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name);
  const at = names.indexOf(name);
  if (at < 0) throw new Error(`the members query result has no ${name} column`);
  return at;
}

/** The rows of a result page as cell texts (`undefined` for NULL), without the header row of the first page. */
function dataRows(results: GetQueryResultsOutput, firstPage: boolean): (string | undefined)[][] {
  const rows = (results.ResultSet?.Rows ?? []).map((row) =>
    (row.Data ?? []).map((cell) => cell.VarCharValue),
  );
  const names = (results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name);
  const head = rows[0];
  if (firstPage && head !== undefined && names.length > 0 && names.every((name, i) => head[i] === name)) {
    return rows.slice(1);
  }
  return rows;
}
