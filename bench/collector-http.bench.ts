import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForNode, bundleLocalRuntime } from '../scripts/start.mjs';
import { peakRssMb as peakRssOf, printedUrl, stopChild } from './child';
import { BENCH_WRITE_KEY, batchBodies } from './fixtures';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly totalRequests: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
}

export type Measured = LoadResult & { eventsPerSecond: number; peakRssMb: number };

export interface HttpBenchResult {
  readonly mosaic: Measured;
  readonly baseline: Measured;
  /** The collector with nothing behind the stream (`collector-server.ts`): the runtime's ceiling. */
  readonly collectorAlone: Measured;
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
export async function benchCollectorHttp(connections = 50, durationSeconds = 10): Promise<HttpBenchResult> {
  const work = await mkdtemp(join(tmpdir(), 'mosaic-bench-'));
  const bodyFile = join(work, 'body.json');
  const authorization = `Basic ${Buffer.from(`${BENCH_WRITE_KEY}:`).toString('base64')}`;
  await writeFile(bodyFile, JSON.stringify({ body: batchBodies(1)[0], authorization }));
  try {
    const baseline = await measure(
      spawn(process.execPath, [join(root, 'bench', 'baseline-server.mjs')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
      /listening (http:\/\/\S+)/,
      bodyFile,
      connections,
      durationSeconds,
    );
    // The runtime exactly as `npm start` runs it: the bundle, with the launcher's environment.
    const bundle = await bundleLocalRuntime();
    const mosaic = await measure(
      spawn(process.execPath, [bundle], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          MALLOC_ARENA_MAX: '2',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...process.env,
          PORT: '0',
          MOSAIC_DATA_DIR: join(work, 'data'),
          MOSAIC_WRITE_KEY: BENCH_WRITE_KEY,
          MOSAIC_LOG_LEVEL: 'error',
        },
      }),
      /running at (http:\/\/\S+)/,
      bodyFile,
      connections,
      durationSeconds,
    );
    const collectorAlone = await measure(
      spawn(
        process.execPath,
        [await bundleForNode('bench/collector-server.ts', 'collector-server'), BENCH_WRITE_KEY],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { MALLOC_ARENA_MAX: '2', ...process.env },
        },
      ),
      /running at (http:\/\/\S+)/,
      bodyFile,
      connections,
      durationSeconds,
    );
    return {
      mosaic,
      baseline,
      collectorAlone,
      ratio: mosaic.eventsPerSecond / baseline.eventsPerSecond,
      collectorAloneRatio: collectorAlone.eventsPerSecond / baseline.eventsPerSecond,
      connections,
      durationSeconds,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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
    const result = await runLoad(`${url}/v1/batch`, connections, seconds, bodyFile);
    const peakRssMb = await peakRssOf(server.pid as number);
    // Only answered-200 batches count as ingested events; refusals (503 under back-pressure) are reported.
    const eventsPerSecond = (result.ok / Math.max(result.totalRequests, 1)) * result.requestsPerSecond * 20;
    return { ...result, eventsPerSecond, peakRssMb };
  } finally {
    await stopChild(server);
  }
}

function runLoad(url: string, connections: number, seconds: number, bodyFile: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'bench', 'load.ts'),
        url,
        String(connections),
        String(seconds),
        bodyFile,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as LoadResult)
        : reject(new Error(`load generator exited ${code}`)),
    );
  });
}
