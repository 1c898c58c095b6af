import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminAuthorizerHandler } from '../../functions/admin-authorizer/handler';
import { createProfileApiHandler } from '../../functions/profile-api/handler';
import { AdminKeyRegistry } from '../../src/core/auth/admin-keys';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import {
  ApiGatewayServer,
  decodePath,
  type LocalAuthorizer,
  type LocalRoute,
} from '../../src/local/api-gateway-server';
import { silentLogger } from '../../src/ports/logger';
import { createProfileQuery } from '../../src/use-cases/profile-query';
import { ADMIN_KEY, ADMIN_KEYS, bearer, REVOKED_ADMIN_KEY } from '../support/admin-keys';
import { JANE_ID, janeGraph } from '../support/profile-fixtures';

/** A handler that answers 200 and keeps the events it got. */
function recordingHandler() {
  const events: APIGatewayProxyEventV2[] = [];
  const handler = async (event: APIGatewayProxyEventV2) => {
    events.push(event);
    return { statusCode: 200, body: '{"ok":true}' };
  };
  return { events, handler };
}

/** An authorizer wrapper that counts its calls and keeps the events it got. */
function counted(authorizer: LocalAuthorizer['handler']) {
  const events: APIGatewayRequestAuthorizerEventV2[] = [];
  const handler: LocalAuthorizer['handler'] = (event) => {
    events.push(event);
    return authorizer(event);
  };
  return { events, handler };
}

const servers: ApiGatewayServer[] = [];

async function serve(routes: readonly LocalRoute[]): Promise<string> {
  const server = new ApiGatewayServer({ routes, logger: silentLogger, ready: () => true });
  servers.push(server);
  return server.listen(0);
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The Profile API behind the admin authorizer, and a collector-like route without one. */
async function profileApi() {
  const authorizer = counted(
    createAdminAuthorizerHandler({ keys: new AdminKeyRegistry(ADMIN_KEYS), logger: silentLogger }),
  );
  const store = janeGraph();
  const profiles = createProfileApiHandler({
    query: createProfileQuery({ store, identity: DEFAULT_IDENTITY_CONFIG }),
    logger: silentLogger,
  });
  const open = recordingHandler();
  const url = await serve([
    { prefix: '/v1/profiles/', handler: profiles, authorizer: { handler: authorizer.handler } },
    { prefix: '/v1/', handler: open.handler },
  ]);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, { headers });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  return { get, url, authorizer, store, open };
}

describe('ApiGatewayServer: Lambda authorizers as HTTP API runs them', () => {
  it('answers 401 {"message":"Unauthorized"} without calling the authorizer when the identity source is absent', async () => {
    const { get, authorizer, store } = await profileApi();
    expect(await get('/v1/profiles/email:jane@example.com')).toEqual({
      status: 401,
      json: { message: 'Unauthorized' },
    });
    expect(authorizer.events).toHaveLength(0);
    expect(store.calls.getOwners).toBe(0);
  });

  it('treats an empty identity source as absent (401)', async () => {
    const { get, authorizer } = await profileApi();
    expect((await get('/v1/profiles/email:jane@example.com', { authorization: '' })).status).toBe(401);
    expect(authorizer.events).toHaveLength(0);
  });

  it.each([
    ['an unknown key', bearer('mk_guess')],
    ['a revoked key', bearer(REVOKED_ADMIN_KEY)],
    ['a write key sent as HTTP Basic', `Basic ${Buffer.from('wk_web:').toString('base64')}`],
  ])('answers 403 {"message":"Forbidden"} without calling the handler for %s', async (_what, header) => {
    const { get, authorizer, store } = await profileApi();
    expect(await get('/v1/profiles/email:jane@example.com', { authorization: header })).toEqual({
      status: 403,
      json: { message: 'Forbidden' },
    });
    expect(authorizer.events).toHaveLength(1);
    expect(store.calls.getOwners).toBe(0);
  });

  it('calls the handler when the authorizer allows, with its context on requestContext.authorizer.lambda', async () => {
    const { get } = await profileApi();
    const response = await get('/v1/profiles/email:jane%40example.com', { authorization: bearer(ADMIN_KEY) });
    expect(response.status).toBe(200);
    expect(response.json.profileId).toBe(JANE_ID);
  });

  it('sends the authorizer a payload 2.0 REQUEST event with the identity source values', async () => {
    const { get, authorizer } = await profileApi();
    await get('/v1/profiles/user_id:u-jane/events?limit=2&limit=3', { authorization: bearer(ADMIN_KEY) });
    expect(authorizer.events[0]).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      identitySource: [bearer(ADMIN_KEY)],
      rawPath: '/v1/profiles/user_id:u-jane/events',
      rawQueryString: 'limit=2&limit=3',
      queryStringParameters: { limit: '2,3' },
      headers: { authorization: bearer(ADMIN_KEY) },
      requestContext: { http: { method: 'GET', path: '/v1/profiles/user_id:u-jane/events' } },
    });
  });

  it('names the route matched, not the path, as routeKey: a refused key is logged without the email looked up', async () => {
    const warnings: unknown[] = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, attributes?: object) => warnings.push({ message, ...attributes }),
    };
    const authorizer = createAdminAuthorizerHandler({ keys: new AdminKeyRegistry(ADMIN_KEYS), logger });
    const open = recordingHandler();
    const url = await serve([
      { prefix: '/v1/profiles/', handler: open.handler, authorizer: { handler: authorizer } },
      { prefix: '/v1/', handler: open.handler },
    ]);
    const refused = await fetch(`${url}/v1/profiles/email:secret.person%40example.com`, {
      headers: { authorization: bearer('mk_guess') },
    });
    expect(refused.status).toBe(403);
    expect(warnings).toEqual([
      expect.objectContaining({ message: 'admin key refused', routeKey: 'GET /v1/profiles/{proxy+}' }),
    ]);
    expect(JSON.stringify(warnings)).not.toContain('secret.person');
    await fetch(`${url}/v1/track`, { method: 'POST', body: '{}' });
    expect(open.events[0]?.routeKey).toBe('POST /v1/{proxy+}');
    expect(open.events[0]?.requestContext.routeKey).toBe('POST /v1/{proxy+}');
  });

  it('leaves routes without an authorizer open, and their events without authorizer context', async () => {
    const { url, open } = await profileApi();
    expect((await fetch(`${url}/v1/track`, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(open.events[0]?.requestContext).not.toHaveProperty('authorizer');
  });

  it.each([
    ['throws', async () => Promise.reject(new Error('boom'))],
    ['answers without a boolean isAuthorized', async () => ({ isAuthorized: 'yes' }) as never],
  ])('answers 500 {"message":"Internal Server Error"} when the authorizer %s', async (_what, authorize) => {
    const target = recordingHandler();
    const url = await serve([
      { prefix: '/v1/', handler: target.handler, authorizer: { handler: authorize } },
    ]);
    const response = await fetch(`${url}/v1/x`, { headers: { authorization: 'Bearer k' } });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(target.events).toHaveLength(0);
  });

  it('reads identity sources from query string parameters too, requiring every one', async () => {
    const target = recordingHandler();
    const authorizer = counted(async (event) => ({
      isAuthorized: event.identitySource.join('|') === 'k1|k2',
      context: { who: 'q' },
    }));
    const url = await serve([
      {
        prefix: '/v1/',
        handler: target.handler,
        authorizer: {
          handler: authorizer.handler,
          identitySource: ['$request.querystring.token', '$request.header.X-Key'],
        },
      },
    ]);
    expect((await fetch(`${url}/v1/x?token=k1`)).status).toBe(401);
    expect((await fetch(`${url}/v1/x`, { headers: { 'x-key': 'k2' } })).status).toBe(401);
    expect((await fetch(`${url}/v1/x?token=k1`, { headers: { 'x-key': 'nope' } })).status).toBe(403);
    expect((await fetch(`${url}/v1/x?token=k1`, { headers: { 'x-key': 'k2' } })).status).toBe(200);
    expect(authorizer.events).toHaveLength(2);
    expect(target.events.map((event) => event.requestContext)).toEqual([
      expect.objectContaining({ authorizer: { lambda: { who: 'q' } } }),
    ]);
  });

  it('refuses an identity source it cannot read when the server is built', () => {
    const handler = recordingHandler().handler;
    expect(
      () =>
        new ApiGatewayServer({
          routes: [
            {
              prefix: '/',
              handler,
              authorizer: {
                handler: async () => ({ isAuthorized: true }),
                identitySource: ['$context.identity.sourceIp'],
              },
            },
          ],
          logger: silentLogger,
          ready: () => true,
        }),
    ).toThrow(/Unsupported identity source/);
  });
});

describe('ApiGatewayServer: the path as HTTP API delivers it', () => {
  it.each([
    ['/v1/profiles/email:jane%40example.com', '/v1/profiles/email:jane@example.com'],
    ['/v1/profiles/phone:+14155552671', '/v1/profiles/phone:+14155552671'],
    ['/v1/profiles/phone:%2B14155552671', '/v1/profiles/phone:+14155552671'],
    ['/v1/profiles/anonymous_id:a%2Fb%2541', '/v1/profiles/anonymous_id:a/b%41'],
    ['/v1/profiles/user_id:J%C3%BCrgen%20K', '/v1/profiles/user_id:Jürgen K'],
  ])('hands %s to the handler as rawPath %s', async (sent, rawPath) => {
    const target = recordingHandler();
    const url = await serve([{ prefix: '/v1/', handler: target.handler }]);
    await fetch(`${url}${sent}?a=%40&b=1+2`);
    expect(target.events[0]).toMatchObject({
      rawPath,
      rawQueryString: 'a=%40&b=1+2',
      queryStringParameters: { a: '@', b: '1 2' },
      requestContext: { http: { path: rawPath } },
    });
    expect(decodePath(new URL(sent, 'http://x').pathname)).toBe(rawPath);
  });

  it('answers 400 for a malformed escape in the path, calling nothing', async () => {
    const target = recordingHandler();
    const url = await serve([{ prefix: '/v1/', handler: target.handler }]);
    const response = await fetch(`${url}/v1/profiles/user_id:100%zz`);
    expect(response.status).toBe(400);
    expect(target.events).toHaveLength(0);
  });

  it('serves the Profile API end to end with encoded identifiers and every sub-resource', async () => {
    const { get } = await profileApi();
    const auth = { authorization: bearer(ADMIN_KEY) };
    expect((await get('/v1/profiles/phone:+14155552671', auth)).json.profileId).toBe(JANE_ID);
    expect((await get('/v1/profiles/device_id:ios%3A4F2A%3A9', auth)).json.profileId).toBe(JANE_ID);
    expect((await get('/v1/profiles/anonymous_id:a%2Fb%2541', auth)).json.profileId).toBe(JANE_ID);
    expect(
      (await get('/v1/profiles/email:jane%40example.com/events?limit=3', auth)).json.events,
    ).toHaveLength(3);
    expect((await get('/v1/profiles/email:jane%40example.com/merges', auth)).json.merges).toHaveLength(5);
    expect((await get('/v1/profiles/email:nobody%40example.com', auth)).status).toBe(404);
  });
});

describe('ApiGatewayServer: the scheme and host as HTTP API tells them', () => {
  it('says the client used http (X-Forwarded-Proto) and names the Host it addressed as domainName', async () => {
    const target = recordingHandler();
    const url = await serve([{ prefix: '/v1/', handler: target.handler }]);
    await fetch(`${url}/v1/projects/k/settings`);
    expect(target.events[0]?.headers['x-forwarded-proto']).toBe('http');
    expect(target.events[0]?.requestContext.domainName).toBe(new URL(url).host);
  });

  it('keeps the X-Forwarded-Proto of a proxy that terminates TLS in front of it', async () => {
    const target = recordingHandler();
    const url = await serve([{ prefix: '/v1/', handler: target.handler }]);
    await fetch(`${url}/v1/projects/k/settings`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(target.events[0]?.headers['x-forwarded-proto']).toBe('https');
  });
});

describe('ApiGatewayServer: GET and HEAD /health', () => {
  it.each([
    [true, 200, { status: 'ok' }],
    [false, 503, { status: 'starting' }],
  ])(
    'answers ready=%s with %i, the status in the body of a GET and none for a HEAD',
    async (ready, status, body) => {
      const server = new ApiGatewayServer({ routes: [], logger: silentLogger, ready: () => ready });
      servers.push(server);
      const base = await server.listen(0);
      const get = await fetch(`${base}/health`);
      expect(get.status).toBe(status);
      expect(await get.json()).toEqual(body);
      const head = await fetch(`${base}/health`, { method: 'HEAD' });
      expect(head.status).toBe(status);
      expect(await head.text()).toBe('');
    },
  );
});
