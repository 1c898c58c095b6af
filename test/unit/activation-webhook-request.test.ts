import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/core/activation/signing';
import {
  authHeaders,
  isTokenFresh,
  readTokenResponse,
  tokenRequest,
  webhookRequest,
} from '../../src/core/activation/webhook-request';

const destination = {
  url: 'https://api.esp.example/lists/1/members',
  method: 'POST' as const,
  auth: { type: 'api_key' as const, header: 'X-Api-Key', secretRef: 'esp-key' },
};
const body = '{"members":[]}';

describe('webhook requests', () => {
  it('carry the JSON body as it is, auth, the idempotency key and a signature the receiver verifies', () => {
    const request = webhookRequest({
      destination,
      body,
      idempotencyKey: 'k-1',
      auth: { type: 'api_key', secret: 'esp-secret-value' },
      signingSecrets: 'whsec',
      nowSeconds: 1_795_000_000,
    });
    expect(request).toMatchObject({ method: 'POST', url: destination.url, body });
    expect(request.headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Api-Key': 'esp-secret-value',
      'Idempotency-Key': 'k-1',
    });
    const verified = verifySignature(body, request.headers['Mosaic-Signature'], 'whsec', 1_795_000_010_000);
    expect(verified.ok).toBe(true);
  });

  it('a retry is signed at its own time under the same idempotency key', () => {
    const attempt = (nowSeconds: number) =>
      webhookRequest({
        destination,
        body,
        idempotencyKey: 'k-1',
        auth: { type: 'api_key', secret: 's' },
        signingSecrets: 'w',
        nowSeconds,
      });
    const first = attempt(1_795_000_000);
    const later = attempt(1_795_003_600);
    expect(later.headers['Idempotency-Key']).toBe(first.headers['Idempotency-Key']);
    expect(later.headers['Mosaic-Signature']).not.toBe(first.headers['Mosaic-Signature']);
    expect(verifySignature(body, later.headers['Mosaic-Signature'], 'w', 1_795_003_600_000).ok).toBe(true);
  });

  it('is unsigned without a signing secret', () => {
    const request = webhookRequest({
      destination: { ...destination, auth: { type: 'none' } },
      body,
      idempotencyKey: 'k',
      auth: { type: 'none' },
      nowSeconds: 1,
    });
    expect(request.headers['Mosaic-Signature']).toBeUndefined();
    expect(Object.keys(request.headers).sort()).toEqual(['Content-Type', 'Idempotency-Key', 'User-Agent']);
  });
});

describe('auth headers', () => {
  it('basic: base64 of username:secret', () => {
    expect(
      authHeaders({ type: 'basic', username: 'mosaic', secretRef: 'r' }, { type: 'basic', secret: 'pa:ss' }),
    ).toEqual({
      Authorization: `Basic ${Buffer.from('mosaic:pa:ss').toString('base64')}`,
    });
  });

  it('oauth: the bearer token', () => {
    const auth = {
      type: 'oauth_client_credentials' as const,
      tokenUrl: 'https://a.example/t',
      clientId: 'c',
      secretRef: 'r',
    };
    expect(authHeaders(auth, { type: 'oauth_client_credentials', accessToken: 'tok' })).toEqual({
      Authorization: 'Bearer tok',
    });
  });

  it('refuses a credential of another method', () => {
    expect(() => authHeaders(destination.auth, { type: 'basic', secret: 's' })).toThrow(TypeError);
  });
});

describe('OAuth client credentials', () => {
  const auth = {
    type: 'oauth_client_credentials' as const,
    tokenUrl: 'https://auth.example/oauth/token',
    clientId: 'mosaic client',
    secretRef: 'r',
    scope: 'audiences:write',
  };

  it('asks for a token with the grant and scope in the form, the client in Basic auth (form-encoded)', () => {
    const request = tokenRequest(auth, 's3cr&t');
    expect(request).toMatchObject({ method: 'POST', url: auth.tokenUrl });
    expect(new URLSearchParams(request.body).get('grant_type')).toBe('client_credentials');
    expect(new URLSearchParams(request.body).get('scope')).toBe('audiences:write');
    expect(request.body).not.toContain('s3cr');
    expect(request.headers.Authorization).toBe(
      `Basic ${Buffer.from('mosaic+client:s3cr%26t').toString('base64')}`,
    );
    expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
  });

  it('reads a bearer token and uses it until a minute before it expires', () => {
    const token = readTokenResponse(
      { access_token: 'tok', token_type: 'Bearer', expires_in: 3600 },
      1_000_000,
    );
    expect(token).toEqual({ accessToken: 'tok', expiresAt: 1_000_000 + 3_540_000 });
    expect(isTokenFresh(token, 1_000_000 + 3_539_999)).toBe(true);
    expect(isTokenFresh(token, 1_000_000 + 3_540_000)).toBe(false);
    expect(isTokenFresh(undefined, 0)).toBe(false);
  });

  it('a short-lived token keeps half its life; no expires_in means 5 minutes', () => {
    expect(readTokenResponse({ access_token: 't', token_type: 'bearer', expires_in: 60 }, 0)?.expiresAt).toBe(
      30_000,
    );
    expect(readTokenResponse({ access_token: 't', token_type: 'bearer' }, 0)?.expiresAt).toBe(240_000);
  });

  it.each([
    ['an error answer', { error: 'invalid_client' }],
    ['another token type', { access_token: 't', token_type: 'mac' }],
    ['an empty token', { access_token: '', token_type: 'bearer' }],
    [
      'a token with a line break (header injection)',
      { access_token: 't\r\nX-Evil: 1', token_type: 'bearer' },
    ],
    ['not an object', 'tok'],
  ])('refuses %s', (_, json) => {
    expect(readTokenResponse(json, 0)).toBeUndefined();
  });
});
