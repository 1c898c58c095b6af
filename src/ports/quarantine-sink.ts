/**
 * Where rejected messages go, with their reason, so they can be inspected and replayed:
 * Firehose → S3 `quarantine/` in AWS, NDJSON files under the local lake otherwise.
 */
export interface QuarantinedMessage {
  /** The source (write key's name) the request was authenticated as. */
  readonly source: string;
  /** ISO-8601 time the collector received the request. */
  readonly receivedAt: string;
  /** Why the message was rejected, readable by a person. */
  readonly reason: string;
  /** A stable code for the reason (`invalid_message`, `message_too_large`, ...). */
  readonly code: string;
  /** The message id if the message had a usable one. */
  readonly messageId?: string;
  /** Position of the message in its batch (0 for single calls). */
  readonly index: number;
  /** The message as JSON text, exactly as it was received (after batch unpacking). */
  readonly raw: string;
  /**
   * The call the request was sent to (`track`, `identify`, ..., or `batch`): what a message of a
   * single call that does not name its `type` was, and where to send it again.
   */
  readonly route: string;
  /**
   * The batch-level `context`, `integrations` and `sentAt` its batch was sent with, as JSON text of
   * an object of those it had; absent when it had none (or for a single call). With `raw`, what to
   * send again: `{"batch":[raw], ...batch}`.
   */
  readonly batch?: string;
}

export interface QuarantineSink {
  /** Durably stores the messages; rejects if it could not (the caller then answers 503). */
  put(messages: readonly QuarantinedMessage[]): Promise<void>;
}
