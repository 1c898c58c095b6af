import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The one client configuration every AWS SDK client in Mosaic shares: tight timeouts (a collector
 * must answer well within API Gateway's 30 s), the SDK's adaptive retries, keep-alive, an endpoint
 * override for emulators, and each command's middleware chain built once per client and command class
 * (`cacheMiddleware`) instead of on every call. Mosaic adds no middleware to single commands, the one
 * thing that option rules out (it is why the DynamoDB adapters do not use lib-dynamodb).
 */
export interface SdkClientOptions {
  readonly region?: string;
  /** For emulators (DynamoDB Local, dynalite): e.g. http://127.0.0.1:8000. */
  readonly endpoint?: string;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
}

export function sdkClientConfig(options: SdkClientOptions = {}) {
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? 3,
    retryMode: 'adaptive' as const,
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 1000,
      requestTimeout: options.requestTimeoutMs ?? 3000,
    }),
  };
}
