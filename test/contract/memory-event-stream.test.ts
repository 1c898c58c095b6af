import { MemoryEventStream } from '../../src/adapters/local/memory-event-stream';
import {
  describeEventStreamContract,
  type EventStreamHarness,
  type WrittenRecord,
} from './event-stream.contract';

/** Reads the in-process stream back the way a consumer does: through a subscription. */
async function memoryHarness(): Promise<EventStreamHarness> {
  const stream = new MemoryEventStream({ shardCount: 4 });
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
    close: () => stream.close(),
  };
}

describeEventStreamContract('MemoryEventStream', memoryHarness);
