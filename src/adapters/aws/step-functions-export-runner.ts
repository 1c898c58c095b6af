import { isDeepStrictEqual } from 'node:util';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BadRequestError, ConfigError, ConflictError } from '../../core/errors';
import { athenaUnload, exportFolder } from '../../core/segments/export-plan';
import { sqlStringLiteral } from '../../core/segments/params';
import type { BoundQuery, ExportJob, ExportRunner } from '../../ports/audience-engine';
import { asServiceUnavailable } from './athena-audience-engine';
import type { AthenaStatement, ExportWorkflowInput } from './export-workflow-input';
import { parseS3Uri } from './s3-uri';

export interface StepFunctionsExportRunnerOptions {
  readonly client: SFNClient;
  /** The audience export state machine (a Standard workflow: `.sync` tasks, idempotent names). */
  readonly stateMachineArn: string;
  /** Where export folders go: `s3://bucket/exports` (a trailing `/` is ignored). */
  readonly root: string;
}

/** Step Functions' limit on an execution's input: 256 KiB of UTF-8. */
export const MAX_WORKFLOW_INPUT_BYTES = 262_144;

const STATE_MACHINE_ARN = /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/**
 * {@link ExportRunner} on the audience export state machine: `start` builds the workflow's input
 * ({@link buildExportWorkflowInput}) and starts an execution named after the export id.
 *
 * A start is idempotent: an execution's name is unique per state machine, so starting the same export
 * again — a retried request, a redelivered event — meets Step Functions' `ExecutionAlreadyExists` (or,
 * while it runs, its own idempotent answer). The runner then reads the existing execution
 * (`DescribeExecution`, which the caller's role needs on the state machine's executions): with the same
 * input it is the run already started, so `start` succeeds; with another input it rejects with
 * `ConflictError` (the export id was used for another job).
 *
 * An input over Step Functions' 256 KiB rejects with `BadRequestError` (`export_too_large`) before any
 * call. Throttling, server and network failures after the SDK's retries reject with a retryable
 * `ServiceUnavailableError`; other SDK errors (a missing state machine, access denied) as they are.
 */
export class StepFunctionsExportRunner implements ExportRunner {
  readonly dialect = 'athena' as const;
  readonly root: string;
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;

  constructor(options: StepFunctionsExportRunnerOptions) {
    if (!STATE_MACHINE_ARN.test(options.stateMachineArn)) {
      throw new ConfigError(`not a state machine ARN: ${JSON.stringify(options.stateMachineArn)}`);
    }
    const root = options.root.replace(/\/+$/, '');
    try {
      if (parseS3Uri(root).key === '') throw new RangeError('no prefix');
    } catch {
      throw new ConfigError(
        `the exports root must be s3://bucket/prefix, not ${JSON.stringify(options.root)}`,
      );
    }
    this.client = options.client;
    this.stateMachineArn = options.stateMachineArn;
    this.root = root;
  }

  async start(job: ExportJob): Promise<void> {
    const input = JSON.stringify(buildExportWorkflowInput(job, this.root));
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > MAX_WORKFLOW_INPUT_BYTES) {
      throw new BadRequestError(
        `export ${job.exportId} is too large to run: its workflow input is ${bytes} bytes, over Step ` +
          `Functions' ${MAX_WORKFLOW_INPUT_BYTES}-byte limit (a simpler segment or fewer columns would fit)`,
        { code: 'export_too_large' },
      );
    }
    try {
      await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: job.exportId, input }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ExecutionAlreadyExists')) {
        throw asServiceUnavailable(error, 'Step Functions StartExecution');
      }
      await this.checkSameRun(job.exportId, input);
    }
  }

  /** Resolves when the execution named `exportId` was started with `input`; a `ConflictError` otherwise. */
  private async checkSameRun(exportId: string, input: string): Promise<void> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${exportId}`;
    let existing: string | undefined;
    try {
      existing = (await this.client.send(new DescribeExecutionCommand({ executionArn }))).input;
    } catch (error) {
      throw asServiceUnavailable(error, 'Step Functions DescribeExecution');
    }
    if (existing === undefined || !isDeepStrictEqual(parseJson(existing), JSON.parse(input))) {
      throw new ConflictError(`export ${exportId} was already started with another input`, {
        code: 'export_exists',
      });
    }
  }
}

/**
 * The export workflow's input for a job whose queries are compiled for Athena (see
 * {@link ExportWorkflowInput}): `members` and `changes` as `UNLOAD`s into `{location}/members/` and
 * `{location}/changes/`; `audience` as an `UNLOAD` into `{location}/audience/` for Parquet and the
 * plain SELECT for CSV (the workflow copies its result file to `audienceCsv`); `counts` as it is. Every
 * bound value is a SQL string literal (`athenaExecutionParameters`). The job's location must be its
 * export folder under `root` (`exportFolder`), so the UNLOADs can only write there.
 */
export function buildExportWorkflowInput(job: ExportJob, root: string): ExportWorkflowInput {
  const location = exportFolder(root, job.segmentId, job.exportId);
  if (job.location !== location) {
    throw new RangeError(`export ${job.exportId} has location ${job.location}, not its folder ${location}`);
  }
  const membersLocation = `${location}/members/`;
  const audienceLocation = `${location}/audience/`;
  const changesLocation = `${location}/changes/`;
  const { queries } = job;
  return {
    exportId: job.exportId,
    segmentId: job.segmentId,
    segmentVersion: job.segmentVersion,
    format: job.format,
    ...(job.destination === undefined ? {} : { destination: job.destination }),
    ...(job.previousExportId === undefined ? {} : { previousExportId: job.previousExportId }),
    location,
    membersLocation,
    audienceLocation,
    changesLocation,
    audienceCsv: parseS3Uri(`${audienceLocation}audience.csv`),
    queries: {
      members: statement(queries.members, membersLocation),
      audience: statement(queries.audience, job.format === 'parquet' ? audienceLocation : undefined),
      changes: statement(queries.changes, changesLocation),
      counts: statement(queries.counts, undefined),
    },
  };
}

/** A bound query as Athena SQL and `ExecutionParameters`, unloaded into `folder` when one is given. */
function statement(query: BoundQuery, folder: string | undefined): AthenaStatement {
  return {
    sql: folder === undefined ? query.sql : athenaUnload(query.sql, folder),
    parameters: query.values.map((value) => sqlStringLiteral(String(value))),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
