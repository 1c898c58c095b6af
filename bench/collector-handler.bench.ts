import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createCollectorHandler } from '../functions/collector/handler';
import { MemoryEventStream } from '../src/adapters/local/memory-event-stream';
import { hashWriteKey, WriteKeyRegistry } from '../src/core/collector/write-keys';
import { DEFAULT_LIMITS } from '../src/core/config/limits';
import { randomIds, realSleep, systemClock } from '../src/ports/clock';
import { noMetrics } from '../src/ports/ingest-metrics';
import { silentLogger } from '../src/ports/logger';
import { createIngest } from '../src/use-cases/ingest';
import { jsonOfChild } from './child';
import { BENCH_WRITE_KEY, batchBodies } from './fixtures';
import { ascending, median } from './stats';

export interface HandlerBenchResult {
  /** Medians over the rounds. */
  readonly eventsPerSecond: number;
  readonly parseEventsPerSecond: number;
  /** The median of the rounds' ratios. */
  readonly ratio: number;
  /** The rounds' lowest and highest ratios. */
  readonly ratioRange: readonly [number, number];
  readonly rounds: number;
  readonly bodyBytes: number;
}

/**
 * The collector handler in-process with 20-message batches into the in-memory stream, against
 * `JSON.parse` of the same bodies in the same run. Rounds alternate so both see the same machine,
 * and each round gives a ratio: their median stands for the run, so that a burst of the machine's
 * other work in one round (this is a shared machine) moves it little.
 */
export async function benchCollectorHandler(rounds = 15, batchesPerRound = 500): Promise<HandlerBenchResult> {
  const bodies = batchBodies(batchesPerRound);
  const stream = new MemoryEventStream({ maxBufferedRecords: 1_000_000, maxBufferedBytes: 2 ** 31 });
  stream.subscribe({ name: 'sink', handler: async () => {}, batchSize: 10_000, maxBatchingWindowMs: 0 });
  const keys = new WriteKeyRegistry([
    { name: 'bench', keys: [{ sha256: hashWriteKey(BENCH_WRITE_KEY), revoked: false }] },
  ]);
  const ingest = createIngest({
    stream,
    quarantine: { put: async () => {} },
    keys,
    limits: DEFAULT_LIMITS,
    clock: systemClock,
    newId: randomIds,
    sleep: realSleep,
    metrics: noMetrics,
  });
  const handler = createCollectorHandler({ ingest, keys, limits: DEFAULT_LIMITS, logger: silentLogger });
  const authorization = `Basic ${Buffer.from(`${BENCH_WRITE_KEY}:`).toString('base64')}`;
  // As API Gateway delivers a JSON body: text, not base64.
  const events = bodies.map(
    (body) =>
      ({
        rawPath: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization },
        body,
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', sourceIp: '203.0.113.7' }, requestId: 'bench' },
      }) as unknown as APIGatewayProxyEventV2,
  );
  const messagesPerRound = batchesPerRound * 20;
  const handlerRates: number[] = [];
  const parseRates: number[] = [];
  const ratios: number[] = [];
  let sink = 0;
  for (let round = -1; round < rounds; round++) {
    // Round -1 warms both paths up and is not counted.
    let start = performance.now();
    for (const body of bodies) sink += (JSON.parse(body) as { batch: unknown[] }).batch.length;
    const parse = performance.now() - start;
    start = performance.now();
    for (const event of events) {
      const result = await handler(event);
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}: ${result.body}`);
    }
    const handled = performance.now() - start;
    await stream.drain();
    if (round >= 0) {
      handlerRates.push(messagesPerRound / (handled / 1000));
      parseRates.push(messagesPerRound / (parse / 1000));
      ratios.push(parse / handled);
    }
  }
  await stream.close();
  if (sink === 0) throw new Error('nothing parsed');
  const sorted = ascending(ratios);
  return {
    eventsPerSecond: median(handlerRates),
    parseEventsPerSecond: median(parseRates),
    ratio: median(ratios),
    ratioRange: [sorted[0] ?? 0, sorted.at(-1) ?? 0],
    rounds,
    bodyBytes: Buffer.byteLength(bodies[0] ?? ''),
  };
}

/**
 * {@link benchCollectorHandler} in a process of its own, as `npm run bench` runs it: in the process that
 * also loads the other benchmarks (DuckDB, dynalite, the runtime's bundle), the same code measured
 * about 5 % slower (8 runs each way on 2026-11-25, ratio medians 0.49 and 0.52).
 */
export function benchCollectorHandlerInChild(rounds = 15): Promise<HandlerBenchResult> {
  return jsonOfChild<HandlerBenchResult>(join('bench', 'collector-handler.bench.ts'), [
    String(rounds),
    '--json',
  ]);
}

// `npx tsx bench/collector-handler.bench.ts [rounds] [--json]` runs this benchmark alone and prints its
// figures (`npm run bench` runs every benchmark and writes RESULTS.md).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchCollectorHandler(Number(process.argv[2] ?? 15));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  process.stdout.write(
    process.argv.includes('--json')
      ? JSON.stringify(result)
      : `handler ${fmt(result.eventsPerSecond)} events/s, JSON.parse ${fmt(result.parseEventsPerSecond)} events/s, ratio ${result.ratio.toFixed(3)} (rounds ${result.ratioRange.map((r) => r.toFixed(3)).join('–')})\n`,
  );
}
