import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BadRequestError, NotFoundError } from '../../src/core/errors';
import type { Logger } from '../../src/ports/logger';
import type { Segments } from '../../src/use-cases/segments';
import {
  errorResponse,
  jsonResponse,
  readJsonBody,
  requireAdminKey,
  requireMethod,
} from '../shared/http-edge';

export interface SegmentsApiHandlerDeps {
  readonly segments: Segments;
  readonly logger: Logger;
}

export type SegmentsApiHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Definitions are small; a 256 KiB body is far beyond any segment of 200 conditions. */
const BODY_OPTIONS = {
  maxRequestBytes: 256 * 1024,
  maxDecompressedBytes: 256 * 1024,
  contentTypes: new Set(['application/json']),
};

/** Previews and exports name people (profile ids): no cache may keep them. */
const HEADERS = { 'cache-control': 'no-store' };

/** Ids in paths: segment ids, preview ids, export ids — a plain shape, checked before any lookup. */
const PATH_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

type Route =
  | { readonly name: 'segments' }
  | { readonly name: 'segment' | 'preview' | 'exports'; readonly id: string }
  | { readonly name: 'preview-status' | 'export'; readonly id: string };

const ALLOWED: Readonly<Record<Route['name'], readonly string[]>> = {
  segments: ['GET', 'POST'],
  segment: ['GET', 'PUT', 'DELETE'],
  preview: ['POST'],
  exports: ['POST'],
  'preview-status': ['GET'],
  export: ['GET'],
};

/**
 * The Segments API's handler (API Gateway HTTP API payload v2, behind the admin-key authorizer), used
 * unchanged by Lambda and by the local runtime; the routes and shapes are in
 * `src/core/segments/views.ts`. A 202 names the resource to poll in `Location`.
 */
export function createSegmentsApiHandler(deps: SegmentsApiHandlerDeps): SegmentsApiHandler {
  const { segments } = deps;
  return async (event) => {
    const requestId = event.requestContext.requestId;
    const method = event.requestContext.http.method;
    let route: Route | undefined;
    let adminKey: string | undefined;
    let response: APIGatewayProxyStructuredResultV2;
    try {
      adminKey = requireAdminKey(event);
      route = routeOf(event.rawPath);
      requireMethod(method, ALLOWED[route.name]);
      response = await dispatch(route, method, event, segments);
    } catch (error) {
      response = errorResponse(error, { logger: deps.logger, requestId, headers: HEADERS });
    }
    deps.logger.info('segments request', {
      requestId,
      adminKey,
      method,
      route: route?.name,
      id: route !== undefined && 'id' in route ? route.id : undefined,
      statusCode: response.statusCode,
    });
    return response;
  };
}

async function dispatch(
  route: Route,
  method: string,
  event: APIGatewayProxyEventV2,
  segments: Segments,
): Promise<APIGatewayProxyStructuredResultV2> {
  switch (route.name) {
    case 'segments':
      if (method === 'POST') {
        const created = await segments.create(readJsonBody(event, BODY_OPTIONS));
        return jsonResponse(201, created, { ...HEADERS, location: `/v1/segments/${created.id}` });
      }
      return jsonResponse(
        200,
        await segments.list({
          ...limitOf(event.queryStringParameters?.limit),
          ...(event.queryStringParameters?.next === undefined
            ? {}
            : { next: event.queryStringParameters.next }),
        }),
        HEADERS,
      );
    case 'segment':
      if (method === 'GET') return jsonResponse(200, await segments.get(route.id), HEADERS);
      if (method === 'PUT') {
        return jsonResponse(200, await segments.update(route.id, readJsonBody(event, BODY_OPTIONS)), HEADERS);
      }
      await segments.remove(route.id);
      return { statusCode: 204, headers: HEADERS };
    case 'preview': {
      const preview = await segments.preview(route.id);
      return preview.status === 'RUNNING'
        ? jsonResponse(202, preview, { ...HEADERS, location: `/v1/previews/${preview.previewId}` })
        : jsonResponse(200, preview, HEADERS);
    }
    case 'preview-status': {
      const preview = await segments.previewStatus(route.id);
      return jsonResponse(preview.status === 'RUNNING' ? 202 : 200, preview, HEADERS);
    }
    case 'exports': {
      // The body is optional: no body exports `profile_id` as CSV.
      const body = event.body === undefined || event.body === '' ? {} : readJsonBody(event, BODY_OPTIONS);
      const started = await segments.startExport(route.id, body);
      return jsonResponse(202, started, { ...HEADERS, location: `/v1/exports/${started.exportId}` });
    }
    case 'export':
      return jsonResponse(200, await segments.getExport(route.id), HEADERS);
  }
}

/** The route of a (decoded) path: `/v1/segments[/{id}[/preview|/exports]]`, `/v1/previews/{id}`, `/v1/exports/{id}`. */
function routeOf(path: string): Route {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  const [version, collection, id, sub, ...rest] = parts;
  if (version === 'v1' && rest.length === 0) {
    if (collection === 'segments') {
      if (id === undefined) return { name: 'segments' };
      const checked = checkedId(id, 'segment');
      if (sub === undefined) return { name: 'segment', id: checked };
      if (sub === 'preview') return { name: 'preview', id: checked };
      if (sub === 'exports') return { name: 'exports', id: checked };
    } else if (collection === 'previews' && id !== undefined && sub === undefined) {
      return { name: 'preview-status', id: checkedId(id, 'preview') };
    } else if (collection === 'exports' && id !== undefined && sub === undefined) {
      return { name: 'export', id: checkedId(id, 'export') };
    }
  }
  throw new NotFoundError(`No such endpoint: ${path.slice(0, 100)}`);
}

function checkedId(id: string, kind: string): string {
  if (!PATH_ID.test(id)) throw new NotFoundError(`No ${kind} ${JSON.stringify(id.slice(0, 64))}`);
  return id;
}

function limitOf(text: string | undefined): { limit?: number } {
  if (text === undefined) return {};
  if (!/^\d{1,4}$/.test(text)) {
    throw new BadRequestError('limit must be a whole number', { code: 'invalid_limit' });
  }
  return { limit: Number(text) };
}
