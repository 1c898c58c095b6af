import type { WebhookAuth, WebhookDestination } from './destination-config';
import { SIGNATURE_HEADER, signatureHeader } from './signing';

/**
 * The HTTP requests of webhook delivery, built without I/O from secrets the adapter has resolved
 * (`secretRef` → value): the batch request with its auth, idempotency and signature headers, and the
 * OAuth 2.0 client-credentials token request (RFC 6749 §4.4) with its response read.
 *
 * Each attempt is signed afresh at its own time (so a long series of retries never falls outside a
 * receiver's tolerance) under the same `Idempotency-Key` (so the receiver still dedupes it).
 */

export interface HttpRequest {
  readonly method: 'POST' | 'PUT';
  readonly url: string;
  /** Header names in their usual casing; values never logged (they hold credentials). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const USER_AGENT = 'Mosaic-Activation/1';

/** The credential an auth method needs at send time, resolved by the adapter. */
export type ResolvedAuth =
  | { readonly type: 'none' }
  | { readonly type: 'api_key'; readonly secret: string }
  | { readonly type: 'basic'; readonly secret: string }
  /** A current access token (see {@link tokenRequest} and {@link readTokenResponse}). */
  | { readonly type: 'oauth_client_credentials'; readonly accessToken: string };

/** The auth header of a destination's auth method with its resolved credential. */
export function authHeaders(auth: WebhookAuth, resolved: ResolvedAuth): Record<string, string> {
  if (auth.type !== resolved.type) {
    throw new TypeError(`the credential is for ${resolved.type} but the destination uses ${auth.type}`);
  }
  switch (auth.type) {
    case 'none':
      return {};
    case 'api_key':
      return { [auth.header]: (resolved as { secret: string }).secret };
    case 'basic':
      return {
        Authorization: `Basic ${base64(`${auth.username}:${(resolved as { secret: string }).secret}`)}`,
      };
    case 'oauth_client_credentials':
      return { Authorization: `Bearer ${(resolved as { accessToken: string }).accessToken}` };
  }
}

export interface WebhookRequestInput {
  readonly destination: Pick<WebhookDestination, 'url' | 'method' | 'auth'>;
  /** The payload as JSON text: exactly the bytes sent and signed. */
  readonly body: string;
  readonly idempotencyKey: string;
  readonly auth: ResolvedAuth;
  /** The signing secret(s), resolved from `signingSecretRef`; the request is unsigned without. */
  readonly signingSecrets?: string | readonly string[];
  /** Unix seconds of this attempt. */
  readonly nowSeconds: number;
}

/** One attempt's request: JSON body, auth, `Idempotency-Key` and, when signing, `Mosaic-Signature`. */
export function webhookRequest(input: WebhookRequestInput): HttpRequest {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    ...authHeaders(input.destination.auth, input.auth),
    [IDEMPOTENCY_KEY_HEADER]: input.idempotencyKey,
  };
  if (input.signingSecrets !== undefined) {
    headers[SIGNATURE_HEADER] = signatureHeader(input.body, input.signingSecrets, input.nowSeconds);
  }
  return { method: input.destination.method, url: input.destination.url, headers, body: input.body };
}

/**
 * The token request of OAuth client credentials: form-encoded `grant_type=client_credentials` (and
 * `scope`), the client authenticated with HTTP Basic as RFC 6749 §2.3.1 asks (id and secret
 * form-urlencoded first).
 */
export function tokenRequest(
  auth: Extract<WebhookAuth, { type: 'oauth_client_credentials' }>,
  clientSecret: string,
): HttpRequest {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  const credentials = `${formEncode(auth.clientId)}:${formEncode(clientSecret)}`;
  return {
    method: 'POST',
    url: auth.tokenUrl,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      Authorization: `Basic ${base64(credentials)}`,
    },
    body: form.toString(),
  };
}

export interface AccessToken {
  readonly accessToken: string;
  /** Ms since the epoch after which the token is not used (its lifetime less a margin). */
  readonly expiresAt: number;
}

/** Seconds before a token's stated expiry at which it is no longer used (clock skew, request time). */
export const TOKEN_EXPIRY_MARGIN_SECONDS = 60;
/** Lifetime assumed when the server states none. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;

/**
 * Reads a token endpoint's JSON answer (received at `nowMs`): a bearer `access_token` and its
 * `expires_in`. `undefined` when it is not one (an error answer, another token type).
 */
export function readTokenResponse(json: unknown, nowMs: number): AccessToken | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { access_token: token, token_type: type, expires_in: expiresIn } = json as Record<string, unknown>;
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) return undefined;
  if (typeof type !== 'string' || type.toLowerCase() !== 'bearer') return undefined;
  const lifetime =
    typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
      ? expiresIn
      : DEFAULT_TOKEN_LIFETIME_SECONDS;
  const usable = Math.max(0, lifetime - Math.min(TOKEN_EXPIRY_MARGIN_SECONDS, lifetime / 2));
  return { accessToken: token, expiresAt: nowMs + usable * 1000 };
}

/** Whether a cached token may still be used at `nowMs`. */
export function isTokenFresh(token: AccessToken | undefined, nowMs: number): token is AccessToken {
  return token !== undefined && nowMs < token.expiresAt;
}

function formEncode(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
