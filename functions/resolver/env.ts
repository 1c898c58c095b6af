import { z } from 'zod';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { functionEnv } from '../shared/bundled-config';

/**
 * The resolver Lambda's environment, read once at cold start; a missing or malformed variable fails
 * the cold start naming it (the event source mapping then retries: nothing is lost).
 */
export const ResolverEnv = z.object({
  /** The identity table (`src/adapters/aws/identity-table.ts`). */
  IDENTITY_TABLE_NAME: z.string().min(1),
  /** Firehose delivery stream (DirectPut) into the lake's `identity_links/`. */
  IDENTITY_LINKS_DELIVERY_STREAM_NAME: z.string().min(1),
  /** EventBridge bus that `Profile Merged` goes to. */
  EVENT_BUS_NAME: z.string().min(1),
  /** JSON identity configuration (`IdentityConfig`); `{}` is the default identifier types. */
  MOSAIC_IDENTITY: z
    .string()
    .default('{}')
    .transform((text, ctx) => jsonOf(text, IdentityConfig, ctx)),
});
export type ResolverEnv = z.infer<typeof ResolverEnv>;

export const readResolverEnv = (env: NodeJS.ProcessEnv = functionEnv()): ResolverEnv =>
  parseEnv(ResolverEnv, env);
