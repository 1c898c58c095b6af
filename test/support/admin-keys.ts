import { AdminKeysConfig } from '../../src/core/auth/admin-keys';
import { hashKey } from '../../src/core/auth/hashed-keys';

/** Admin keys for tests: `support` has two active keys and a revoked one; `ops` has one. */
export const ADMIN_KEY = 'mk_support_2026_active';
export const ROTATED_ADMIN_KEY = 'mk_support_2026_rotated';
export const REVOKED_ADMIN_KEY = 'mk_support_2025_revoked';
export const OPS_ADMIN_KEY = 'mk_ops_2026';

export const ADMIN_KEYS: AdminKeysConfig = AdminKeysConfig.parse([
  {
    name: 'support',
    keyHashes: [hashKey(ADMIN_KEY), hashKey(ROTATED_ADMIN_KEY)],
    revokedHashes: [hashKey(REVOKED_ADMIN_KEY)],
  },
  { name: 'ops', keyHashes: [hashKey(OPS_ADMIN_KEY)] },
]);

/** The `Authorization` header for an admin key. */
export const bearer = (key: string): string => `Bearer ${key}`;
