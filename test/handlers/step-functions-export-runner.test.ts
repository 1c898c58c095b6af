import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExportWorkflowInput } from '../../src/adapters/aws/export-workflow-input';
import { parseS3Uri } from '../../src/adapters/aws/s3-uri';
import {
  buildExportWorkflowInput,
  MAX_WORKFLOW_INPUT_BYTES,
  StepFunctionsExportRunner,
} from '../../src/adapters/aws/step-functions-export-runner';
import { BadRequestError, ConfigError, ConflictError, ServiceUnavailableError } from '../../src/core/errors';
import {
  athenaExecutionParameters,
  bindParams,
  type CompiledQuery,
  compileSegment,
  type ExportPlan,
  exportFolder,
  planExport,
} from '../../src/core/segments';
import type { ExportFormat } from '../../src/core/segments/views';
import type { BoundQuery, ExportJob } from '../../src/ports/audience-engine';

const sfn = mockClient(SFNClient);
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:mosaic-audience-export';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:mosaic-audience-export:x0000000002';
const BUCKET = 'mosaic-exports-123456789012';
const ROOT = `s3://${BUCKET}/exports`;
const SEGMENT = 'pro-buyers';
const EXPORT = 'x0000000002';
const PREVIOUS = 'x0000000001';
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const LOCATION = `${ROOT}/segment_id=${SEGMENT}/export_id=${EXPORT}`;
const PARQUET_SNAPPY = "WITH (format = 'PARQUET', compression = 'SNAPPY')";

beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date(NOW) });
});

function runner(root = ROOT) {
  return new StepFunctionsExportRunner({
    client: new SFNClient({ region: 'eu-west-1' }),
    stateMachineArn: STATE_MACHINE,
    root,
  });
}

/** The export plan of a real segment, compiled for Athena over the Glue tables, as the use case makes it. */
async function plan(previousExportId?: string): Promise<ExportPlan> {
  const ast = await compileSegment({
    all: [
      { trait: { name: 'plan', op: 'eq', value: "pro's" } },
      { event: { name: 'Order Completed', count: { op: 'gte', value: 2 }, within: { last: { days: 30 } } } },
    ],
  });
  return planExport(
    ast,
    'athena',
    {
      segmentId: SEGMENT,
      exportId: EXPORT,
      ...(previousExportId === undefined ? {} : { previousExportId }),
      identifiers: ['email'],
      traits: ['plan'],
    },
    {
      tables: {
        events: { database: 'mosaic_lake', table: 'events' },
        identityLinks: { database: 'mosaic_lake', table: 'identity_links' },
      },
      exportMembers: { database: 'mosaic_lake', table: 'export_members' },
    },
  );
}

const bound = (query: CompiledQuery): BoundQuery => ({
  sql: query.sql,
  values: bindParams(query.params, { now: NOW }),
});
const literals = (query: CompiledQuery) => athenaExecutionParameters(query.params, { now: NOW });

function jobOf(
  exportPlan: ExportPlan,
  format: ExportFormat,
  extra: { destination?: string; previousExportId?: string } = {},
): ExportJob {
  return {
    exportId: EXPORT,
    segmentId: SEGMENT,
    segmentVersion: 3,
    format,
    ...extra,
    location: exportFolder(ROOT, SEGMENT, EXPORT),
    queries: {
      members: bound(exportPlan.members),
      audience: bound(exportPlan.audience),
      changes: bound(exportPlan.changes),
      counts: bound(exportPlan.counts),
    },
  };
}

function sentInput(n = 0): ExportWorkflowInput {
  const input = sfn.commandCalls(StartExecutionCommand)[n]?.args[0].input.input;
  if (input === undefined) throw new Error(`no StartExecution ${n}`);
  return JSON.parse(input) as ExportWorkflowInput;
}

describe('StepFunctionsExportRunner.start', () => {
  it('starts one execution named after the export, on the state machine, with the workflow input as JSON', async () => {
    const exportPlan = await plan(PREVIOUS);
    const job = jobOf(exportPlan, 'parquet', { destination: 'crm-webhook', previousExportId: PREVIOUS });

    await runner().start(job);

    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const { input, ...rest } = calls[0]?.args[0].input ?? {};
    expect(rest).toEqual({ stateMachineArn: STATE_MACHINE, name: EXPORT });
    expect(input).toBe(JSON.stringify(buildExportWorkflowInput(job, ROOT)));
  });

  it('parquet: members, audience and changes UNLOAD into their folders; counts stay a SELECT; every value a literal', async () => {
    const exportPlan = await plan(PREVIOUS);
    await runner().start(
      jobOf(exportPlan, 'parquet', { destination: 'crm-webhook', previousExportId: PREVIOUS }),
    );

    const unload = (query: CompiledQuery, folder: string) =>
      `UNLOAD (\n${query.sql}\n) TO '${LOCATION}/${folder}/' ${PARQUET_SNAPPY}`;
    expect(sentInput()).toEqual({
      exportId: EXPORT,
      segmentId: SEGMENT,
      segmentVersion: 3,
      format: 'parquet',
      destination: 'crm-webhook',
      previousExportId: PREVIOUS,
      location: LOCATION,
      membersLocation: `${LOCATION}/members/`,
      audienceLocation: `${LOCATION}/audience/`,
      changesLocation: `${LOCATION}/changes/`,
      audienceCsv: {
        bucket: BUCKET,
        key: `exports/segment_id=${SEGMENT}/export_id=${EXPORT}/audience/audience.csv`,
      },
      queries: {
        members: { sql: unload(exportPlan.members, 'members'), parameters: literals(exportPlan.members) },
        audience: {
          sql: unload(exportPlan.audience, 'audience'),
          parameters: ["'pro-buyers'", `'${EXPORT}'`],
        },
        changes: {
          sql: unload(exportPlan.changes, 'changes'),
          parameters: ["'pro-buyers'", `'${EXPORT}'`, "'pro-buyers'", `'${PREVIOUS}'`],
        },
        counts: {
          sql: exportPlan.counts.sql,
          parameters: ["'pro-buyers'", `'${EXPORT}'`, "'pro-buyers'", `'${PREVIOUS}'`],
        },
      },
    });
    const { members } = sentInput().queries;
    expect(members.sql).toMatch(/^UNLOAD \(\nWITH links AS \(/);
    expect(members.sql).toContain('FROM "mosaic_lake"."events" e');
    expect(members.sql.endsWith(`) TO '${LOCATION}/members/' ${PARQUET_SNAPPY}`)).toBe(true);
    // The definition's quote is doubled inside its literal; times are bound at the job's now.
    expect(members.parameters).toEqual([
      "'Order Completed'",
      "'2026-10-23'",
      "'2026-10-23 12:00:00.000'",
      "'2026-11-22 12:00:00.000'",
      "'pro''s'",
      "'2'",
      "'email'",
    ]);
    expect(members.parameters).toHaveLength(bound(exportPlan.members).values.length);
  });

  it('csv: the audience is the plain SELECT (the workflow copies its result CSV); absent destination and previous export are absent keys', async () => {
    const exportPlan = await plan();
    await runner().start(jobOf(exportPlan, 'csv'));

    // Absent keys, not keys holding undefined, in the object the CDK tests may use too.
    const built = buildExportWorkflowInput(jobOf(exportPlan, 'csv'), ROOT);
    expect(Object.keys(built)).not.toContain('destination');
    expect(Object.keys(built)).not.toContain('previousExportId');
    const input = sentInput();
    expect(input.format).toBe('csv');
    expect(input).not.toHaveProperty('destination');
    expect(input).not.toHaveProperty('previousExportId');
    expect(input.queries.audience).toEqual({
      sql: exportPlan.audience.sql,
      parameters: ["'pro-buyers'", `'${EXPORT}'`],
    });
    expect(input.queries.audience.sql).toMatch(/^SELECT profile_id, c0 AS "email", c1 AS "plan"\n/);
    expect(input.queries.members.sql.startsWith('UNLOAD (\n')).toBe(true);
    expect(input.queries.changes.sql.endsWith(`TO '${LOCATION}/changes/' ${PARQUET_SNAPPY}`)).toBe(true);
    // A first export compares with the empty export id, which matches no partition.
    expect(input.queries.changes.parameters).toEqual(["'pro-buyers'", `'${EXPORT}'`, "'pro-buyers'", "''"]);
    expect(input.audienceCsv).toEqual({
      bucket: BUCKET,
      key: `exports/segment_id=${SEGMENT}/export_id=${EXPORT}/audience/audience.csv`,
    });
  });

  it('a root given with a trailing slash is the same root', async () => {
    const exportPlan = await plan();
    const withSlash = runner(`${ROOT}/`);
    expect(withSlash.root).toBe(ROOT);
    await withSlash.start(jobOf(exportPlan, 'csv'));
    expect(sentInput().location).toBe(LOCATION);
  });

  it('refuses a job whose location is not its export folder under the root, before any call', async () => {
    const exportPlan = await plan();
    const job = { ...jobOf(exportPlan, 'parquet'), location: `s3://${BUCKET}/elsewhere` };
    await expect(runner().start(job)).rejects.toThrow(RangeError);
    expect(() => buildExportWorkflowInput(jobOf(exportPlan, 'csv'), 's3://other-bucket/exports')).toThrow(
      /not its folder/,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('StepFunctionsExportRunner.start again (idempotent)', () => {
  const alreadyExists = () =>
    new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EXECUTION}'`, $metadata: {} });

  it('an execution of that name with the same input is the run already started: start succeeds', async () => {
    const job = jobOf(await plan(), 'parquet');
    const input = buildExportWorkflowInput(job, ROOT);
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    // Step Functions may give the input back formatted differently; the same JSON is the same input.
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      stateMachineArn: STATE_MACHINE,
      status: 'SUCCEEDED',
      startDate: new Date(NOW),
      input: JSON.stringify(input, null, 2),
    });

    await expect(runner().start(job)).resolves.toBeUndefined();
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { executionArn: EXECUTION },
    ]);
  });

  it('with another input the export id was used for another job: ConflictError', async () => {
    const job = jobOf(await plan(), 'parquet');
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      stateMachineArn: STATE_MACHINE,
      status: 'RUNNING',
      startDate: new Date(NOW),
      input: JSON.stringify({ ...buildExportWorkflowInput(job, ROOT), format: 'csv' }),
    });

    const error = await runner()
      .start(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'export_exists', statusCode: 409 });
  });

  it('a throttled DescribeExecution is retryable', async () => {
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
        message: 'Rate exceeded',
      }),
    );
    await expect(runner().start(jobOf(await plan(), 'csv'))).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('StepFunctionsExportRunner input size', () => {
  /** A job whose members query carries one more value, of `padding`. */
  async function paddedJob(padding: string): Promise<ExportJob> {
    const job = jobOf(await plan(), 'parquet');
    const members = job.queries.members;
    return {
      ...job,
      queries: { ...job.queries, members: { ...members, values: [...members.values, padding] } },
    };
  }
  const bytesOf = (job: ExportJob) => Buffer.byteLength(JSON.stringify(buildExportWorkflowInput(job, ROOT)));

  it('an input of exactly 256 KiB starts', async () => {
    const base = bytesOf(await paddedJob(''));
    const job = await paddedJob('a'.repeat(MAX_WORKFLOW_INPUT_BYTES - base));
    expect(bytesOf(job)).toBe(MAX_WORKFLOW_INPUT_BYTES);
    await runner().start(job);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('one byte more is refused before any call, with a clear BadRequestError', async () => {
    const base = bytesOf(await paddedJob(''));
    const job = await paddedJob('a'.repeat(MAX_WORKFLOW_INPUT_BYTES - base + 1));
    const error = await runner()
      .start(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ code: 'export_too_large', statusCode: 400 });
    expect((error as Error).message).toBe(
      `export ${EXPORT} is too large to run: its workflow input is ${MAX_WORKFLOW_INPUT_BYTES + 1} bytes, over Step Functions' 262144-byte limit (a simpler segment or fewer columns would fit)`,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const base = bytesOf(await paddedJob(''));
    // Fewer characters than the limit leaves, but two bytes each.
    const job = await paddedJob('é'.repeat(Math.ceil((MAX_WORKFLOW_INPUT_BYTES - base) / 2) + 1));
    await expect(runner().start(job)).rejects.toBeInstanceOf(BadRequestError);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('StepFunctionsExportRunner failures and configuration', () => {
  it('StartExecution throttled past the SDK retries: a retryable ServiceUnavailableError', async () => {
    const throttled = new SFNServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: {},
      message: 'Rate exceeded',
    });
    sfn.on(StartExecutionCommand).rejects(throttled);
    const error = await runner()
      .start(jobOf(await plan(), 'csv'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).cause).toBe(throttled);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('a missing state machine is not retryable: the SDK error as it is', async () => {
    const missing = new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} });
    sfn.on(StartExecutionCommand).rejects(missing);
    await expect(runner().start(jobOf(await plan(), 'csv'))).rejects.toBe(missing);
  });

  it('the runner is for Athena, under its root; a bad ARN or root fails at construction', () => {
    const client = new SFNClient({ region: 'eu-west-1' });
    expect(runner()).toMatchObject({ dialect: 'athena', root: ROOT });
    expect(() => new StepFunctionsExportRunner({ client, stateMachineArn: 'mosaic', root: ROOT })).toThrow(
      ConfigError,
    );
    for (const root of ['/tmp/exports', `s3://${BUCKET}`, `s3://${BUCKET}/`, 'https://example.com/x']) {
      expect(() => new StepFunctionsExportRunner({ client, stateMachineArn: STATE_MACHINE, root })).toThrow(
        ConfigError,
      );
    }
  });
});

describe('parseS3Uri', () => {
  it('splits bucket and key', () => {
    expect(parseS3Uri('s3://my-bucket/a/b=c/file.csv')).toEqual({
      bucket: 'my-bucket',
      key: 'a/b=c/file.csv',
    });
    expect(parseS3Uri('s3://my.bucket/folder/')).toEqual({ bucket: 'my.bucket', key: 'folder/' });
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', key: '' });
  });

  it('refuses what is not an s3:// URI of a valid bucket', () => {
    for (const uri of [
      'my-bucket/key',
      's3://',
      's3://UPPER/key',
      'S3://b/k',
      'https://b.s3.amazonaws.com/k',
    ]) {
      expect(() => parseS3Uri(uri)).toThrow(RangeError);
    }
  });
});
