import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { adminApiEvent, readAnswer } from '../support/admin-api-events';
import { lambdaContext } from '../support/api-gateway-event';

// Mocked before the entry module is imported, so the clients it creates at cold start are mocked.
const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-audiences';
const FUNCTION = 'arn:aws:lambda:eu-west-1:123456789012:function:personalise';
const DESTINATIONS = {
  destinations: [
    {
      kind: 'sqs',
      name: 'crm',
      queue: QUEUE,
      segments: ['vip'],
      consent: { category: 'email_marketing' },
      fields: { identifiers: [{ type: 'email', pii: 'sha256' }] },
    },
    {
      kind: 'lambda',
      name: 'personalise',
      functionArn: FUNCTION,
      segments: ['vip'],
      consent: { category: null },
    },
  ],
};

type Entry = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

async function coldStart(): Promise<Entry> {
  vi.resetModules();
  return (await import('../../functions/destinations-api/index')).handler as unknown as Entry;
}

beforeEach(() => {
  sqs.reset();
  lambda.reset();
  s3.reset();
  secrets.reset();
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('MOSAIC_DESTINATIONS', JSON.stringify(DESTINATIONS));
  vi.stubEnv('PAYLOAD_BUCKET', 'mosaic-payloads');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('Destinations API Lambda entry (functions/destinations-api/index.ts)', () => {
  it('lists the configured destinations', async () => {
    const handler = await coldStart();
    const answer = readAnswer(await handler(adminApiEvent('/v1/destinations'), lambdaContext()));
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.json)).toContain('"crm"');
    expect(JSON.stringify(answer.json)).toContain('"personalise"');
  });

  it('tests an SQS destination by sending one test batch to its queue with the AWS sender', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 't-1' });
    const handler = await coldStart();
    const answer = readAnswer(
      await handler(adminApiEvent('/v1/destinations/crm/test', { method: 'POST' }), lambdaContext()),
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ ok: true });
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE);
    expect(JSON.parse(input?.MessageBody ?? '')).toMatchObject({ destination: 'crm' });
  });

  it('a test the queue refuses (access denied) answers ok: false, not an error', async () => {
    sqs.on(SendMessageCommand).rejects(
      new SQSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'no',
      }),
    );
    const handler = await coldStart();
    const answer = readAnswer(
      await handler(adminApiEvent('/v1/destinations/crm/test', { method: 'POST' }), lambdaContext()),
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ ok: false });
  });

  it('tests a Lambda destination by invoking it synchronously', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    const handler = await coldStart();
    const answer = readAnswer(
      await handler(adminApiEvent('/v1/destinations/personalise/test', { method: 'POST' }), lambdaContext()),
    );
    expect(answer.json).toMatchObject({ ok: true });
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: FUNCTION,
      InvocationType: 'RequestResponse',
    });
  });

  it('a destinations configuration that does not parse fails the cold start naming the variable', async () => {
    vi.stubEnv('MOSAIC_DESTINATIONS', JSON.stringify({ destinations: [{ kind: 'sqs', name: 'x' }] }));
    // A fresh module graph per cold start: the error's class is that graph's, so match by name.
    await expect(coldStart()).rejects.toMatchObject({ name: ConfigError.name });
    await expect(coldStart()).rejects.toThrow(/MOSAIC_DESTINATIONS/);
    vi.stubEnv(
      'MOSAIC_DESTINATIONS',
      JSON.stringify({
        destinations: [
          { ...DESTINATIONS.destinations[0], fields: { identifiers: [{ type: 'fax', pii: 'raw' }] } },
        ],
      }),
    );
    await expect(coldStart()).rejects.toThrow(/"fax" is not a configured identifier type/);
  });
});
