import { z } from 'zod';
import { Destination } from '../../src/core/activation/destination-config';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { isKnownPhoneCountry } from '../../src/core/identity/normalize';

const S3_BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const QUEUE_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/**
 * A destination delivery Lambda's environment (one function per destination, fed by its own SQS
 * queue), read once at cold start; a missing or malformed variable fails the cold start naming it —
 * the message stays on the queue and is retried, then redriven: nothing is lost.
 */
export const DestinationDeliveryEnv = z
  .object({
    /** This function's destination: one destination's JSON, parsed with the destination schema. */
    DESTINATION: z.string().transform((text, ctx) => jsonOf(text, Destination, ctx)),
    /** Country of phone numbers without a country code, for hashing (ISO 3166-1 alpha-2). */
    DEFAULT_PHONE_COUNTRY: z
      .string()
      .refine(isKnownPhoneCountry, { message: 'not a country code the phone library knows (e.g. "US")' })
      .default('US'),
    /** JSON identity configuration (`IdentityConfig`); `{}` is the default identifier types. */
    MOSAIC_IDENTITY: z
      .string()
      .default('{}')
      .transform((text, ctx) => jsonOf(text, IdentityConfig, ctx)),
    /** The identity table: members' profiles, for consent. */
    IDENTITY_TABLE_NAME: z.string().min(1),
    /** The segments table: each export's identifier and trait columns. */
    SEGMENTS_TABLE_NAME: z.string().min(1),
    /** The delivery ledger table (`src/adapters/aws/delivery-ledger-table.ts`). */
    LEDGER_TABLE_NAME: z.string().min(1),
    /** This destination's own queue (continuations are re-queued to it with a delay). */
    DELIVERY_QUEUE_URL: z.string().regex(QUEUE_URL, 'an SQS queue URL'),
    /** This destination's dead-letter queue (batches that failed for good; redrive to the queue above). */
    DEAD_LETTER_QUEUE_URL: z.string().regex(QUEUE_URL, 'an SQS queue URL'),
    /** The Athena workgroup the members query runs in. */
    ATHENA_WORKGROUP: z.string().min(1),
    /** The Glue database of `export_members`. */
    GLUE_DATABASE: z.string().min(1),
    EXPORT_MEMBERS_TABLE: z.string().min(1).default('export_members'),
    /** Where payloads over 256 KB go (`payloads/{exportId}/{destination}/...`) for SQS and Lambda destinations. */
    PAYLOAD_BUCKET: z.string().regex(S3_BUCKET, 'an S3 bucket name'),
  })
  .superRefine((env, ctx) => {
    // As `parseDestinationsConfig`: a field naming an identifier type that is not configured is refused.
    const known = new Set(env.MOSAIC_IDENTITY.types.map((t) => t.name));
    env.DESTINATION.fields.identifiers.forEach((field, i) => {
      if (!known.has(field.type)) {
        ctx.addIssue({
          code: 'custom',
          path: ['DESTINATION'],
          message: `fields.identifiers.${i}.type: "${field.type}" is not a configured identifier type`,
        });
      }
    });
  });
export type DestinationDeliveryEnv = z.infer<typeof DestinationDeliveryEnv>;

export const readDestinationDeliveryEnv = (env: NodeJS.ProcessEnv = process.env): DestinationDeliveryEnv =>
  parseEnv(DestinationDeliveryEnv, env);
