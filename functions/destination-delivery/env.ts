import { z } from 'zod';
import {
  DESTINATION_NAME,
  type Destination,
  DestinationsConfig,
} from '../../src/core/activation/destination-config';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { functionEnv } from '../shared/bundled-config';

const S3_BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const QUEUE_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/**
 * A destination delivery Lambda's environment (one function per destination, fed by its own SQS
 * queue), read once at cold start; a missing or malformed variable fails the cold start naming it —
 * the message stays on the queue and is retried, then redriven: nothing is lost.
 *
 * Every delivery function carries the whole destinations configuration (compiled into the bundle on
 * AWS, so that all of them share one bundle) and picks its own destination out of it by name.
 */
export const DestinationDeliveryEnv = z
  .object({
    /** This function's destination: its name in `MOSAIC_DESTINATIONS`. */
    DESTINATION_NAME: z.string().regex(DESTINATION_NAME, 'a destination name'),
    /**
     * JSON destinations configuration (`DestinationsConfig`): this function's destination and the
     * country of phone numbers without a country code, for hashing.
     */
    MOSAIC_DESTINATIONS: z
      .string()
      .default('{}')
      .transform((text, ctx) => jsonOf(text, DestinationsConfig, ctx)),
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
    const destination = destinationIn(env);
    if (destination === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DESTINATION_NAME'],
        message: `"${env.DESTINATION_NAME}" is not a destination of MOSAIC_DESTINATIONS`,
      });
      return;
    }
    // As `parseDestinationsConfig`: a field naming an identifier type that is not configured is refused.
    const known = new Set(env.MOSAIC_IDENTITY.types.map((t) => t.name));
    destination.fields.identifiers.forEach((field, i) => {
      if (!known.has(field.type)) {
        ctx.addIssue({
          code: 'custom',
          path: ['MOSAIC_DESTINATIONS'],
          message: `${destination.name}: fields.identifiers.${i}.type: "${field.type}" is not a configured identifier type`,
        });
      }
    });
  });
export type DestinationDeliveryEnv = z.infer<typeof DestinationDeliveryEnv>;

/** The environment, with this function's destination. */
export interface DestinationDeliverySettings extends DestinationDeliveryEnv {
  readonly destination: Destination;
}

export function readDestinationDeliveryEnv(
  env: NodeJS.ProcessEnv = functionEnv(),
): DestinationDeliverySettings {
  const parsed = parseEnv(DestinationDeliveryEnv, env);
  // The schema refused an environment without it.
  const destination = destinationIn(parsed) as Destination;
  return { ...parsed, destination };
}

function destinationIn(
  env: Pick<DestinationDeliveryEnv, 'DESTINATION_NAME' | 'MOSAIC_DESTINATIONS'>,
): Destination | undefined {
  return env.MOSAIC_DESTINATIONS.destinations.find((d) => d.name === env.DESTINATION_NAME);
}
