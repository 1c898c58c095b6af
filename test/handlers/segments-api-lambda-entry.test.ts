import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AttributeMap, fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import type { ExportWorkflowInput } from '../../src/adapters/aws/export-workflow-input';
import { ConfigError } from '../../src/core/errors';
import { apiGatewayEvent, lambdaContext } from '../support/api-gateway-event';

const TABLE = 'mosaic-segments-entry';
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:mosaic-audience-export';

// Mocked before the entry module is imported, so the clients it creates at cold start are mocked.
const dynamo = mockClient(DynamoDBClient);
const athena = mockClient(AthenaClient);
const sfn = mockClient(SFNClient);

type Entry = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

async function coldStart(): Promise<Entry> {
  vi.resetModules();
  return (await import('../../functions/segments-api/index')).handler as unknown as Entry;
}

function request(method: string, path: string, body?: unknown): APIGatewayProxyEventV2 {
  const event = apiGatewayEvent({ method, path, ...(body === undefined ? {} : { body }) });
  if (body === undefined) delete event.body;
  (event.requestContext as unknown as { authorizer: unknown }).authorizer = { lambda: { adminKey: 'ops' } };
  return event;
}

/** The segment item as the DynamoDB adapter lays it out (segment-table.ts). */
const PRO_ITEM = {
  pk: 'SEGMENT',
  sk: 'S#pro',
  id: 'pro',
  name: 'Pro',
  definition: JSON.stringify({ trait: { name: 'plan', op: 'eq', value: 'pro' } }),
  version: 3,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  lastExport: { exportId: 'x0000000010000000000000', completedAt: '2026-11-02T00:00:00.000Z', count: 4 },
};

beforeEach(() => {
  dynamo.reset();
  athena.reset();
  sfn.reset();
  dynamo.on(GetItemCommand).callsFake((input: { Key: AttributeMap }) => {
    const key = fromAttributes(input.Key);
    return key.pk === 'SEGMENT' && key.sk === 'S#pro' ? { Item: toAttributes(PRO_ITEM) } : {};
  });
  dynamo.on(PutItemCommand).resolves({});
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('SEGMENTS_TABLE_NAME', TABLE);
  vi.stubEnv('ATHENA_WORKGROUP', 'mosaic-segments');
  vi.stubEnv('GLUE_DATABASE', 'mosaic_lake');
  vi.stubEnv('EXPORTS_ROOT', 's3://mosaic-exports-bucket/exports');
  vi.stubEnv('EXPORT_STATE_MACHINE_ARN', STATE_MACHINE);
  vi.stubEnv('PREVIEW_WAIT_MS', '0');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('Segments API Lambda entry (functions/segments-api/index.ts)', () => {
  it('previews in the Athena workgroup over the Glue tables and answers 202 when the wait is over', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-1' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        QueryExecutionId: 'qe-1',
        WorkGroup: 'mosaic-segments',
        Status: { State: 'RUNNING' },
      },
    });
    const handler = await coldStart();
    const result = await handler(request('POST', '/v1/segments/pro/preview'), lambdaContext());
    expect(result.statusCode).toBe(202);
    expect(result.headers?.location).toBe('/v1/previews/qe-1');
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.WorkGroup).toBe('mosaic-segments');
    expect(start?.QueryString).toContain('"mosaic_lake"."events"');
    expect(start?.QueryString).toContain('"mosaic_lake"."identity_links"');
    expect(start?.ExecutionParameters).toEqual(["'pro'"]);
    // The running preview is kept in the segments table to be polled.
    const kept = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(kept?.TableName).toBe(TABLE);
    expect(fromAttributes(kept?.Item ?? {})).toMatchObject({ pk: 'V#qe-1', segmentId: 'pro' });
  });

  it('starts the export state machine with the workflow input, comparing with the last export', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:x`, startDate: new Date() });
    const handler = await coldStart();
    const result = await handler(
      request('POST', '/v1/segments/pro/exports', {
        format: 'parquet',
        identifiers: ['email'],
        traits: ['plan'],
      }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(202);
    const view = JSON.parse(result.body ?? '') as {
      exportId: string;
      previousExportId: string;
      segmentVersion: number;
    };
    expect(view).toMatchObject({ previousExportId: 'x0000000010000000000000', segmentVersion: 3 });
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(STATE_MACHINE);
    expect(start?.name).toBe(view.exportId);
    const input = JSON.parse(start?.input ?? '{}') as ExportWorkflowInput;
    const folder = `s3://mosaic-exports-bucket/exports/segment_id=pro/export_id=${view.exportId}`;
    expect(input).toMatchObject({
      exportId: view.exportId,
      segmentId: 'pro',
      segmentVersion: 3,
      format: 'parquet',
      previousExportId: 'x0000000010000000000000',
      location: folder,
      membersLocation: `${folder}/members/`,
    });
    expect(input.queries.members.sql).toMatch(/^UNLOAD \(/);
    expect(input.queries.members.sql).toContain(`TO '${folder}/members/'`);
    expect(input.queries.counts.sql).toContain('"mosaic_lake"."export_members"');
    expect(input.queries.counts.parameters).toEqual([
      "'pro'",
      `'${view.exportId}'`,
      "'pro'",
      "'x0000000010000000000000'",
    ]);
    // The export item was written RUNNING before the workflow started.
    expect(fromAttributes(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {})).toMatchObject({
      pk: `X#${view.exportId}`,
      status: 'RUNNING',
    });
  });

  it('an export naming a configured destination carries its columns; an unknown destination is refused', async () => {
    vi.stubEnv(
      'MOSAIC_DESTINATIONS',
      JSON.stringify({
        destinations: [
          {
            kind: 'webhook',
            name: 'esp',
            segments: ['pro'],
            url: 'https://esp.example.com/audiences',
            auth: { type: 'none' },
            consent: { category: 'email_marketing' },
            fields: {
              identifiers: [{ type: 'email', pii: 'sha256' }],
              traits: [{ name: 'first_name', pii: 'raw' }],
            },
          },
        ],
      }),
    );
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:x`, startDate: new Date() });
    const handler = await coldStart();
    const started = await handler(
      request('POST', '/v1/segments/pro/exports', { destination: 'esp' }),
      lambdaContext(),
    );
    expect(started.statusCode).toBe(202);
    expect(JSON.parse(started.body ?? '')).toMatchObject({
      destination: 'esp',
      identifiers: ['email'],
      traits: ['first_name'],
    });
    const input = JSON.parse(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input?.input ?? '{}',
    ) as ExportWorkflowInput;
    // The members query writes the destination's two columns (c0: email, c1: first_name).
    expect(input.queries.members.sql).toMatch(/AS "?c1"?/);
    expect(input.queries.members.sql).not.toMatch(/AS "?c2"?/);

    const unknown = await handler(
      request('POST', '/v1/segments/pro/exports', { destination: 'nowhere' }),
      lambdaContext(),
    );
    expect(unknown.statusCode).toBe(400);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('fails the cold start when MOSAIC_DESTINATIONS is not a destinations configuration', async () => {
    vi.stubEnv('MOSAIC_DESTINATIONS', JSON.stringify({ destinations: [{ kind: 'fax', name: 'x' }] }));
    await expect(coldStart()).rejects.toMatchObject({
      name: ConfigError.name,
      message: expect.stringContaining('MOSAIC_DESTINATIONS'),
    });
  });

  it('fails the cold start naming a missing variable', async () => {
    vi.stubEnv('EXPORT_STATE_MACHINE_ARN', undefined);
    await expect(coldStart()).rejects.toMatchObject({
      name: ConfigError.name,
      message: expect.stringContaining('EXPORT_STATE_MACHINE_ARN'),
    });
  });
});
