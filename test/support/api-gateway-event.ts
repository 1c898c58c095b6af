import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** What a test says about an HTTP request; everything else gets a realistic default. */
export interface HttpRequestSpec {
  readonly method?: string;
  readonly path?: string;
  /** Header names as API Gateway v2 delivers them: lower-case. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A string is sent as text; a Buffer is sent base64-encoded (as API Gateway does for binary
   * bodies); anything else is JSON-encoded as text.
   */
  readonly body?: string | Buffer | unknown;
  readonly sourceIp?: string;
  /** Query string parameters (`rawQueryString` and `queryStringParameters`). */
  readonly query?: Readonly<Record<string, string>>;
  /** The domain the request came to (`requestContext.domainName`). */
  readonly domainName?: string;
}

/** An API Gateway HTTP API (payload v2) event, as API Gateway hands it to a Lambda. */
export function apiGatewayEvent(spec: HttpRequestSpec = {}): APIGatewayProxyEventV2 {
  const method = spec.method ?? 'POST';
  const path = spec.path ?? '/v1/batch';
  let body: string | undefined;
  let isBase64Encoded = false;
  if (spec.body === undefined) body = undefined;
  else if (typeof spec.body === 'string') body = spec.body;
  else if (Buffer.isBuffer(spec.body)) {
    body = spec.body.toString('base64');
    isBase64Encoded = true;
  } else body = JSON.stringify(spec.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: spec.query === undefined ? '' : new URLSearchParams(spec.query).toString(),
    ...(spec.query === undefined ? {} : { queryStringParameters: { ...spec.query } }),
    headers: { 'content-type': 'application/json', ...spec.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: spec.domainName ?? 'collector.example.com',
      domainPrefix: 'collector',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: spec.sourceIp ?? '203.0.113.7',
        userAgent: 'analytics-node-next/latest',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '10/Mar/2026:12:00:00 +0000',
      timeEpoch: Date.parse('2026-03-10T12:00:00.000Z'),
    },
    body,
    isBase64Encoded,
  };
}

/** The Authorization header Segment's SDKs send: HTTP Basic with the write key as username. */
export function basicAuth(writeKey: string, password = ''): string {
  return `Basic ${Buffer.from(`${writeKey}:${password}`, 'utf8').toString('base64')}`;
}

/** A minimal Lambda context, enough for middy and the Powertools middlewares. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'collector',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:collector',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/collector',
    logStreamName: '2026/03/10/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
