import { ServiceUnavailableError } from '../core/errors';
import type { Sleep } from '../ports/clock';
import type { EventStream, StreamEntry } from '../ports/event-stream';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_STREAM_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000 };

/**
 * Writes every entry to the stream or fails: after each attempt only the entries that failed are
 * sent again, with exponential back-off and full jitter. Resolves once all are written; otherwise
 * throws {@link ServiceUnavailableError} so the caller acknowledges nothing it did not write.
 */
export async function putAllOrFail(
  stream: EventStream,
  entries: readonly StreamEntry[],
  options: { policy?: RetryPolicy; sleep: Sleep; random?: () => number; onRetry?: (count: number) => void },
): Promise<void> {
  const policy = options.policy ?? DEFAULT_STREAM_RETRY;
  const random = options.random ?? Math.random;
  let pending: readonly StreamEntry[] = entries;
  let lastReason = '';
  if (pending.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    let failed: ReadonlyArray<{ index: number; reason: string }>;
    try {
      failed = (await stream.put(pending)).failed;
    } catch (error) {
      failed = pending.map((_, index) => ({
        index,
        reason: error instanceof Error ? error.name : 'unknown',
      }));
    }
    if (failed.length === 0) return;
    lastReason = failed[0]?.reason ?? lastReason;
    const current = pending;
    pending = failed.map(({ index }) => current[index] as StreamEntry);
    if (attempt >= policy.maxAttempts) break;
    options.onRetry?.(pending.length);
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    await options.sleep(Math.floor(random() * ceiling));
  }
  throw new ServiceUnavailableError(
    `${pending.length} of ${entries.length} messages could not be written to the event stream (${lastReason})`,
  );
}
