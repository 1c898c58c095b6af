import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { PayloadTooLargeError } from '../../core/errors';
import type { IdentityLink } from '../../core/identity/identity-link';
import { toIdentityLinkRow } from '../../core/lake/tables';
import type { IdentityLinkSink } from '../../ports/identity-link-sink';
import { FIREHOSE_LIMITS, type FirehoseRetryOptions, putFirehoseRecords } from './firehose-records';

const encoder = new TextEncoder();

/**
 * {@link IdentityLinkSink} on a Firehose DirectPut stream that lands the lake's `identity_links/`
 * prefix. Each link is one record: an NDJSON line whose keys are the `identity_links` columns
 * (`IDENTITY_LINK_COLUMNS`, snake_case), `linked_at` as ISO-8601 text, which the OpenX JSON SerDe reads
 * as a timestamp (as `received_at` in `quarantine`). Sent in PutRecordBatch calls within Firehose's
 * limits; records Firehose refuses are retried alone with a jittered back-off (default 5 attempts);
 * `put` rejects with `ServiceUnavailableError` if any is still refused, and with
 * `PayloadTooLargeError`, sending nothing, if a link's row is over 1,000 KiB.
 *
 * Firehose files objects under the hour they arrive in, which for links written as they are made is
 * the hour of `linked_at`.
 */
export class FirehoseIdentityLinkSink implements IdentityLinkSink {
  constructor(
    private readonly client: FirehoseClient,
    private readonly deliveryStreamName: string,
    private readonly options: FirehoseRetryOptions = {},
  ) {}

  async put(links: readonly IdentityLink[]): Promise<void> {
    const records = links.map((link, index) => {
      const line = encoder.encode(`${JSON.stringify(toIdentityLinkRow(link))}\n`);
      if (line.byteLength > FIREHOSE_LIMITS.bytesPerRecord) {
        throw new PayloadTooLargeError(
          `Identity link ${index} (${link.identifier.type} of message ${link.messageId}) is ${line.byteLength} bytes; a Firehose record holds at most ${FIREHOSE_LIMITS.bytesPerRecord}`,
        );
      }
      return line as Uint8Array<ArrayBuffer>;
    });
    await putFirehoseRecords(this.client, this.deliveryStreamName, records, {
      ...this.options,
      what: 'identity links',
    });
  }
}
