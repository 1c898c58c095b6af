import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DESTINATION_NAME } from '../../src/core/activation/destination-config';
import { NotFoundError } from '../../src/core/errors';
import type { Logger } from '../../src/ports/logger';
import type { Destinations } from '../../src/use-cases/destinations';
import { errorResponse, jsonResponse, requireAdminKey, requireMethod } from '../shared/http-edge';

export interface DestinationsApiHandlerDeps {
  readonly destinations: Destinations;
  readonly logger: Logger;
}

export type DestinationsApiHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A test's answer is fresh each time; a configuration view is an operator's, not a cache's. */
const HEADERS = { 'cache-control': 'no-store' };

type Route =
  | { readonly name: 'destinations' }
  | { readonly name: 'destination' | 'test'; readonly destination: string };

const ALLOWED: Readonly<Record<Route['name'], readonly string[]>> = {
  destinations: ['GET'],
  destination: ['GET'],
  test: ['POST'],
};

/**
 * The Destinations API's handler (API Gateway HTTP API payload v2, behind the admin-key authorizer),
 * used unchanged by Lambda and by the local runtime; the shapes are in `src/core/activation/views.ts`.
 * A test whose delivery failed is still a 200: the answer's `ok: false` says so. The access log holds
 * the route, the destination's name and the status — never a URL, header or secret.
 */
export function createDestinationsApiHandler(deps: DestinationsApiHandlerDeps): DestinationsApiHandler {
  const { destinations } = deps;
  return async (event) => {
    const requestId = event.requestContext.requestId;
    const method = event.requestContext.http.method;
    let route: Route | undefined;
    let adminKey: string | undefined;
    let ok: boolean | undefined;
    let response: APIGatewayProxyStructuredResultV2;
    try {
      adminKey = requireAdminKey(event);
      route = routeOf(event.rawPath);
      requireMethod(method, ALLOWED[route.name]);
      switch (route.name) {
        case 'destinations':
          response = jsonResponse(200, destinations.list(), HEADERS);
          break;
        case 'destination':
          response = jsonResponse(200, destinations.get(route.destination), HEADERS);
          break;
        case 'test': {
          const result = await destinations.test(route.destination);
          ok = result.ok;
          response = jsonResponse(200, result, HEADERS);
          break;
        }
      }
    } catch (error) {
      response = errorResponse(error, { logger: deps.logger, requestId, headers: HEADERS });
    }
    deps.logger.info('destinations request', {
      requestId,
      adminKey,
      method,
      route: route?.name,
      destination: route !== undefined && 'destination' in route ? route.destination : undefined,
      ...(ok === undefined ? {} : { ok }),
      statusCode: response.statusCode,
    });
    return response;
  };
}

/** The route of a (decoded) path: `/v1/destinations[/{name}[/test]]`. */
function routeOf(path: string): Route {
  const [version, collection, name, sub, ...rest] = path.replace(/\/+$/, '').split('/').slice(1);
  if (version === 'v1' && collection === 'destinations' && rest.length === 0) {
    if (name === undefined) return { name: 'destinations' };
    if (!DESTINATION_NAME.test(name)) {
      throw new NotFoundError(`No destination is named ${JSON.stringify(name.slice(0, 64))}`);
    }
    if (sub === undefined) return { name: 'destination', destination: name };
    if (sub === 'test') return { name: 'test', destination: name };
  }
  throw new NotFoundError(`No such endpoint: ${path.slice(0, 100)}`);
}
