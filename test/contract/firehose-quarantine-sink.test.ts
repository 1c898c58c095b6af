import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirehoseQuarantineSink } from '../../src/adapters/aws/firehose-quarantine-sink';
import type { QuarantinedMessage } from '../../src/ports/quarantine-sink';
import { FIREHOSE_LIMITS, FirehoseEmulator, serviceUnavailable } from './firehose-emulator';
import {
  describeQuarantineSinkContract,
  escapeHeavyRaw,
  type QuarantineSinkHarness,
  type StoredQuarantineRow,
} from './quarantine-sink.contract';

const DELIVERY_STREAM = 'mosaic-quarantine';

/** The rows in what Firehose delivered: its records concatenated, split into JSON lines. */
function deliveredRows(firehose: FirehoseEmulator): StoredQuarantineRow[] {
  const text = firehose.deliveredText();
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the delivered text ends with a newline').toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => ({
      row: JSON.parse(line) as Record<string, unknown>,
      lineBytes: Buffer.byteLength(line) + 1,
      // Firehose files objects under the hour they arrive in, not the row's receivedAt.
      partition: undefined,
    }));
}

/** The sink over an emulated delivery stream; every test also checks no call broke a Firehose limit. */
async function firehoseHarness(): Promise<QuarantineSinkHarness> {
  const firehose = new FirehoseEmulator({ deliveryStreamName: DELIVERY_STREAM });
  return {
    sink: new FirehoseQuarantineSink(firehose.client, DELIVERY_STREAM),
    readRows: async () => deliveredRows(firehose),
    breakStore: async () => firehose.failCalls(() => serviceUnavailable()),
    refuseHour: async (hour) =>
      firehose.failRecords((record) =>
        record.text.includes(`"received_at":"${hour}:`) ? 'ServiceUnavailableException' : undefined,
      ),
    repairStore: async () => {
      firehose.failCalls(undefined);
      firehose.failRecords(undefined);
    },
    close: async () => {
      firehose.restore();
      expect(firehose.limitViolations).toEqual([]);
    },
  };
}

describeQuarantineSinkContract(
  'FirehoseQuarantineSink (emulated Firehose)',
  { partitionsByReceivedAt: false, maxLineBytes: FIREHOSE_LIMITS.bytesPerRecord },
  firehoseHarness,
);

function message(index: number, overrides: Partial<QuarantinedMessage> = {}): QuarantinedMessage {
  return {
    source: 'web',
    receivedAt: '2026-11-22T16:05:12.345Z',
    reason: 'userId or anonymousId is required',
    code: 'invalid_message',
    messageId: `m-${index}`,
    index,
    raw: `{"type":"track","event":"Signed Up","n":${index}}`,
    route: 'batch',
    ...overrides,
  };
}

describe('FirehoseQuarantineSink: calls within the Firehose limits, retries of refused records', () => {
  let firehose: FirehoseEmulator;
  let sink: FirehoseQuarantineSink;

  beforeEach(() => {
    firehose = new FirehoseEmulator({ deliveryStreamName: DELIVERY_STREAM });
    sink = new FirehoseQuarantineSink(firehose.client, DELIVERY_STREAM);
  });

  afterEach(() => {
    firehose.restore();
  });

  const indexes = () =>
    deliveredRows(firehose)
      .map((s) => Number(s.row.index))
      .sort((a, b) => a - b);

  it('sends at most 500 records a call: 1,234 messages take three calls and are all delivered once', async () => {
    await sink.put(Array.from({ length: 1234 }, (_, i) => message(i)));

    expect(firehose.limitViolations).toEqual([]);
    expect(firehose.calls.map((c) => c.records)).toEqual([500, 500, 234]);
    expect(indexes()).toEqual(Array.from({ length: 1234 }, (_, i) => i));
  });

  it('keeps each call within 4 MiB: ten rows of 600 KiB are sent in several calls and all delivered', async () => {
    const raw = `"${'x'.repeat(600 * 1024)}"`;
    await sink.put(Array.from({ length: 10 }, (_, i) => message(i, { raw })));

    expect(firehose.limitViolations).toEqual([]);
    for (const call of firehose.calls) expect(call.bytes).toBeLessThanOrEqual(FIREHOSE_LIMITS.bytesPerCall);
    expect(indexes()).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('keeps each record within 1,000 KiB: a 500 KiB escape-heavy raw is cut, the reason giving both lengths', async () => {
    const raw = escapeHeavyRaw();
    await sink.put([message(0, { raw })]);

    expect(firehose.limitViolations).toEqual([]);
    const records = firehose.acceptedRecords();
    expect(records).toHaveLength(1);
    expect(records[0]?.byteLength).toBeLessThanOrEqual(FIREHOSE_LIMITS.bytesPerRecord);
    const [stored] = deliveredRows(firehose);
    const kept = String(stored?.row.raw);
    expect(raw.startsWith(kept)).toBe(true);
    expect(stored?.row.reason).toBe(
      `userId or anonymousId is required (raw text cut to ${kept.length} of ${raw.length} characters to fit the quarantine)`,
    );
  });

  it('retries the records Firehose refuses individually, and resolves once every row is delivered, each once', async () => {
    // Records whose index ends in 0, 3, 6 or 9 (12 of 30) are refused the first time they are offered.
    firehose.failRecords((record) =>
      record.attempt === 1 && /"index":\d*[0369],/.test(record.text)
        ? 'ServiceUnavailableException'
        : undefined,
    );
    const messages = Array.from({ length: 30 }, (_, i) => message(i));

    await sink.put(messages);

    expect(indexes()).toEqual(messages.map((m) => m.index));
    expect(firehose.calls.map((c) => c.records)).toEqual([30, 12]);
  });

  it('rejects when records are still refused after its retries, offering only the refused ones again', async () => {
    firehose.failRecords((record) =>
      record.text.includes('"index":4,') || record.text.includes('"index":7,')
        ? 'ServiceUnavailableException'
        : undefined,
    );
    const messages = Array.from({ length: 10 }, (_, i) => message(i));

    await expect(sink.put(messages)).rejects.toThrow(/2 quarantine records/);

    const [first, ...retries] = firehose.calls;
    expect(first?.records).toBe(10);
    expect(retries.length).toBeGreaterThan(0);
    for (const retry of retries) expect(retry.records).toBe(2);
    expect(indexes()).toEqual([0, 1, 2, 3, 5, 6, 8, 9]);
  });

  it('rejects when Firehose rejects a call as a whole, after delivering nothing of it', async () => {
    firehose.failCalls(() => serviceUnavailable());

    await expect(sink.put([message(0), message(1)])).rejects.toThrow();

    expect(firehose.calls.length).toBeGreaterThan(0);
    for (const call of firehose.calls) expect(call.rejectedWith).toBe('ServiceUnavailableException');
    expect(deliveredRows(firehose)).toEqual([]);
  });
});
