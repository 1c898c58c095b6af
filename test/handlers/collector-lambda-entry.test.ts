import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashWriteKey } from '../../src/core/collector/write-keys';
import { apiGatewayEvent, basicAuth, lambdaContext } from '../support/api-gateway-event';
import {
  decodePutRecordBatch,
  decodePutRecords,
  putRecordBatchAnswer,
  putRecordsAnswer,
} from '../support/kinesis-firehose-mocks';
import { trackMessage } from '../support/segment-messages';

const WRITE_KEY = 'wk_entry_test';
const ENV = {
  AWS_REGION: 'eu-west-1',
  EVENT_STREAM_NAME: 'mosaic-events-entry',
  QUARANTINE_DELIVERY_STREAM_NAME: 'mosaic-quarantine-entry',
  MOSAIC_SOURCES: JSON.stringify([{ name: 'website', keys: [{ sha256: hashWriteKey(WRITE_KEY) }] }]),
};

// Mocked before the entry module is imported, so the clients it creates at cold start are mocked.
const kinesis = mockClient(KinesisClient);
const firehose = mockClient(FirehoseClient);

type Entry = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A cold start: the entry module evaluated afresh with the current environment. */
async function coldStart(): Promise<Entry> {
  vi.resetModules();
  const module = await import('../../functions/collector/index');
  return module.handler as unknown as Entry;
}

/** What the function printed to stdout (Powertools' EMF metrics), captured instead of shown. */
let stdout: string[] = [];

beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  kinesis.reset();
  firehose.reset();
  kinesis.on(PutRecordsCommand).callsFake((input) => putRecordsAnswer(input));
  firehose.on(PutRecordBatchCommand).callsFake((input) => putRecordBatchAnswer(input));
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
  vi.stubEnv('MOSAIC_LIMITS', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('collector Lambda entry (functions/collector/index.ts)', () => {
  it('handles an API Gateway v2 event end to end: 200 and the record in the configured stream', async () => {
    const handler = await coldStart();
    const event = apiGatewayEvent({
      path: '/v1/track',
      headers: { authorization: basicAuth(WRITE_KEY) },
      body: trackMessage({ messageId: 'entry-1' }),
      sourceIp: '198.51.100.4',
    });
    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ success: true, accepted: 1, rejected: [] });
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.StreamName).toBe(ENV.EVENT_STREAM_NAME);
    const [sent] = decodePutRecords(input ?? {});
    expect(sent?.partitionKey).toBe('anon-1');
    expect(sent?.record).toMatchObject({
      type: 'track',
      messageId: 'entry-1',
      source: 'website',
      context: { ip: '198.51.100.4' },
    });
    // Real clock and ids at the composition root: receivedAt is a fresh ISO time.
    expect(Math.abs(Date.parse(String(sent?.record.receivedAt)) - Date.now())).toBeLessThan(60_000);
    // The metrics middleware flushed the accepted count as EMF.
    const emf = stdout.flatMap((line) => line.split('\n')).filter((line) => line.includes('"_aws"'));
    expect(emf.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ MessagesAccepted: 1, source: 'website', service: 'collector' }),
    );
  });

  it('assigns a random messageId when the message has none', async () => {
    const handler = await coldStart();
    const event = apiGatewayEvent({
      path: '/v1/batch',
      headers: { authorization: basicAuth(WRITE_KEY) },
      body: { batch: [trackMessage(), trackMessage()] },
    });
    expect((await handler(event, lambdaContext())).statusCode).toBe(200);
    const ids = decodePutRecords(kinesis.commandCalls(PutRecordsCommand)[0]?.args[0].input ?? {}).map(
      (r) => r.record.messageId,
    );
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(typeof id === 'string' && id.length > 0).toBe(true);
  });

  it('sends rejected messages to the configured Firehose delivery stream', async () => {
    const handler = await coldStart();
    const event = apiGatewayEvent({
      path: '/v1/batch',
      headers: { authorization: basicAuth(WRITE_KEY) },
      body: { batch: [trackMessage(), trackMessage({ messageId: 'bad', event: '' })] },
    });
    const result = await handler(event, lambdaContext());
    expect(result.statusCode).toBe(200);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.DeliveryStreamName).toBe(ENV.QUARANTINE_DELIVERY_STREAM_NAME);
    expect(decodePutRecordBatch(calls[0]?.args[0].input ?? {}).map((l) => [l.message_id, l.source])).toEqual([
      ['bad', 'website'],
    ]);
  });

  it('answers 401 for a key that is not configured', async () => {
    const handler = await coldStart();
    const event = apiGatewayEvent({
      path: '/v1/track',
      headers: { authorization: basicAuth('wk_other') },
      body: trackMessage(),
    });
    expect((await handler(event, lambdaContext())).statusCode).toBe(401);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('applies MOSAIC_LIMITS from the environment', async () => {
    vi.stubEnv('MOSAIC_LIMITS', '{"maxBatchMessages":2}');
    const handler = await coldStart();
    const event = apiGatewayEvent({
      path: '/v1/batch',
      headers: { authorization: basicAuth(WRITE_KEY) },
      body: { batch: [trackMessage(), trackMessage(), trackMessage()] },
    });
    expect((await handler(event, lambdaContext())).statusCode).toBe(413);
  });

  it('fails the cold start naming EVENT_STREAM_NAME when it is missing', async () => {
    vi.stubEnv('EVENT_STREAM_NAME', undefined);
    await expect(coldStart()).rejects.toThrow(/EVENT_STREAM_NAME/);
  });

  it('fails the cold start naming MOSAIC_SOURCES when it is not valid', async () => {
    vi.stubEnv('MOSAIC_SOURCES', '[{"name":"website","keys":[{"sha256":"plain-text-key"}]}]');
    await expect(coldStart()).rejects.toThrow(/MOSAIC_SOURCES/);
  });
});
