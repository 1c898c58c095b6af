import { z } from 'zod';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { functionEnv } from '../shared/bundled-config';

/**
 * The Profile API Lambda's environment, read once at cold start; a missing or malformed variable
 * fails the cold start naming it.
 */
export const ProfileApiEnv = z.object({
  /** The identity table (`src/adapters/aws/identity-table.ts`), read only. */
  IDENTITY_TABLE_NAME: z.string().min(1),
  /**
   * JSON identity configuration (`IdentityConfig`), the same the resolver runs with, so lookups
   * normalise values as the resolver does; `{}` is the default identifier types.
   */
  MOSAIC_IDENTITY: z
    .string()
    .default('{}')
    .transform((text, ctx) => jsonOf(text, IdentityConfig, ctx)),
});
export type ProfileApiEnv = z.infer<typeof ProfileApiEnv>;

export const readProfileApiEnv = (env: NodeJS.ProcessEnv = functionEnv()): ProfileApiEnv =>
  parseEnv(ProfileApiEnv, env);
