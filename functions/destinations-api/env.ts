import { z } from 'zod';
import { DestinationsConfig } from '../../src/core/activation/destination-config';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { functionEnv } from '../shared/bundled-config';

const S3_BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The Destinations API Lambda's environment, read once at cold start; a missing or malformed variable
 * fails the cold start naming it (never a value: the configuration holds secret names only).
 */
export const DestinationsApiEnv = z
  .object({
    /** JSON destinations configuration (`DestinationsConfig`): every destination, to list and test. */
    MOSAIC_DESTINATIONS: z
      .string()
      .default('{}')
      .transform((text, ctx) => jsonOf(text, DestinationsConfig, ctx)),
    /** JSON identity configuration (`IdentityConfig`); `{}` is the default identifier types. */
    MOSAIC_IDENTITY: z
      .string()
      .default('{}')
      .transform((text, ctx) => jsonOf(text, IdentityConfig, ctx)),
    /** Where a test payload over 256 KB for an SQS or Lambda destination would go. */
    PAYLOAD_BUCKET: z.string().regex(S3_BUCKET, 'an S3 bucket name'),
  })
  .superRefine((env, ctx) => {
    // As `parseDestinationsConfig`: a field naming an identifier type that is not configured is refused.
    const known = new Set(env.MOSAIC_IDENTITY.types.map((t) => t.name));
    env.MOSAIC_DESTINATIONS.destinations.forEach((destination, d) => {
      destination.fields.identifiers.forEach((field, f) => {
        if (!known.has(field.type)) {
          ctx.addIssue({
            code: 'custom',
            path: ['MOSAIC_DESTINATIONS'],
            message: `destinations.${d}.fields.identifiers.${f}.type: "${field.type}" is not a configured identifier type`,
          });
        }
      });
    });
  });
export type DestinationsApiEnv = z.infer<typeof DestinationsApiEnv>;

export const readDestinationsApiEnv = (env: NodeJS.ProcessEnv = functionEnv()): DestinationsApiEnv =>
  parseEnv(DestinationsApiEnv, env);
