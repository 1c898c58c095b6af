import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForNode, bundleLocalRuntime, launcherEnv, RUNTIME_NODE_ARGS } from '../scripts/start.mjs';
import { jsonOfChild, peakRssMb as peakRssOf, printedUrl, stopChild } from './child';
import { BENCH_WRITE_KEY, batchBodies } from './fixtures';
import { type CpuUse, medianCpuUse } from './proc-cpu';
import { median } from './stats';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly totalRequests: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  /** The server's CPU while the load ran, when its pid was given (undefined where /proc is missing). */
  readonly cpu?: CpuUse;
}

export type Measured = LoadResult & { eventsPerSecond: number; peakRssMb: number };

/** One round: the three servers measured one after another. */
export interface HttpRound {
  readonly mosaic: Measured;
  readonly baseline: Measured;
  /** The collector with nothing behind the stream (`collector-server.ts`): the runtime's ceiling. */
  readonly collectorAlone: Measured;
}

/**
 * The rounds and their summary: per server the median of the rounds' events/s, requests/s and
 * latencies, the highest peak RSS, and the refusals and errors of all rounds together; the ratios are
 * the medians of each round's ratio (a round's servers ran minutes apart at most, so a ratio is less
 * moved by the machine's changing speed than the figures it divides).
 */
export interface HttpBenchResult extends HttpRound {
  readonly rounds: readonly HttpRound[];
  readonly ratio: number;
  readonly collectorAloneRatio: number;
  readonly connections: number;
  readonly durationSeconds: number;
}

const root = join(import.meta.dirname, '..');

/**
 * Over HTTP: the local runtime in its own process, and a bare node:http server that only parses, in
 * its own; the load generator in a third process. Also the collector alone (nothing behind the stream)
 * in a process of its own: how far the runtime could go if its consumers cost nothing.
 */
export async function benchCollectorHttp(
  connections = 50,
  durationSeconds = 10,
  roundCount = 3,
): Promise<HttpBenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'mosaic-bench-'));
  const bodyFile = join(work, 'body.json');
  const authorization = `Basic ${Buffer.from(`${BENCH_WRITE_KEY}:`).toString('base64')}`;
  await writeFile(bodyFile, JSON.stringify({ body: batchBodies(1)[0], authorization }));
  try {
    // The runtime exactly as `npm start` runs it: the bundle, with the launcher's environment.
    const bundle = await bundleLocalRuntime();
    const collectorServer = await bundleForNode('bench/collector-server.ts', 'collector-server');
    const rounds: HttpRound[] = [];
    for (let round = 0; round < roundCount; round++) {
      rounds.push(
        await measureRound(
          bodyFile,
          join(work, `data-${round}`),
          bundle,
          collectorServer,
          connections,
          durationSeconds,
        ),
      );
    }
    const each = (pick: (round: HttpRound) => Measured) => summarise(rounds.map(pick));
    return {
      rounds,
      mosaic: each((round) => round.mosaic),
      baseline: each((round) => round.baseline),
      collectorAlone: each((round) => round.collectorAlone),
      ratio: median(rounds.map((r) => r.mosaic.eventsPerSecond / r.baseline.eventsPerSecond)),
      collectorAloneRatio: median(
        rounds.map((r) => r.collectorAlone.eventsPerSecond / r.baseline.eventsPerSecond),
      ),
      connections,
      durationSeconds,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The bare server, the runtime (on a data directory of its own) and the collector alone, in turn. */
async function measureRound(
  bodyFile: string,
  dataDir: string,
  bundle: string,
  collectorServer: string,
  connections: number,
  durationSeconds: number,
): Promise<HttpRound> {
  const baseline = await measure(
    spawn(process.execPath, [join(root, 'bench', 'baseline-server.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
    /listening (http:\/\/\S+)/,
    bodyFile,
    connections,
    durationSeconds,
  );
  const mosaic = await measure(
    spawn(process.execPath, [...RUNTIME_NODE_ARGS, bundle], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: launcherEnv({
        PORT: '0',
        MOSAIC_DATA_DIR: dataDir,
        MOSAIC_WRITE_KEY: BENCH_WRITE_KEY,
        MOSAIC_LOG_LEVEL: 'error',
      }),
    }),
    /running at (http:\/\/\S+)/,
    bodyFile,
    connections,
    durationSeconds,
  );
  const collectorAlone = await measure(
    spawn(process.execPath, [...RUNTIME_NODE_ARGS, collectorServer, BENCH_WRITE_KEY], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: launcherEnv(),
    }),
    /running at (http:\/\/\S+)/,
    bodyFile,
    connections,
    durationSeconds,
  );
  return { mosaic, baseline, collectorAlone };
}

/**
 * A server's rounds as one: medians of rates, latencies and CPU figures, the highest peak RSS, all
 * refusals.
 */
function summarise(runs: readonly Measured[]): Measured {
  const mid = (pick: (run: Measured) => number) => median(runs.map(pick));
  const sum = (pick: (run: Measured) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const cpus = runs.flatMap((run) => (run.cpu === undefined ? [] : [run.cpu]));
  return {
    ...(cpus.length === runs.length && cpus.length > 0 ? { cpu: medianCpuUse(cpus) } : {}),
    requestsPerSecond: mid((run) => run.requestsPerSecond),
    eventsPerSecond: mid((run) => run.eventsPerSecond),
    latencyP50: mid((run) => run.latencyP50),
    latencyP99: mid((run) => run.latencyP99),
    peakRssMb: Math.max(...runs.map((run) => run.peakRssMb)),
    totalRequests: sum((run) => run.totalRequests),
    ok: sum((run) => run.ok),
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    timeouts: sum((run) => run.timeouts),
  };
}

async function measure(
  server: ChildProcess,
  ready: RegExp,
  bodyFile: string,
  connections: number,
  seconds: number,
): Promise<Measured> {
  try {
    const url = await printedUrl(server, ready);
    // A short warm-up (JIT, connection pools), then the measured run.
    await runLoad(`${url}/v1/batch`, connections, 2, bodyFile);
    const pid = server.pid as number;
    const result = await runLoad(`${url}/v1/batch`, connections, seconds, bodyFile, pid);
    const peakRssMb = await peakRssOf(pid);
    // Only answered-200 batches count as ingested events; refusals (503 under back-pressure) are reported.
    const eventsPerSecond = (result.ok / Math.max(result.totalRequests, 1)) * result.requestsPerSecond * 20;
    return { ...result, eventsPerSecond, peakRssMb };
  } finally {
    await stopChild(server);
  }
}

/** A load run from a process of its own; with `serverPid`, the server's CPU while it ran. */
function runLoad(
  url: string,
  connections: number,
  seconds: number,
  bodyFile: string,
  serverPid?: number,
): Promise<LoadResult> {
  return jsonOfChild<LoadResult>(join('bench', 'load.ts'), [
    url,
    String(connections),
    String(seconds),
    bodyFile,
    ...(serverPid === undefined ? [] : [String(serverPid)]),
  ]);
}
