/**
 * The event stream port: Kinesis in AWS, an in-process stream with Kinesis record shape locally.
 *
 * One call is one attempt. An adapter splits entries into calls as its service requires and reports
 * which entries were not written; the caller decides whether and when to retry only those.
 */
export interface StreamEntry {
  /** Records with the same partition key are delivered in order. */
  readonly partitionKey: string;
  /** The record's bytes (a UTF-8 JSON {@link StreamRecord} for the events stream). */
  readonly data: Uint8Array;
}

export interface PutOutcome {
  /** Indexes (into the entries given) that were not written, with the service's reason. */
  readonly failed: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
}

export interface EventStream {
  /**
   * Writes the entries once. Resolves with the entries that failed individually; rejects only when the
   * whole call failed (then nothing may be assumed written). Once it settles, the entries' bytes are
   * the caller's again, as with the AWS SDK: an adapter that keeps them keeps its own copy (the
   * collector encodes the next request's records into the same buffer).
   */
  put(entries: readonly StreamEntry[]): Promise<PutOutcome>;
}
