import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import type { AdminKeyRegistry } from '../../src/core/auth/admin-keys';
import type { Logger } from '../../src/ports/logger';

export interface AdminAuthorizerDeps {
  readonly keys: AdminKeyRegistry;
  readonly logger: Logger;
}

/** What the Profile API handler finds on `event.requestContext.authorizer.lambda`. */
export interface AdminAuthorizerContext {
  /** The name of the admin key holder (`AdminKeysConfig[].name`). */
  readonly adminKey: string;
}

/** A simple response (HTTP API Lambda authorizer, payload format 2.0, `enableSimpleResponses`). */
export type AdminAuthorizerResult =
  | { readonly isAuthorized: true; readonly context: AdminAuthorizerContext }
  | { readonly isAuthorized: false };

export type AdminAuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<AdminAuthorizerResult>;

/**
 * The admin-key authorizer of the Profile API routes: reads `Authorization: Bearer <key>` and allows
 * the request when the key is an active admin key, passing the holder's name on as `adminKey`.
 * API Gateway answers a refusal itself (403 `{"message":"Forbidden"}`; 401 when the header is absent,
 * before this function is called). Refusals are logged with their reason, never with the key.
 */
export function createAdminAuthorizerHandler(deps: AdminAuthorizerDeps): AdminAuthorizerHandler {
  return async (event) => {
    const check = deps.keys.check(event.headers?.authorization);
    if (check.ok) return { isAuthorized: true, context: { adminKey: check.name } };
    deps.logger.warn('admin key refused', {
      reason: check.reason,
      requestId: event.requestContext.requestId,
      routeKey: event.routeKey,
    });
    return { isAuthorized: false };
  };
}
