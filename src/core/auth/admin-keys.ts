import { z } from 'zod';
import { HashedKeySet, MAX_PRESENTED_KEY_LENGTH } from './hashed-keys';

/** An admin key is configured only as the lowercase hex SHA-256 of the key (`hashKey`). */
export const AdminKeyHash = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the admin key (64 characters)');

/**
 * One holder of admin access (a team, a system). It has several key hashes so a key can be rotated
 * without an outage: add the new hash, move the caller over, then move the old hash to `revokedHashes`.
 */
export const AdminKeyConfig = z.object({
  /** Who holds the key: passed to the Profile API as `adminKey` and written to its access log. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "_" and "-", at most 63 characters'),
  keyHashes: z.array(AdminKeyHash).min(1),
  /** Hashes of keys taken out of use, kept so that a refusal can say "revoked" rather than "unknown". */
  revokedHashes: z.array(AdminKeyHash).default([]),
});
export type AdminKeyConfig = z.infer<typeof AdminKeyConfig>;

/** Every admin key holder (`MOSAIC_ADMIN_KEYS`). Names are unique; a hash is configured once in all. */
export const AdminKeysConfig = z
  .array(AdminKeyConfig)
  .min(1)
  .superRefine((keys, ctx) => {
    const names = new Set<string>();
    const hashes = new Set<string>();
    keys.forEach((key, i) => {
      if (names.has(key.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate admin key "${key.name}"` });
      names.add(key.name);
      for (const field of ['keyHashes', 'revokedHashes'] as const) {
        key[field].forEach((hash, h) => {
          if (hashes.has(hash))
            ctx.addIssue({
              code: 'custom',
              path: [i, field, h],
              message: 'the same key hash is configured twice',
            });
          hashes.add(hash);
        });
      }
    });
  });
export type AdminKeysConfig = z.infer<typeof AdminKeysConfig>;
/** Admin keys as written, before defaults are filled in. */
export type AdminKeysConfigInput = z.input<typeof AdminKeysConfig>;

/**
 * Why a request carries no usable admin key:
 * - `missing`: no `Authorization` header, or an empty one;
 * - `malformed`: not `Bearer <token>` (another scheme, no token, characters a bearer token cannot have,
 *   longer than any key);
 * - `unknown`: no configured key has that hash;
 * - `revoked`: the key's hash is among a holder's `revokedHashes`.
 */
export type AdminKeyRefusal = 'missing' | 'malformed' | 'unknown' | 'revoked';

export type AdminKeyCheck =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly reason: AdminKeyRefusal };

/** RFC 6750 `b64token`: the characters a bearer token may have, `=` only as padding at the end. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Resolves the `Authorization: Bearer <key>` header of a request to the admin key holder's name. Keys
 * are held only as hashes and compared in constant time (see {@link HashedKeySet}).
 */
export class AdminKeyRegistry {
  private readonly keys: HashedKeySet<string>;

  constructor(config: AdminKeysConfig) {
    this.keys = new HashedKeySet(
      config.flatMap((holder) => [
        ...holder.keyHashes.map((sha256) => ({ sha256, owner: holder.name, revoked: false })),
        ...holder.revokedHashes.map((sha256) => ({ sha256, owner: holder.name, revoked: true })),
      ]),
    );
  }

  /** Which admin key the header value carries, or why it carries none. Never throws. */
  check(authorization: string | undefined): AdminKeyCheck {
    if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
    // Long enough for any key and a little white space; longer is refused before the pattern runs.
    if (authorization.length > MAX_PRESENTED_KEY_LENGTH + 64) return { ok: false, reason: 'malformed' };
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined || token.length > MAX_PRESENTED_KEY_LENGTH)
      return { ok: false, reason: 'malformed' };
    const match = this.keys.match(token);
    if (match === undefined) return { ok: false, reason: 'unknown' };
    return match.revoked ? { ok: false, reason: 'revoked' } : { ok: true, name: match.owner };
  }
}
