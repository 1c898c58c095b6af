import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BadRequestError, NotFoundError } from '../../src/core/errors';
import type { Logger } from '../../src/ports/logger';
import type { ProfileQuery } from '../../src/use-cases/profile-query';
import { errorResponse, jsonResponse, requireAdminKey, requireMethod } from '../shared/http-edge';

export interface ProfileApiHandlerDeps {
  readonly query: ProfileQuery;
  readonly logger: Logger;
}

export type ProfileApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

type View = 'profile' | 'events' | 'merges';

interface ProfileRequest {
  readonly type: string;
  readonly value: string;
  readonly view: View;
}

const PREFIX = '/v1/profiles/';
const SUB_RESOURCES = ['events', 'merges'] as const;

/** Profiles hold personal data: no cache along the way may keep a copy. */
const HEADERS = { 'cache-control': 'no-store' };

/** What may be logged of the `{type}`: a name shaped like a configured type, never a stray value. */
const TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * The Profile API's handler (API Gateway HTTP API payload v2, behind the admin-key authorizer), used
 * unchanged by Lambda and by the local runtime:
 * - `GET /v1/profiles/{type}:{value}` → the profile view;
 * - `GET /v1/profiles/{type}:{value}/events?limit=N` → its last events, newest first;
 * - `GET /v1/profiles/{type}:{value}/merges` → the merge ledger entries that built it.
 *
 * The path arrives as HTTP API delivers `rawPath`: already percent-decoded once, so it is not decoded
 * again (`%40` arrives as `@`, `%2B` as `+`, `%25` as `%`; a literal `+` stays `+`). The identifier is
 * split at its first `:`, so values may hold `:` and `/`; a value ending in `/events` or `/merges` is
 * read as that sub-resource (address such a profile by `profile_id`).
 *
 * Every request must carry the authorizer's `adminKey`, even though API Gateway refuses requests the
 * authorizer refused: a route deployed without the authorizer answers 401 rather than open data.
 */
export function createProfileApiHandler(deps: ProfileApiHandlerDeps): ProfileApiHandler {
  return async (event) => {
    const requestId = event.requestContext.requestId;
    let adminKey: string | undefined;
    let request: ProfileRequest | undefined;
    let response: APIGatewayProxyStructuredResultV2;
    try {
      adminKey = requireAdminKey(event);
      const route = routeOf(event.rawPath);
      const method = event.requestContext.http.method;
      requireMethod(method, ['GET']);
      request = { ...splitIdentifier(route.identifier), view: route.view };
      response = jsonResponse(
        200,
        await read(deps.query, request, event.queryStringParameters?.limit),
        HEADERS,
      );
    } catch (error) {
      response = errorResponse(error, { logger: deps.logger, requestId, headers: HEADERS });
    }
    // The access log: who read which kind of identifier, never the value.
    deps.logger.info('profile request', {
      requestId,
      adminKey,
      view: request?.view,
      identifierType: request !== undefined && TYPE_NAME.test(request.type) ? request.type : undefined,
      statusCode: response.statusCode,
    });
    return response;
  };
}

function read(query: ProfileQuery, request: ProfileRequest, limit: string | undefined): Promise<unknown> {
  switch (request.view) {
    case 'profile':
      return query.profile(request.type, request.value);
    case 'events':
      return query.events(request.type, request.value, limitOf(limit));
    case 'merges':
      return query.merges(request.type, request.value);
  }
}

/** The identifier and the sub-resource, from the (already decoded) path. */
function routeOf(path: string): { identifier: string; view: View } {
  if (!path.startsWith(PREFIX) || path.length === PREFIX.length)
    throw new NotFoundError(`No such endpoint: ${path.slice(0, 100)}`);
  const identifier = path.slice(PREFIX.length);
  for (const view of SUB_RESOURCES) {
    if (identifier.endsWith(`/${view}`)) return { identifier: identifier.slice(0, -(view.length + 1)), view };
  }
  return { identifier, view: 'profile' };
}

/** `{type}:{value}`, split at the first `:` (type names never hold one; values may). */
function splitIdentifier(identifier: string): { type: string; value: string } {
  const colon = identifier.indexOf(':');
  if (colon <= 0) {
    throw new BadRequestError('The identifier must be {type}:{value}, e.g. email:jane@example.com', {
      code: 'invalid_identifier',
    });
  }
  return { type: identifier.slice(0, colon), value: identifier.slice(colon + 1) };
}

/** `?limit=N` as a number (range checked by the query); anything but digits is out of range. */
function limitOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  return /^[0-9]{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
}
