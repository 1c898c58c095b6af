import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryEventStream,
  type MemoryEventStreamOptions,
} from '../../src/adapters/local/memory-event-stream';
import {
  describeEventStreamContract,
  type EventStreamHarness,
  type WrittenRecord,
} from './event-stream.contract';

/** Reads the in-process stream back the way a consumer does: through a subscription. */
async function memoryHarness(options: MemoryEventStreamOptions = {}): Promise<EventStreamHarness> {
  const stream = new MemoryEventStream({ shardCount: 4, ...options });
  const written: WrittenRecord[] = [];
  stream.subscribe({
    name: 'contract-reader',
    maxBatchingWindowMs: 0,
    handler: async (event) => {
      for (const record of event.Records) {
        written.push({
          partitionKey: record.kinesis.partitionKey,
          data: new Uint8Array(Buffer.from(record.kinesis.data, 'base64')),
        });
      }
    },
  });
  let selectEntry: ((entry: WrittenRecord) => boolean) | undefined;
  let callsFail = false;
  stream.injectFaults({
    failEntry: (entry) => (selectEntry?.(entry) ? 'InternalFailure' : undefined),
    failCall: () => (callsFail ? new Error('connection reset') : undefined),
  });
  return {
    stream,
    readWritten: async () => {
      await stream.drain();
      return [...written];
    },
    failEntries: (select) => {
      selectEntry = select;
    },
    failCalls: (on) => {
      callsFail = on;
    },
    close: async () => {
      await stream.close();
      if (options.logDir !== undefined) await rm(options.logDir, { recursive: true, force: true });
    },
  };
}

describeEventStreamContract('MemoryEventStream', () => memoryHarness());

// With a log and a memory budget of a few records, most records are read back from the log files.
describeEventStreamContract('MemoryEventStream with its log, past its memory budget', async () =>
  memoryHarness({ logDir: await mkdtemp(join(tmpdir(), 'mosaic-stream-contract-')), maxBufferedRecords: 2 }),
);
