import { z } from 'zod';
import { DestinationsConfig } from '../../src/core/activation/destination-config';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { IdentityConfig } from '../../src/core/identity/identity-config';
import { functionEnv } from '../shared/bundled-config';

/**
 * The Segments API Lambda's environment, read once at cold start; a missing or malformed variable
 * fails the cold start naming it.
 */
export const SegmentsApiEnv = z.object({
  /** The segments table (`src/adapters/aws/segment-table.ts`). */
  SEGMENTS_TABLE_NAME: z.string().min(1),
  /** The Athena workgroup previews and exports run in (enforced configuration, bytes-scanned cutoff). */
  ATHENA_WORKGROUP: z.string().min(1),
  /** The Glue database of the lake tables. */
  GLUE_DATABASE: z.string().min(1),
  EVENTS_TABLE: z.string().min(1).default('events'),
  IDENTITY_LINKS_TABLE: z.string().min(1).default('identity_links'),
  EXPORT_MEMBERS_TABLE: z.string().min(1).default('export_members'),
  /** `s3://{exports bucket}/exports`: export folders are `{root}/segment_id=S/export_id=E/`. */
  EXPORTS_ROOT: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9_/-]*[A-Za-z0-9_-]$/),
  /** The audience export state machine. */
  EXPORT_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  /** How long a preview request waits for Athena before answering 202 (API Gateway cuts at 30 s). */
  PREVIEW_WAIT_MS: z.coerce.number().int().min(0).max(25_000).default(20_000),
  /** JSON identity configuration (`IdentityConfig`): the identifier types an export may name. */
  MOSAIC_IDENTITY: z
    .string()
    .default('{}')
    .transform((text, ctx) => jsonOf(text, IdentityConfig, ctx)),
  /**
   * JSON destinations configuration (`DestinationsConfig`): an export naming a destination carries the
   * columns it receives; one naming a destination not configured is refused. `{}`: none.
   */
  MOSAIC_DESTINATIONS: z
    .string()
    .default('{}')
    .transform((text, ctx) => jsonOf(text, DestinationsConfig, ctx)),
});
export type SegmentsApiEnv = z.infer<typeof SegmentsApiEnv>;

export const readSegmentsApiEnv = (env: NodeJS.ProcessEnv = functionEnv()): SegmentsApiEnv =>
  parseEnv(SegmentsApiEnv, env);
