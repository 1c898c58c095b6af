import { z } from 'zod';

/**
 * The largest message a record on the stream can carry: a Kinesis record holds at most 1 MiB, the
 * collector's stamps take up to 1 KiB more than the message sent, and a quarantine record (the message
 * with its reason) must fit Firehose's 1,000 KiB.
 */
export const MAX_MESSAGE_BYTES = 1000 * 1024;
/**
 * The largest request body: Lambda takes an invocation payload of at most 6 MB, which holds the body
 * (as base64 when it is gzip, a third larger) with the request's headers and context.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Collector limits. The defaults are Segment's own (32 KB per message, 500 KB per request, 2,500
 * messages per batch), so an SDK that works against Segment works against Mosaic.
 */
export const CollectorLimits = z.object({
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .max(MAX_MESSAGE_BYTES, {
      error: `at most ${MAX_MESSAGE_BYTES} bytes: a stamped message must fit one Kinesis record (1 MiB) and its quarantine record Firehose's 1,000 KiB`,
    })
    .default(32 * 1024),
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .max(MAX_REQUEST_BYTES, {
      error: `at most ${MAX_REQUEST_BYTES} bytes: Lambda's 6 MB invocation payload holds the body base64-encoded, with the request's headers`,
    })
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
