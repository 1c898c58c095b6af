import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdminAuthorizerHandler } from '../../functions/admin-authorizer/handler';
import { AdminKeyRegistry } from '../../src/core/auth/admin-keys';
import { hashKey } from '../../src/core/auth/hashed-keys';
import { ConfigError } from '../../src/core/errors';
import { adminAuthorizerEvent } from '../support/admin-api-events';
import { ADMIN_KEY, ADMIN_KEYS, bearer, OPS_ADMIN_KEY, REVOKED_ADMIN_KEY } from '../support/admin-keys';
import { lambdaContext } from '../support/api-gateway-event';
import { RecordingLogger } from '../support/recording-logger';

function setup() {
  const logger = new RecordingLogger();
  return {
    logger,
    handler: createAdminAuthorizerHandler({ keys: new AdminKeyRegistry(ADMIN_KEYS), logger }),
  };
}

describe('admin authorizer (HTTP API Lambda authorizer, simple responses)', () => {
  it.each([
    [ADMIN_KEY, 'support'],
    [OPS_ADMIN_KEY, 'ops'],
  ])('allows an active admin key and names its holder as adminKey', async (key, name) => {
    const { handler, logger } = setup();
    const result = await handler(adminAuthorizerEvent({ authorization: bearer(key) }));
    expect(result).toEqual({ isAuthorized: true, context: { adminKey: name } });
    expect(logger.lines).toEqual([]);
  });

  it.each([
    ['missing', {}],
    ['malformed', { authorization: `Basic ${Buffer.from(`${ADMIN_KEY}:`).toString('base64')}` }],
    ['unknown', { authorization: bearer('mk_guess') }],
    ['revoked', { authorization: bearer(REVOKED_ADMIN_KEY) }],
  ])('refuses a %s key, logging the reason but never the key', async (reason, headers) => {
    const { handler, logger } = setup();
    const result = await handler(adminAuthorizerEvent(headers));
    expect(result).toEqual({ isAuthorized: false });
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'admin key refused',
        attributes: { reason, requestId: 'req-1', routeKey: 'GET /v1/profiles/{proxy+}' },
      },
    ]);
    expect(logger.text()).not.toMatch(/mk_/);
  });

  it('passes no context on a refusal (API Gateway answers 403 itself)', async () => {
    const { handler } = setup();
    expect(await handler(adminAuthorizerEvent({ authorization: bearer('nope') }))).not.toHaveProperty(
      'context',
    );
  });
});

describe('admin authorizer Lambda entry (functions/admin-authorizer/index.ts)', () => {
  type Entry = (event: unknown, context: Context) => Promise<unknown>;
  const coldStart = async (): Promise<Entry> => {
    vi.resetModules();
    return (await import('../../functions/admin-authorizer/index')).handler as unknown as Entry;
  };

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('reads MOSAIC_ADMIN_KEYS at cold start and authorizes with them', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.stubEnv('MOSAIC_ADMIN_KEYS', JSON.stringify([{ name: 'crm-sync', keyHashes: [hashKey('mk_crm')] }]));
    const handler = await coldStart();
    expect(await handler(adminAuthorizerEvent({ authorization: bearer('mk_crm') }), lambdaContext())).toEqual(
      {
        isAuthorized: true,
        context: { adminKey: 'crm-sync' },
      },
    );
    expect(
      await handler(adminAuthorizerEvent({ authorization: bearer(ADMIN_KEY) }), lambdaContext()),
    ).toEqual({
      isAuthorized: false,
    });
  });

  it.each([
    ['missing', undefined, /MOSAIC_ADMIN_KEYS/],
    ['not JSON', '[{name: ops}]', /MOSAIC_ADMIN_KEYS.*not valid JSON/],
    [
      'a raw key instead of a hash',
      '[{"name":"ops","keyHashes":["mk_ops"]}]',
      /MOSAIC_ADMIN_KEYS.*0\.keyHashes\.0/,
    ],
    ['an empty list', '[]', /MOSAIC_ADMIN_KEYS/],
  ])('fails the cold start naming MOSAIC_ADMIN_KEYS when it is %s', async (_what, value, message) => {
    vi.stubEnv('MOSAIC_ADMIN_KEYS', value);
    const failure = await coldStart().then(
      () => undefined,
      (error: unknown) => error,
    );
    // The module graph was loaded afresh: the error's class is not this file's ConfigError.
    expect(failure).toMatchObject({ name: ConfigError.name, message: expect.stringMatching(message) });
  });
});
