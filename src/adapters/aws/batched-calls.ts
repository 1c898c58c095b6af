import { fullJitterDelay, type RetryPolicy } from '../../core/retry-policy';
import { realSleep, type Sleep } from '../../ports/clock';

export type { RetryPolicy } from '../../core/retry-policy';

/**
 * What AWS batch APIs (Firehose PutRecordBatch, EventBridge PutEvents) have in common: a request takes
 * a bounded number of entries and bytes, and the service may refuse single entries of a request it
 * accepted. These helpers split entries into requests within the limits and offer only the refused
 * entries again, after exponential back-off with full jitter.
 */

/** How an adapter retries refused entries; everything is optional and injectable for tests. */
export interface EntryRetryOptions {
  readonly retry?: RetryPolicy;
  /** Waits between attempts. Default real time. */
  readonly sleep?: Sleep;
  /** A number in [0, 1) for the jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Splits items, in order, into requests of at most `maxItems` items and `maxBytes` bytes. An item
 * larger than `maxBytes` on its own must have been refused before; it would get a request of its own.
 */
export function packRequests<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  limits: { readonly maxItems: number; readonly maxBytes: number },
): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length === limits.maxItems || (current.length > 0 && bytes + size > limits.maxBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** An entry of a request the service refused, with its error code. */
export interface RefusedEntry {
  /** Position in the entries passed to `send`. */
  readonly index: number;
  readonly code: string;
}

/** An entry still refused when {@link sendRetryingRefused} gave up. */
export interface StillRefused<T> {
  readonly entry: T;
  readonly code: string;
}

/**
 * Sends `entries` in one request, then only the entries the service refused, after a jittered
 * back-off, until every entry is accepted, the policy's attempts are spent, or only entries with an
 * error code `isRetryable` rejects are left. Resolves with the entries still refused (empty: all
 * accepted). A request that fails as a whole (`send` throws) ends it with that error: the SDK client
 * has already retried it under its own policy.
 */
export async function sendRetryingRefused<T>(
  entries: readonly T[],
  send: (entries: readonly T[]) => Promise<readonly RefusedEntry[]>,
  options: EntryRetryOptions & {
    readonly defaultRetry: RetryPolicy;
    readonly isRetryable?: (code: string) => boolean;
  },
): Promise<StillRefused<T>[]> {
  const policy = options.retry ?? options.defaultRetry;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const isRetryable = options.isRetryable ?? (() => true);
  let pending: readonly T[] = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const current = pending;
    const refused = (await send(current)).map(({ index, code }) => ({
      entry: current[index] as T,
      code,
    }));
    if (refused.length === 0) return [];
    if (attempt >= policy.maxAttempts || !refused.every(({ code }) => isRetryable(code))) return refused;
    pending = refused.map(({ entry }) => entry);
    await sleep(fullJitterDelay(policy, attempt, random));
  }
  return [];
}
