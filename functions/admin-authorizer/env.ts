import { z } from 'zod';
import { AdminKeysConfig } from '../../src/core/auth/admin-keys';
import { jsonOf, parseEnv } from '../../src/core/config/env';

/**
 * The admin authorizer Lambda's environment, read once at cold start; a missing or malformed variable
 * fails the cold start naming it.
 */
export const AdminAuthorizerEnv = z.object({
  /** JSON array of admin key holders with their key hashes (`AdminKeysConfig`). */
  MOSAIC_ADMIN_KEYS: z.string().transform((text, ctx) => jsonOf(text, AdminKeysConfig, ctx)),
});
export type AdminAuthorizerEnv = z.infer<typeof AdminAuthorizerEnv>;

export const readAdminAuthorizerEnv = (env: NodeJS.ProcessEnv = process.env): AdminAuthorizerEnv =>
  parseEnv(AdminAuthorizerEnv, env);
