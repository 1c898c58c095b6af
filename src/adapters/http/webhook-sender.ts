import type { WebhookDestination } from '../../core/activation/destination-config';
import type { HttpOutcome } from '../../core/activation/http-retry';
import {
  type AccessToken,
  isTokenFresh,
  type ResolvedAuth,
  readTokenResponse,
  tokenRequest,
  webhookRequest,
} from '../../core/activation/webhook-request';
import { type Clock, systemClock } from '../../ports/clock';
import type { DestinationSender, OutboundBatch, SecretResolver } from '../../ports/destination-sender';

export interface WebhookSenderOptions {
  readonly destination: WebhookDestination;
  readonly secrets: SecretResolver;
  /** Signs each attempt at its own time. Default the system clock. */
  readonly clock?: Clock;
  /** Default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * Sends a batch to a webhook with Node's `fetch`: the payload as JSON, auth from resolved secrets,
 * `Idempotency-Key`, and a `Mosaic-Signature` made afresh for each attempt; the destination's timeout;
 * redirects not followed (a 3xx is reported, and is permanent). Reports the status and `Retry-After`,
 * or a network error's code — never a header, body or secret.
 */
export class WebhookSender implements DestinationSender {
  private readonly destination: WebhookDestination;
  private readonly secrets: SecretResolver;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;
  private token: AccessToken | undefined;

  constructor(options: WebhookSenderOptions) {
    this.destination = options.destination;
    this.secrets = options.secrets;
    this.clock = options.clock ?? systemClock;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const auth = await this.resolveAuth();
    if ('kind' in auth) return auth;
    const signingSecretRef = this.destination.signingSecretRef;
    const request = webhookRequest({
      destination: this.destination,
      body: JSON.stringify(batch.payload),
      idempotencyKey: batch.context.idempotencyKey,
      auth,
      ...(signingSecretRef === undefined
        ? {}
        : { signingSecrets: await this.secrets.resolve(signingSecretRef) }),
      nowSeconds: Math.floor(this.clock.now() / 1000),
    });
    return this.call(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  }

  private async call(url: string, init: RequestInit): Promise<HttpOutcome> {
    try {
      const response = await this.fetch(url, {
        ...init,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.destination.timeoutMs),
      });
      // The body is not needed: release the connection.
      await response.body?.cancel().catch(() => undefined);
      const retryAfter = response.headers.get('retry-after');
      return {
        kind: 'response',
        status: response.status,
        ...(retryAfter === null ? {} : { retryAfter }),
      };
    } catch (error) {
      return { kind: 'network_error', code: errorCode(error) };
    }
  }

  /** The credential of this attempt, or the outcome of a token request that failed. */
  private async resolveAuth(): Promise<ResolvedAuth | HttpOutcome> {
    const auth = this.destination.auth;
    switch (auth.type) {
      case 'none':
        return { type: 'none' };
      case 'api_key':
      case 'basic':
        return { type: auth.type, secret: await this.secrets.resolve(auth.secretRef) };
      case 'oauth_client_credentials': {
        if (isTokenFresh(this.token, this.clock.now())) {
          return { type: auth.type, accessToken: this.token.accessToken };
        }
        const request = tokenRequest(auth, await this.secrets.resolve(auth.secretRef));
        try {
          const response = await this.fetch(request.url, {
            method: request.method,
            headers: request.headers,
            body: request.body,
            redirect: 'manual',
            signal: AbortSignal.timeout(this.destination.timeoutMs),
          });
          if (response.status < 200 || response.status > 299) {
            await response.body?.cancel().catch(() => undefined);
            return { kind: 'response', status: response.status };
          }
          const token = readTokenResponse(await response.json(), this.clock.now());
          if (token === undefined) return { kind: 'network_error', code: 'oauth_token_unreadable' };
          this.token = token;
          return { type: auth.type, accessToken: token.accessToken };
        } catch (error) {
          return { kind: 'network_error', code: errorCode(error) };
        }
      }
    }
  }
}

/** A network error's code (`ECONNREFUSED`, `TimeoutError`), without its message (it may hold the URL). */
function errorCode(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'TimeoutError';
    const cause = (error as { cause?: unknown }).cause;
    const code = (cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    return error.name;
  }
  return 'unknown';
}
