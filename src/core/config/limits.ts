import { z } from 'zod';

/**
 * Collector limits. The defaults are Segment's own (32 KB per message, 500 KB per request, 2,500
 * messages per batch), so an SDK that works against Segment works against Mosaic.
 */
export const CollectorLimits = z.object({
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024),
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .default(500 * 1024),
  /** Cap on a gzip body after decompression (guards against decompression bombs). */
  maxDecompressedBytes: z
    .number()
    .int()
    .positive()
    .default(500 * 1024),
  maxBatchMessages: z.number().int().positive().default(2500),
  maxMessageIdLength: z.number().int().positive().default(100),
  /** Longest user/anonymous/group/previous id accepted. */
  maxIdLength: z.number().int().positive().default(512),
  /** Deepest nesting of objects and arrays inside one message. */
  maxDepth: z.number().int().positive().default(32),
  /** Most object keys in one message, counted across every level. */
  maxKeys: z.number().int().positive().default(2000),
  /** Corrected timestamps later than receivedAt + this are clamped to receivedAt. */
  maxFutureMs: z
    .number()
    .int()
    .nonnegative()
    .default(5 * 60 * 1000),
});
export type CollectorLimits = z.infer<typeof CollectorLimits>;

export const DEFAULT_LIMITS: CollectorLimits = CollectorLimits.parse({});
