import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirehoseIdentityLinkSink } from '../../src/adapters/aws/firehose-identity-link-sink';
import { PayloadTooLargeError } from '../../src/core/errors';
import { FIREHOSE_LIMITS, FirehoseEmulator, serviceUnavailable } from './firehose-emulator';
import {
  describeIdentityLinkSinkContract,
  type IdentityLinkSinkHarness,
  identityLink,
  type StoredIdentityLinkRow,
} from './identity-link-sink.contract';

const DELIVERY_STREAM = 'mosaic-identity-links';
const noSleep = async () => {};

/** The rows in what Firehose delivered (Firehose files objects under the hour they arrive in). */
function deliveredRows(firehose: FirehoseEmulator): StoredIdentityLinkRow[] {
  return firehose.deliveredLines().map((line) => ({ row: rowOf(line), partition: undefined }));
}

function rowOf(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** The sink over an emulated delivery stream; every test also checks no call broke a Firehose limit. */
async function firehoseHarness(): Promise<IdentityLinkSinkHarness> {
  const firehose = new FirehoseEmulator({ deliveryStreamName: DELIVERY_STREAM });
  return {
    sink: new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM, { sleep: noSleep }),
    readRows: async () => deliveredRows(firehose),
    breakStore: async () => firehose.failCalls(() => serviceUnavailable()),
    repairStore: async () => {
      firehose.failCalls(undefined);
      firehose.failRecords(undefined);
    },
    entryFaults: {
      refuseOnce: (select) =>
        firehose.failRecords((record) =>
          record.attempt === 1 && select(rowOf(record.text)) ? 'ServiceUnavailableException' : undefined,
        ),
      refuseAlways: (select) =>
        firehose.failRecords((record) =>
          select(rowOf(record.text)) ? 'ServiceUnavailableException' : undefined,
        ),
      entriesPerRequest: () => firehose.calls.map((call) => call.records),
    },
    close: async () => {
      firehose.restore();
      expect(firehose.limitViolations).toEqual([]);
    },
  };
}

describeIdentityLinkSinkContract(
  'FirehoseIdentityLinkSink (emulated Firehose)',
  { partitionsByLinkedAt: false, requestLimits: { entries: FIREHOSE_LIMITS.recordsPerCall } },
  firehoseHarness,
);

describe('FirehoseIdentityLinkSink: Firehose records and limits', () => {
  let firehose: FirehoseEmulator;

  beforeEach(() => {
    firehose = new FirehoseEmulator({ deliveryStreamName: DELIVERY_STREAM });
  });

  afterEach(() => {
    firehose.restore();
  });

  it('sends one NDJSON line per link, keyed by the column names, linked_at as ISO-8601 text', async () => {
    const sink = new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM);
    await sink.put([
      identityLink({
        identifier: { type: 'email', value: 'jane@example.com' },
        profileId: 'p-1',
        linkedAt: '2026-11-22T16:05:12.345Z',
        source: 'web',
        messageId: 'm-1',
        reason: 'merged',
      }),
    ]);

    expect(firehose.deliveredText()).toBe(
      '{"id_type":"email","id_value":"jane@example.com","profile_id":"p-1","linked_at":"2026-11-22T16:05:12.345Z","source":"web","message_id":"m-1","reason":"merged"}\n',
    );
  });

  it('splits by 500 records and 4 MiB a call: 1,234 links take three calls, 600 wide links more than one', async () => {
    const sink = new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM);
    await sink.put(Array.from({ length: 1234 }, () => identityLink()));
    expect(firehose.calls.map((c) => c.records)).toEqual([500, 500, 234]);

    await sink.put(
      Array.from({ length: 600 }, () =>
        identityLink({ identifier: { type: 'custom_id', value: 'x'.repeat(8 * 1024) } }),
      ),
    );
    const wideCalls = firehose.calls.slice(3);
    expect(wideCalls.length).toBeGreaterThan(1);
    for (const call of wideCalls) expect(call.bytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.bytesPerCall);
    expect(firehose.limitViolations).toEqual([]);
  });

  it('waits a jittered, growing back-off between retries, within the policy', async () => {
    const waits: number[] = [];
    const sink = new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM, {
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.999,
    });
    firehose.failRecords(() => 'ServiceUnavailableException');

    await expect(sink.put([identityLink()])).rejects.toThrow(/1 identity links were not accepted/);

    expect(firehose.calls).toHaveLength(4);
    expect(waits).toEqual([99, 199, 249]);
  });

  it('refuses a link whose row is over 1,000 KiB, naming it, and sends nothing', async () => {
    const sink = new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM);
    const huge = identityLink({
      identifier: { type: 'custom_id', value: 'x'.repeat(FIREHOSE_LIMITS.bytesPerRecord) },
      messageId: 'm-huge',
    });

    const put = sink.put([identityLink(), huge]);

    await expect(put).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(put).rejects.toThrow(/Identity link 1 \(custom_id of message m-huge\)/);
    expect(firehose.calls).toEqual([]);
  });

  it('rejects when Firehose rejects a call as a whole', async () => {
    const sink = new FirehoseIdentityLinkSink(firehose.client, DELIVERY_STREAM);
    firehose.failCalls(() => serviceUnavailable());

    await expect(sink.put([identityLink()])).rejects.toThrow();
    expect(firehose.acceptedRecords()).toEqual([]);
  });
});
