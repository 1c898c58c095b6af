// The HTTP benchmark's ceiling: the collector alone behind the local API Gateway, its stream read by a
// consumer that takes every record and does nothing with it — the runtime with nothing behind the
// stream (no resolver, no lake writer, no embedded DynamoDB). Bundled and run in its own process as the
// runtime is; argv: the write key. Prints where it listens; SIGTERM stops it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCollectorHandler } from '../functions/collector/handler';
import { consoleLogger } from '../src/adapters/local/console-logger';
import { CountingIngestMetrics } from '../src/adapters/local/counting-ingest-metrics';
import { FileQuarantineSink } from '../src/adapters/local/file-quarantine-sink';
import { MemoryEventStream } from '../src/adapters/local/memory-event-stream';
import { hashWriteKey, WriteKeyRegistry } from '../src/core/collector/write-keys';
import { DEFAULT_LIMITS } from '../src/core/config/limits';
import { ApiGatewayServer } from '../src/local/api-gateway-server';
import { randomIds, realSleep, systemClock } from '../src/ports/clock';
import { createIngest } from '../src/use-cases/ingest';

const writeKey = process.argv[2];
if (!writeKey) throw new Error('usage: collector-server <write key>');
const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-collector-'));
const logger = consoleLogger('collector', 'error');
// Logged to disk as the runtime's stream is.
const stream = new MemoryEventStream({ streamName: 'mosaic-events', logDir: join(dataDir, 'stream') });
// The runtime's consumers' batch settings (resolver, lake writer), with handlers that cost nothing.
const discard = async () => ({ batchItemFailures: [] });
stream.subscribe({
  name: 'resolver',
  handler: discard,
  batchSize: 500,
  maxBatchingWindowMs: 20,
  maxConcurrency: 2,
});
stream.subscribe({ name: 'lake', handler: discard, batchSize: 250, maxBatchingWindowMs: 100 });
const keys = new WriteKeyRegistry([
  { name: 'bench', keys: [{ sha256: hashWriteKey(writeKey), revoked: false }] },
]);
const ingest = createIngest({
  stream,
  quarantine: new FileQuarantineSink({ dataDir }),
  keys,
  limits: DEFAULT_LIMITS,
  clock: systemClock,
  newId: randomIds,
  sleep: realSleep,
  metrics: new CountingIngestMetrics(),
});
const server = new ApiGatewayServer({
  routes: [
    { prefix: '/v1/', handler: createCollectorHandler({ ingest, keys, limits: DEFAULT_LIMITS, logger }) },
  ],
  logger,
  ready: () => true,
});
const url = await server.listen(0, '127.0.0.1');
process.stdout.write(`collector alone running at ${url}\n`);
process.once('SIGTERM', async () => {
  await server.close();
  await stream.close();
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
});
