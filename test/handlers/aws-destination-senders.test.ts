import { createHash } from 'node:crypto';
import { InvokeCommand, LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsErrorOutcome } from '../../src/adapters/aws/aws-send-outcome';
import { LambdaDestinationSender } from '../../src/adapters/aws/lambda-destination-sender';
import { S3FileDropSender } from '../../src/adapters/aws/s3-file-drop-sender';
import { SecretsManagerSecretResolver } from '../../src/adapters/aws/secrets-manager-secret-resolver';
import { SqsDeadLetterSink } from '../../src/adapters/aws/sqs-dead-letter-sink';
import { SqsDeliveryContinuations } from '../../src/adapters/aws/sqs-delivery-continuations';
import { SqsDestinationSender } from '../../src/adapters/aws/sqs-destination-sender';
import { sqsQueueUrl } from '../../src/adapters/aws/sqs-queue-url';
import { renderCsv } from '../../src/core/activation/csv-file';
import { buildPayload, idempotencyKey, isS3PayloadPointer } from '../../src/core/activation/delivery-plan';
import {
  type Destination,
  type LambdaDestination,
  parseDestinationsConfig,
  type S3Destination,
  type SqsDestination,
} from '../../src/core/activation/destination-config';
import { classifyHttpOutcome } from '../../src/core/activation/http-retry';
import type { OutboundMember } from '../../src/core/activation/pii';
import { ConfigError, ServiceUnavailableError } from '../../src/core/errors';
import { ManualClock } from '../../src/ports/clock';
import type { OutboundBatch } from '../../src/ports/destination-sender';

const sqs = mockClient(SQSClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const secrets = mockClient(SecretsManagerClient);

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-audiences';
const FIFO = 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-audiences.fifo';
const FUNCTION = 'arn:aws:lambda:eu-west-1:123456789012:function:personalise';
const PAYLOADS = { bucket: 'mosaic-payloads', prefix: '' };
const EXPORT = 'x0000000001abc';

function destination(input: Record<string, unknown>): Destination {
  return parseDestinationsConfig({
    destinations: [{ segments: ['pro'], consent: { category: null }, ...input }],
  }).destinations[0] as Destination;
}
const sqsDestination = (queue = QUEUE) => destination({ kind: 'sqs', name: 'crm', queue }) as SqsDestination;
const lambdaDestination = () =>
  destination({ kind: 'lambda', name: 'personalise', functionArn: FUNCTION }) as LambdaDestination;
const s3Destination = () =>
  destination({
    kind: 's3',
    name: 'direct-mail',
    bucket: 'print-vendor-drop',
    prefix: 'mosaic/',
    fields: { identifiers: [{ type: 'email', pii: 'raw' }], traits: [{ name: 'first_name', pii: 'raw' }] },
    csv: {
      columns: [
        { header: 'id', value: 'profileId' },
        { header: 'email', value: 'identifiers.email' },
        { header: 'name', value: 'traits.first_name' },
      ],
    },
  }) as S3Destination;

function batch(name: string, members: OutboundMember[], index = 2): OutboundBatch {
  const context = {
    exportId: EXPORT,
    segmentId: 'pro',
    destination: name,
    idempotencyKey: idempotencyKey(EXPORT, name, index),
    batch: { index, total: 5, size: members.length },
  };
  return { context, members, payload: buildPayload(context, members) };
}
const member = (i: number, extra = ''): OutboundMember => ({
  profileId: `p-${String(i).padStart(6, '0')}`,
  identifiers: { email: `person${i}@example.com` },
  traits: { first_name: `Name${i}${extra}` },
});
/** A batch whose payload is over 256 KB. */
const large = (name: string) =>
  batch(
    name,
    Array.from({ length: 300 }, (_, i) => member(i, 'x'.repeat(1000))),
  );

function awsError<T>(
  Exception: new (options: {
    name: string;
    $fault: 'client' | 'server';
    $metadata: object;
    message: string;
  }) => T,
  name: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
): T {
  return new Exception({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name}!` });
}

const retried = (outcome: Parameters<typeof classifyHttpOutcome>[0]) =>
  classifyHttpOutcome(outcome, { attempt: 1, now: new Date(0), random: () => 0.5 }).action;

beforeEach(() => {
  sqs.reset();
  s3.reset();
  lambda.reset();
  secrets.reset();
});

describe('AWS errors as delivery outcomes', () => {
  it('throttling is a 429 and a server fault its 5xx (both retried); access denied and not found are permanent', () => {
    const throttled = awsErrorOutcome(awsError(SQSServiceException, 'RequestThrottled', 400));
    expect(throttled).toEqual({ kind: 'response', status: 429 });
    expect(retried(throttled)).toBe('retry');
    const server = awsErrorOutcome(awsError(SQSServiceException, 'InternalError', 500));
    expect(server).toEqual({ kind: 'response', status: 500 });
    expect(retried(server)).toBe('retry');
    const denied = awsErrorOutcome(awsError(S3ServiceException, 'AccessDenied', 403));
    expect(denied).toEqual({ kind: 'response', status: 403 });
    expect(retried(denied)).toBe('fail');
    const missing = awsErrorOutcome(awsError(LambdaServiceException, 'ResourceNotFoundException', 404));
    expect(retried(missing)).toBe('fail');
    const noAnswer = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(awsErrorOutcome(noAnswer)).toEqual({ kind: 'network_error', code: 'ECONNRESET' });
    expect(retried(awsErrorOutcome(noAnswer))).toBe('retry');
  });

  it('queue ARNs become queue URLs', () => {
    expect(sqsQueueUrl('arn:aws:sqs:eu-west-1:123456789012:crm')).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/crm',
    );
    expect(sqsQueueUrl('arn:aws-cn:sqs:cn-north-1:123456789012:crm.fifo')).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/crm.fifo',
    );
    expect(sqsQueueUrl(QUEUE)).toBe(QUEUE);
  });
});

describe('SqsDestinationSender', () => {
  const sender = (queue = QUEUE) =>
    new SqsDestinationSender({
      destination: sqsDestination(queue),
      sqs: new SQSClient({}),
      s3: new S3Client({}),
      payloadBucket: PAYLOADS,
    });

  it('sends the batch as one message with its idempotency key; no group or dedup id on a standard queue', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const b = batch('crm', [member(1), member(2)]);
    expect(await sender().send(b)).toEqual({ kind: 'response', status: 200 });
    const [call] = sqs.commandCalls(SendMessageCommand);
    const input = call?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE);
    expect(JSON.parse(input?.MessageBody ?? '')).toEqual(b.payload);
    expect(input?.MessageAttributes?.['mosaic-idempotency-key']?.StringValue).toBe(b.context.idempotencyKey);
    expect(input?.MessageAttributes?.['mosaic-batch-index']).toEqual({
      DataType: 'Number',
      StringValue: '2',
    });
    expect(input?.MessageGroupId).toBeUndefined();
    expect(input?.MessageDeduplicationId).toBeUndefined();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('on a FIFO queue: dedup id from the idempotency key, the export as the group', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const b = batch('crm', [member(1)]);
    await sender(FIFO).send(b);
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(FIFO);
    expect(input?.MessageDeduplicationId).toBe(b.context.idempotencyKey);
    expect(input?.MessageGroupId).toBe(EXPORT);
  });

  it('throttling is retried; access denied and a missing queue are permanent', async () => {
    sqs.on(SendMessageCommand).rejectsOnce(awsError(SQSServiceException, 'RequestThrottled', 400));
    expect(retried(await sender().send(batch('crm', [member(1)])))).toBe('retry');
    sqs.reset();
    sqs.on(SendMessageCommand).rejects(awsError(SQSServiceException, 'AccessDenied', 403));
    const denied = await sender().send(batch('crm', [member(1)]));
    expect(denied).toEqual({ kind: 'response', status: 403 });
    expect(retried(denied)).toBe('fail');
    sqs.reset();
    sqs.on(SendMessageCommand).rejects(awsError(SQSServiceException, 'QueueDoesNotExist', 400));
    expect(retried(await sender().send(batch('crm', [member(1)])))).toBe('fail');
  });

  it('a payload over 256 KB is written to the payload bucket first; the message is a small pointer to it', async () => {
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const b = large('crm');
    const body = JSON.stringify(b.payload);
    expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
    expect(await sender().send(b)).toEqual({ kind: 'response', status: 200 });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Bucket).toBe('mosaic-payloads');
    expect(put?.Key).toBe(`payloads/${EXPORT}/crm/000002.json`);
    expect(Buffer.from(put?.Body as Buffer).toString('utf8')).toBe(body);
    const message = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '';
    expect(Buffer.byteLength(message)).toBeLessThan(2048);
    const pointer = JSON.parse(message);
    expect(isS3PayloadPointer(pointer)).toBe(true);
    expect(pointer.mosaicPayloadPointer).toMatchObject({
      bucket: 'mosaic-payloads',
      key: `payloads/${EXPORT}/crm/000002.json`,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(pointer.idempotencyKey).toBe(b.context.idempotencyKey);
  });

  it('a body just under 256 KB still goes as a pointer when the attributes would not fit beside it', async () => {
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const b = batch('crm', [member(1)]);
    const filler = 'y'.repeat(256 * 1024 - 100 - JSON.stringify(b.payload).length);
    const near = { ...b, payload: { ...(b.payload as object), filler } };
    expect(Buffer.byteLength(JSON.stringify(near.payload))).toBeLessThanOrEqual(256 * 1024);
    await sender().send(near);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    const body = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '';
    expect(isS3PayloadPointer(JSON.parse(body))).toBe(true);
  });

  it('a payload that could not be written to S3 sends nothing, and is retried when S3 throttles', async () => {
    s3.on(PutObjectCommand).rejects(awsError(S3ServiceException, 'SlowDown', 503));
    const outcome = await sender().send(large('crm'));
    expect(outcome).toEqual({ kind: 'response', status: 429 });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('LambdaDestinationSender', () => {
  const sender = () =>
    new LambdaDestinationSender({
      destination: lambdaDestination(),
      lambda: new LambdaClient({}),
      s3: new S3Client({}),
      payloadBucket: PAYLOADS,
    });

  it('invokes the function synchronously with the payload; its 200 is success', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    const b = batch('personalise', [member(1)]);
    expect(await sender().send(b)).toEqual({ kind: 'response', status: 200 });
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe(FUNCTION);
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(Buffer.from(input?.Payload as Uint8Array).toString('utf8'))).toEqual(b.payload);
  });

  it('a function error is a failure that is retried, then dead-lettered', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled' });
    const outcome = await sender().send(batch('personalise', [member(1)]));
    expect(outcome).toEqual({ kind: 'response', status: 502 });
    expect(retried(outcome)).toBe('retry');
    expect(classifyHttpOutcome(outcome, { attempt: 8, now: new Date(0), random: () => 0.5 })).toMatchObject({
      action: 'fail',
      reason: 'exhausted',
    });
  });

  it('throttling is retried; access denied and a missing function are permanent', async () => {
    lambda.on(InvokeCommand).rejectsOnce(awsError(LambdaServiceException, 'TooManyRequestsException', 429));
    expect(await sender().send(batch('personalise', [member(1)]))).toEqual({ kind: 'response', status: 429 });
    lambda.reset();
    lambda.on(InvokeCommand).rejects(awsError(LambdaServiceException, 'AccessDeniedException', 403));
    expect(retried(await sender().send(batch('personalise', [member(1)])))).toBe('fail');
    lambda.reset();
    lambda.on(InvokeCommand).rejects(awsError(LambdaServiceException, 'ResourceNotFoundException', 404));
    expect(retried(await sender().send(batch('personalise', [member(1)])))).toBe('fail');
  });

  it('a payload over 256 KB goes as a pointer to the object written first', async () => {
    s3.on(PutObjectCommand).resolves({});
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await sender().send(large('personalise'));
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toBe(
      `payloads/${EXPORT}/personalise/000002.json`,
    );
    const event = JSON.parse(
      Buffer.from(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array).toString(),
    );
    expect(isS3PayloadPointer(event)).toBe(true);
  });
});

describe('S3FileDropSender', () => {
  const sender = () => new S3FileDropSender({ destination: s3Destination(), s3: new S3Client({}) });

  it("puts the batch's CSV (the local file drop's rendering) under the destination's prefix", async () => {
    s3.on(PutObjectCommand).resolves({});
    const members = [member(1), member(2)];
    expect(await sender().send(batch('direct-mail', members))).toEqual({ kind: 'response', status: 200 });
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.Bucket).toBe('print-vendor-drop');
    expect(input?.Key).toBe(`mosaic/${EXPORT}/batch-2.csv`);
    const csv = Buffer.from(input?.Body as Buffer).toString('utf8');
    expect(csv).toBe(renderCsv(s3Destination().csv.columns, members));
    expect(csv.startsWith('id,email,name\r\np-000001,person1@example.com,Name1\r\n')).toBe(true);
  });

  it('a 503 is retried; access denied and a missing bucket are permanent', async () => {
    s3.on(PutObjectCommand).rejectsOnce(awsError(S3ServiceException, 'ServiceUnavailable', 503));
    expect(retried(await sender().send(batch('direct-mail', [member(1)])))).toBe('retry');
    s3.reset();
    s3.on(PutObjectCommand).rejects(awsError(S3ServiceException, 'AccessDenied', 403));
    expect(retried(await sender().send(batch('direct-mail', [member(1)])))).toBe('fail');
    s3.reset();
    s3.on(PutObjectCommand).rejects(awsError(S3ServiceException, 'NoSuchBucket', 404));
    expect(retried(await sender().send(batch('direct-mail', [member(1)])))).toBe('fail');
  });
});

describe('SecretsManagerSecretResolver', () => {
  it('reads a secret once per TTL, by name or ARN, then again after the TTL', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 's3cr3t' });
    const clock = new ManualClock(0);
    const resolver = new SecretsManagerSecretResolver({
      client: new SecretsManagerClient({}),
      ttlMs: 60_000,
      clock,
    });
    const [a, b] = await Promise.all([resolver.resolve('mosaic/esp'), resolver.resolve('mosaic/esp')]);
    expect([a, b]).toEqual(['s3cr3t', 's3cr3t']);
    clock.advance(59_000);
    await resolver.resolve('mosaic/esp');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: 'mosaic/esp' });
    clock.advance(2_000);
    await resolver.resolve('mosaic/esp');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mosaic/esp-AbCdEf';
    await resolver.resolve(arn);
    expect(secrets.commandCalls(GetSecretValueCommand)[2]?.args[0].input).toEqual({ SecretId: arn });
  });

  it('an unknown secret is a ConfigError naming it (not its value); throttling is retryable and not cached', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'missing' })
      .rejects(awsError(SecretsManagerServiceException, 'ResourceNotFoundException', 400));
    const resolver = new SecretsManagerSecretResolver({ client: new SecretsManagerClient({}) });
    const error = await resolver.resolve('missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).retryable).toBe(false);
    expect((error as Error).message).toContain('"missing"');
    secrets
      .on(GetSecretValueCommand, { SecretId: 'busy' })
      .rejectsOnce(awsError(SecretsManagerServiceException, 'ThrottlingException', 400))
      .resolves({ SecretString: 'later' });
    const busy = await resolver.resolve('busy').catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(ServiceUnavailableError);
    expect((busy as ServiceUnavailableError).retryable).toBe(true);
    expect(await resolver.resolve('busy')).toBe('later');
  });
});

describe('SqsDeadLetterSink', () => {
  it("sends the dead letter's JSON to the destination's DLQ", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'd1' });
    const letter = {
      destination: 'crm',
      exportId: EXPORT,
      segmentId: 'pro',
      batchIndex: 4,
      idempotencyKey: idempotencyKey(EXPORT, 'crm', 4),
      members: 100,
      reason: 'permanent' as const,
      status: 403,
      attempts: 1,
      failedAt: '2026-11-22T10:00:00.000Z',
    };
    const dlq = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-crm-dlq';
    await new SqsDeadLetterSink({ client: new SQSClient({}), queueUrl: dlq }).put(letter);
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(dlq);
    expect(JSON.parse(input?.MessageBody ?? '')).toEqual(letter);
  });
});

describe('SqsDeliveryContinuations', () => {
  const continuation = {
    mosaicContinuation: 1 as const,
    event: {
      version: '0' as const,
      id: 'evt-1',
      'detail-type': 'Audience Export Completed',
      source: 'mosaic',
      account: '123456789012',
      time: '2026-11-22T10:05:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: { exportId: EXPORT },
    },
    fromBatch: 3,
    attemptsSoFar: 2,
  };

  it('re-queues the continuation to its own queue with the delay, at most 15 minutes', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'c1' });
    const own = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-crm';
    const queue = new SqsDeliveryContinuations({ client: new SQSClient({}), queueUrl: own });
    await queue.enqueue(continuation, 120);
    await queue.enqueue(continuation, 3600);
    const inputs = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.DelaySeconds)).toEqual([120, 900]);
    expect(inputs.every((i) => i.QueueUrl === own)).toBe(true);
    expect(JSON.parse(inputs[0]?.MessageBody ?? '')).toEqual(continuation);
  });

  it('on a FIFO queue (no per-message delay): grouped by export, deduplicated by where it resumes', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'c1' });
    const own = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mosaic-crm.fifo';
    await new SqsDeliveryContinuations({ client: new SQSClient({}), queueUrl: own }).enqueue(
      continuation,
      60,
    );
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.DelaySeconds).toBeUndefined();
    expect(input?.MessageGroupId).toBe(EXPORT);
    expect(input?.MessageDeduplicationId).toBe('evt-1--3-2');
  });
});
