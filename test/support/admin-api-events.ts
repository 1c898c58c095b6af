import type {
  APIGatewayEventRequestContextLambdaAuthorizer,
  APIGatewayEventRequestContextV2WithAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import { decodePath } from '../../src/local/api-gateway-server';
import { apiGatewayEvent } from './api-gateway-event';

export interface AdminApiRequestSpec {
  readonly method?: string;
  /** Sent as JSON text (with `content-type: application/json`); none by default. */
  readonly body?: unknown;
  /** Header names in lower case, as API Gateway v2 delivers them. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The authorizer's context (`requestContext.authorizer.lambda`); default `{ adminKey: 'support' }`.
   * `null` sends the request as if no authorizer ran (no `authorizer` at all).
   */
  readonly authorizer?: Readonly<Record<string, unknown>> | null;
}

/**
 * The event HTTP API hands an admin API (profiles, segments, destinations) for a URL as a client sends
 * it (percent-encoded): the path
 * decoded once into `rawPath` (as API Gateway does, and the local gateway with the same function),
 * the query string kept raw and parsed into `queryStringParameters` (repeats joined with `,`), and
 * the admin authorizer's context.
 */
export function adminApiEvent(url: string, spec: AdminApiRequestSpec = {}): APIGatewayProxyEventV2 {
  const parsed = new URL(url, 'https://api.example.com');
  const path = decodePath(parsed.pathname);
  if (path === undefined) throw new Error(`API Gateway would refuse ${url}`);
  const event = apiGatewayEvent({
    method: spec.method ?? 'GET',
    path,
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
  });
  if (spec.body === undefined) delete event.body;
  const query: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams)
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  const authorizer = spec.authorizer === undefined ? { adminKey: 'support' } : spec.authorizer;
  const withAuthorizer: APIGatewayEventRequestContextV2WithAuthorizer<
    APIGatewayEventRequestContextLambdaAuthorizer<unknown>
  > = { ...event.requestContext, authorizer: { lambda: authorizer } };
  return {
    ...event,
    rawQueryString: parsed.search.slice(1),
    ...(parsed.search === '' ? {} : { queryStringParameters: query }),
    requestContext: authorizer === null ? event.requestContext : withAuthorizer,
  };
}

/** The event HTTP API sends a Lambda authorizer (payload format 2.0) for a request with these headers. */
export function adminAuthorizerEvent(
  headers: Readonly<Record<string, string>> = {},
): APIGatewayRequestAuthorizerEventV2 {
  const event = apiGatewayEvent({ method: 'GET', path: '/v1/profiles/email:jane@example.com', headers });
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn:
      'arn:aws:execute-api:eu-west-1:123456789012:api1234567/$default/GET/v1/profiles/email:jane@example.com',
    identitySource: headers.authorization === undefined ? [] : [headers.authorization],
    routeKey: 'GET /v1/profiles/{proxy+}',
    rawPath: event.rawPath,
    rawQueryString: '',
    cookies: [],
    headers: event.headers,
    requestContext: event.requestContext,
  };
}

/** A handler's answer as a test reads it: status, headers, and the body parsed as JSON (none for no body). */
export function readAnswer(result: APIGatewayProxyStructuredResultV2) {
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    // JSON.parse's `any`: tests read answers of many shapes.
    json: result.body === undefined || result.body === '' ? undefined : JSON.parse(String(result.body)),
  };
}
