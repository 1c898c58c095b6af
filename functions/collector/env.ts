import { z } from 'zod';
import { jsonOf, parseEnv } from '../../src/core/config/env';
import { CollectorLimits } from '../../src/core/config/limits';
import { SourcesConfig } from '../../src/core/config/sources';

/**
 * The collector Lambda's environment, read once at cold start. The CDK construct sets exactly these
 * variables; a missing or malformed one fails the cold start naming the variable.
 */
export const CollectorEnv = z.object({
  /** Kinesis stream that accepted messages are written to. */
  EVENT_STREAM_NAME: z.string().min(1),
  /** Firehose delivery stream (DirectPut) that lands rejected messages in the lake's `quarantine/`. */
  QUARANTINE_DELIVERY_STREAM_NAME: z.string().min(1),
  /** JSON array of sources with their write-key hashes (`SourcesConfig`). */
  MOSAIC_SOURCES: z.string().transform((text, ctx) => jsonOf(text, SourcesConfig, ctx)),
  /** JSON object overriding collector limits (`CollectorLimits`); defaults are Segment's. */
  MOSAIC_LIMITS: z
    .string()
    .default('{}')
    .transform((text, ctx) => jsonOf(text, CollectorLimits, ctx)),
});
export type CollectorEnv = z.infer<typeof CollectorEnv>;

export const readCollectorEnv = (env: NodeJS.ProcessEnv = process.env): CollectorEnv =>
  parseEnv(CollectorEnv, env);
