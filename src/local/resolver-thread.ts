// The resolver's thread in the local runtime: the same handler, use case and DynamoDB adapter as the
// resolver Lambda, over its own SDK client to the embedded engine. The runtime's main thread
// (`resolver-thread-client.ts`) hands it the stream's batches and publishes the effects it reports;
// this thread only resolves. Started as a worker: `workerData` is a `ResolverThreadData`.
import { parentPort, workerData } from 'node:worker_threads';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createResolverHandler } from '../../functions/resolver/handler';
import { DynamoDbIdentityStore } from '../adapters/aws/dynamodb-identity-store';
import { CountingResolverMetrics } from '../adapters/local/counting-resolver-metrics';
import { systemClock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { createResolver, type ResolverEffects } from '../use-cases/resolve-identities';
import { embeddedEngineClient } from './embedded-dynamodb';
import {
  type ResolverThreadData,
  type ToResolverThread,
  type ToRuntime,
  unpackBatch,
} from './resolver-thread-protocol';
import { lowerThisThreadsPriority } from './thread-priority';

const port = parentPort;
if (port === null) throw new Error('resolver-thread.ts runs as a worker of the local runtime');
const data = workerData as ResolverThreadData;
// Resolving runs behind the stream, as the resolver Lambda does in AWS, where it never takes a core
// from the collector. Here the two share the machine: when both want a core, the collector's thread
// (what SDKs wait on) and the APIs' get it first, and this thread catches up from the stream.
lowerThisThreadsPriority();
const post = (message: ToRuntime) => port.postMessage(message);

/** Log lines go to the runtime's logger, which decides what to show. */
const logger: Logger = {
  debug: (message, ...attributes) => post({ type: 'log', level: 'debug', message, attributes }),
  info: (message, ...attributes) => post({ type: 'log', level: 'info', message, attributes }),
  warn: (message, ...attributes) => post({ type: 'log', level: 'warn', message, attributes }),
  error: (message, ...attributes) => post({ type: 'log', level: 'error', message, attributes }),
};

/** Publications the runtime has not confirmed yet, by id. */
const publications = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextPublication = 0;
function publish(effects: ResolverEffects): Promise<void> {
  const id = nextPublication++;
  return new Promise<void>((resolve, reject) => {
    publications.set(id, { resolve, reject });
    post({ type: 'publish', id, effects });
  });
}

const store = new DynamoDbIdentityStore({
  client: embeddedEngineClient(data.endpoint, data.engine),
  tableName: data.tableName,
});
const metrics = new CountingResolverMetrics();
const handler = createResolverHandler({
  resolve: createResolver({
    store,
    identity: data.identity,
    clock: systemClock,
    metrics,
    logger,
    publish,
    // dynalite answers one request at a time: profile writes sent together only queue there, ahead
    // of the Profile API's reads (in turns, 2 or 4 at once: 12–15 % more events a second in the
    // unify benchmark, and the API's p99 at 25 % load 23–32 ms against 22).
    landConcurrency: 1,
  }),
  logger,
});

async function resolveBatch(id: number, event: KinesisStreamEvent): Promise<void> {
  try {
    const response = await handler(event);
    post({ type: 'resolved', id, response, metrics: [...metrics.counts], requests: { ...store.requests } });
  } catch (error) {
    post({ type: 'failed', id, error: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (message: ToResolverThread) => {
  if (message.type === 'batch') {
    void resolveBatch(message.id, unpackBatch(message.batch));
    return;
  }
  const publication = publications.get(message.id);
  publications.delete(message.id);
  if (message.error === undefined) publication?.resolve();
  else publication?.reject(new Error(message.error));
});
post({ type: 'ready' });
