import { z } from 'zod';

/** A write key is stored only as the hex SHA-256 of the key. */
export const WriteKeyHash = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the write key (64 characters)');

/**
 * A source: one website, app or backend sending events. It has several keys so a key can be rotated
 * without dropping events: add the new key, move the SDKs over, then revoke the old one.
 */
export const SourceConfig = z.object({
  /** Stamped on every message from this source (`source` column). */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "_" and "-", at most 63 characters'),
  keys: z
    .array(
      z.object({
        sha256: WriteKeyHash,
        /** A note for people: who holds the key, since when. */
        label: z.string().max(200).optional(),
        /** A revoked key is kept for the record but gets 401. */
        revoked: z.boolean().default(false),
      }),
    )
    .min(1),
});
export type SourceConfig = z.infer<typeof SourceConfig>;

export const SourcesConfig = z
  .array(SourceConfig)
  .min(1)
  .superRefine((sources, ctx) => {
    const names = new Set<string>();
    const hashes = new Set<string>();
    sources.forEach((source, i) => {
      if (names.has(source.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate source "${source.name}"` });
      names.add(source.name);
      source.keys.forEach((key, k) => {
        if (hashes.has(key.sha256))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'keys', k, 'sha256'],
            message: 'the same key hash is configured twice',
          });
        hashes.add(key.sha256);
      });
    });
  });
export type SourcesConfig = z.infer<typeof SourcesConfig>;
