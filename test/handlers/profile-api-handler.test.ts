import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createProfileApiHandler } from '../../functions/profile-api/handler';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { createProfileQuery } from '../../src/use-cases/profile-query';
import { type AdminApiRequestSpec, adminApiEvent } from '../support/admin-api-events';
import type { MemoryProfileReader } from '../support/memory-profile-reader';
import { ANON_ID, at, JANE_ID, janeGraph, OLD_ID } from '../support/profile-fixtures';
import { RecordingLogger } from '../support/recording-logger';

function setup(store: MemoryProfileReader = janeGraph()) {
  const logger = new RecordingLogger();
  const handler = createProfileApiHandler({
    query: createProfileQuery({ store, identity: DEFAULT_IDENTITY_CONFIG }),
    logger,
  });
  const get = async (url: string, spec: AdminApiRequestSpec = {}) => {
    const result = (await handler(adminApiEvent(url, spec))) as APIGatewayProxyStructuredResultV2;
    return { ...result, json: JSON.parse(result.body ?? 'null') as Record<string, unknown> };
  };
  return { handler, get, logger, store };
}

const errorCode = (json: Record<string, unknown>) => (json.error as { code?: string } | undefined)?.code;

describe('GET /v1/profiles/{type}:{value}', () => {
  it('answers 200 with the profile view, as JSON nobody may cache', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/email:jane@example.com');
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    expect(response.json).toMatchObject({
      profileId: JANE_ID,
      traits: { name: 'Jane', plan: 'pro' },
      computed: { eventCount: 26, lastSeen: at(31) },
      segments: [],
      consent: { Advertising: false, Analytics: true },
      firstSeen: at(1),
      lastSeen: at(31),
      mergedFrom: [ANON_ID, OLD_ID],
    });
    expect(response.json).not.toHaveProperty('seen');
  });

  it.each([
    ['an encoded @ (%40)', '/v1/profiles/email:jane%40example.com'],
    ['an address in other case, encoded', '/v1/profiles/email:Jane%40Example.COM'],
    ['a literal + in a phone number', '/v1/profiles/phone:+14155552671'],
    ['an encoded + (%2B)', '/v1/profiles/phone:%2B14155552671'],
    ['a formatted phone number with encoded spaces', '/v1/profiles/phone:%2B1%20(415)%20555-2671'],
    ['a value with : in it', '/v1/profiles/device_id:ios:4F2A:9'],
    ['a value with encoded : (%3A)', '/v1/profiles/device_id:ios%3A4F2A%3A9'],
    ['an encoded : between type and value', '/v1/profiles/user_id%3Au-jane'],
    [
      'a value with an encoded / and a literal %41 (%2F, %2541): decoded once, never twice',
      '/v1/profiles/anonymous_id:a%2Fb%2541',
    ],
    ['the profile id', `/v1/profiles/profile_id:${JANE_ID}`],
    ['the id of a profile merged into it (two redirects)', `/v1/profiles/profile_id:${OLD_ID}`],
    ['an identifier still pointing at a retired profile', '/v1/profiles/anonymous_id:anon-old'],
  ])('finds Jane by %s', async (_what, url) => {
    const { get } = setup();
    const response = await get(url);
    expect(response.statusCode).toBe(200);
    expect(response.json.profileId).toBe(JANE_ID);
  });

  it('reads a + in the path as a +, never as a space (a path is not a form)', async () => {
    const { get, store } = setup();
    store.own({ type: 'user_id', value: 'u+jane' }, JANE_ID);
    expect((await get('/v1/profiles/user_id:u+jane')).statusCode).toBe(200);
    expect((await get('/v1/profiles/user_id:u%2Bjane')).statusCode).toBe(200);
    expect((await get('/v1/profiles/user_id:u%20jane')).statusCode).toBe(404);
  });

  it.each([
    ['an unknown type', '/v1/profiles/fax:123', 'unknown_identifier_type', /Unknown identifier type "fax"/],
    ['a type in the wrong case', '/v1/profiles/Email:jane@example.com', 'unknown_identifier_type', /Email/],
    ['no type', '/v1/profiles/jane@example.com', 'invalid_identifier', /\{type\}:\{value\}/],
    ['an empty type', '/v1/profiles/:jane@example.com', 'invalid_identifier', /\{type\}:\{value\}/],
    ['a placeholder value', '/v1/profiles/user_id:null', 'invalid_identifier', /blocked \(value:null\)/],
    ['an empty value', '/v1/profiles/email:', 'invalid_identifier', /blocked \(empty\)/],
    ['an address without @', '/v1/profiles/email:jane.example.com', 'invalid_identifier', /invalid/],
    [
      'a value too long for its type',
      `/v1/profiles/user_id:${'u'.repeat(600)}`,
      'invalid_identifier',
      /too long/,
    ],
  ])('answers 400 for %s, saying why', async (_what, url, code, message) => {
    const { get, store } = setup();
    const response = await get(url);
    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({
      success: false,
      error: { code, message: expect.stringMatching(message) },
    });
    expect(store.calls.getOwners).toBe(0);
  });

  it('answers 404 profile_not_found for an identifier no profile has', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/email:nobody%40example.com');
    expect(response.statusCode).toBe(404);
    expect(response.json).toEqual({
      success: false,
      error: { code: 'profile_not_found', message: 'No profile has this identifier' },
    });
  });

  it.each(['/v1/profiles/', '/v1/profiles', '/v1/profile/email:jane@example.com', '/v2/profiles/email:x'])(
    'answers 404 not_found for the path %s',
    async (url) => {
      const { get } = setup();
      const response = await get(url);
      expect(response.statusCode).toBe(404);
      expect(errorCode(response.json)).toBe('not_found');
    },
  );

  it.each(['DELETE', 'POST', 'PUT', 'HEAD'])('answers 405 to %s, allowing GET', async (method) => {
    const { get, store } = setup();
    const response = await get('/v1/profiles/email:jane@example.com', { method });
    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ allow: 'GET', 'cache-control': 'no-store' });
    expect(errorCode(response.json)).toBe('method_not_allowed');
    expect(store.calls.getOwners).toBe(0);
  });
});

describe('defence in depth: the handler itself refuses requests without the authorizer’s admin key', () => {
  it.each([
    ['no authorizer ran', null],
    ['the authorizer context has no adminKey', { other: 'x' }],
    ['adminKey is empty', { adminKey: '' }],
    ['adminKey is not a string', { adminKey: 42 }],
  ])('answers 401 when %s, reading nothing', async (_what, authorizer) => {
    const { get, store } = setup();
    const response = await get('/v1/profiles/email:jane@example.com', { authorizer });
    expect(response.statusCode).toBe(401);
    expect(errorCode(response.json)).toBe('unauthorized');
    expect(store.calls).toEqual({ getOwners: 0, getProfiles: 0, listLedger: 0 });
  });

  it('answers 401 before 404 or 405, so nothing about the API shows without a key', async () => {
    const { get } = setup();
    expect((await get('/v1/nothing', { authorizer: null })).statusCode).toBe(401);
    expect((await get('/v1/profiles/email:x', { authorizer: null, method: 'DELETE' })).statusCode).toBe(401);
  });
});

describe('GET /v1/profiles/{type}:{value}/events', () => {
  const ids = (json: Record<string, unknown>) =>
    (json.events as { messageId: string }[]).map((e) => e.messageId);

  it('lists the last 20 events by default, newest first', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/user_id:u-jane/events');
    expect(response.statusCode).toBe(200);
    expect(response.json.profileId).toBe(JANE_ID);
    expect(ids(response.json)).toHaveLength(20);
    expect(ids(response.json).slice(0, 2)).toEqual(['m-view-21', 'm-view-20']);
  });

  it.each([
    ['1', 1],
    ['5', 5],
    ['50', 26],
    ['007', 7],
  ])('honours limit=%s', async (limit, count) => {
    const { get } = setup();
    const response = await get(`/v1/profiles/user_id:u-jane/events?limit=${limit}`);
    expect(response.statusCode).toBe(200);
    expect(ids(response.json)).toHaveLength(count);
  });

  it('finds the profile through a value with : before the sub-resource', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/device_id:ios:4F2A:9/events?limit=2');
    expect(ids(response.json)).toEqual(['m-view-21', 'm-view-20']);
  });

  it.each(['0', '51', '-1', '5.5', 'abc', '', '1e1', '5&limit=6', '99999'])(
    'answers 400 invalid_limit for limit=%s',
    async (limit) => {
      const { get } = setup();
      const response = await get(`/v1/profiles/user_id:u-jane/events?limit=${limit}`);
      expect(response.statusCode).toBe(400);
      expect(errorCode(response.json)).toBe('invalid_limit');
    },
  );

  it('answers 404 for the events of an unknown identifier', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/user_id:nobody/events');
    expect(response.statusCode).toBe(404);
    expect(errorCode(response.json)).toBe('profile_not_found');
  });
});

describe('GET /v1/profiles/{type}:{value}/merges', () => {
  it('lists the ledger entries of the profile and of every profile merged into it, oldest first', async () => {
    const { get } = setup();
    const response = await get('/v1/profiles/email:jane%40example.com/merges');
    expect(response.statusCode).toBe(200);
    const merges = response.json.merges as { id: string; to: string; reason: string }[];
    expect(merges.map((entry) => entry.id)).toEqual(['l-1', 'l-2', 'l-3', 'l-4', 'l-5']);
    expect(merges.map((entry) => entry.to)).toEqual([OLD_ID, ANON_ID, JANE_ID, JANE_ID, JANE_ID]);
    expect(merges[4]).toMatchObject({ reason: 'dropped_by_limit', detail: 'user_id limit 1 (would hold 2)' });
  });

  it('answers the same from a merged profile’s id', async () => {
    const { get } = setup();
    const response = await get(`/v1/profiles/profile_id:${OLD_ID}/merges`);
    expect((response.json.merges as { id: string }[]).map((entry) => entry.id)).toHaveLength(5);
  });
});

describe('failures', () => {
  it('answers 500 without details when the store cannot be read, and logs it without PII', async () => {
    const { get, store, logger } = setup();
    store.failure = new Error('ECONNRESET');
    const response = await get('/v1/profiles/email:jane@example.com');
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({
      success: false,
      error: { code: 'internal_error', message: 'Internal error' },
    });
    expect(logger.lines.some((line) => line.level === 'error')).toBe(true);
    expect(logger.text()).not.toContain('jane@example.com');
  });

  it('answers 500 profile_redirect_broken for a redirect cycle', async () => {
    const { get, store } = setup();
    store.putRetired('p_a', 'p_b').putRetired('p_b', 'p_a');
    const response = await get('/v1/profiles/profile_id:p_a');
    expect(response.statusCode).toBe(500);
    expect(errorCode(response.json)).toBe('profile_redirect_broken');
    expect((response.json.error as { message: string }).message).not.toContain('p_a');
  });
});

describe('access log', () => {
  it('logs who read which kind of identifier and the outcome, never the value', async () => {
    const { get, logger } = setup();
    await get('/v1/profiles/email:jane@example.com/events', { authorizer: { adminKey: 'ops' } });
    await get('/v1/profiles/email:nobody@example.com');
    await get('/v1/profiles/jane@example.com:x');
    const access = logger.lines.filter((line) => line.message === 'profile request').map((l) => l.attributes);
    expect(access).toEqual([
      { requestId: 'req-1', adminKey: 'ops', view: 'events', identifierType: 'email', statusCode: 200 },
      { requestId: 'req-1', adminKey: 'support', view: 'profile', identifierType: 'email', statusCode: 404 },
      {
        requestId: 'req-1',
        adminKey: 'support',
        view: 'profile',
        identifierType: undefined,
        statusCode: 400,
      },
    ]);
    expect(logger.text()).not.toMatch(/jane@example\.com|nobody/);
  });
});
