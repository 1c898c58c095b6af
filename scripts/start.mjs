// `npm start`: bundles the local runtime with esbuild — as the CDK bundles each Lambda — and runs the
// bundle in a child process. Bundled JavaScript keeps the runtime as lean as a Lambda (Node 20 runs a
// TypeScript loader's hooks on a second thread with a heap of its own), and the child starts with
// its allocators' arenas capped (see launcherEnv).
// Signals are passed on, so Ctrl+C still lands everything before the runtime exits.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'mosaic');
export const bundlePath = join(cacheDir, 'local-runtime', 'local-runtime.mjs');

/**
 * Bundles a TypeScript entry point (path from the repository's root) to `<cache>/<name>/<name>.mjs` for
 * Node, with the local runtime's resolver thread (`src/local/resolver-thread.ts`) next to it, where
 * the runtime starts it from, and any `companions` (bundle name → entry path) the entry starts as
 * workers.
 */
export async function bundleForNode(entry, name, companions = {}) {
  const outdir = join(cacheDir, name);
  const entries = {
    'resolver-thread': join('src', 'local', 'resolver-thread.ts'),
    ...companions,
    [name]: entry,
  };
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([out, path]) => [out, join(root, path)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies load from node_modules as they are (DuckDB has a native binding).
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return join(outdir, `${name}.mjs`);
}

/**
 * The environment the runtime runs in, as the launcher starts it (benchmarks start their servers in
 * it too), with the SDK's notice that its 2027 releases need Node 22 silenced (Lambda runs Node 22,
 * this machine may not). Variables already set win.
 *
 * - `MALLOC_ARENA_MAX=2`: DuckDB's worker threads otherwise each grow a glibc malloc arena, tens of MB.
 * - `DUCKDB_JE_MALLOC_CONF=narenas:1`: DuckDB allocates with a jemalloc of its own, which spreads its
 *   threads over several arenas, each holding freed memory of its own. With one arena the ingest
 *   benchmark's peak RSS was 341–351 MB against 354–364 MB (2026-11-24, four runs each in turns, the
 *   same requests a second), and the segments benchmark's previews took as long as without it (p50
 *   1.38 / 0.81 / 0.67 / 1.82 / 1.93 s against 1.36 / 0.83 / 0.68 / 1.82 / 1.92 s). Also tried:
 *   `dirty_decay_ms:0` (freed pages given back at once) took a further 20 MB off the ingest peak but
 *   made those previews about a third slower; a decay of 50–250 ms, with or without jemalloc's
 *   background threads, changed nothing.
 */
export function launcherEnv(overrides = {}) {
  return {
    MALLOC_ARENA_MAX: '2',
    DUCKDB_JE_MALLOC_CONF: 'narenas:1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...process.env,
    ...overrides,
  };
}

/**
 * Node's flags for the runtime, as the launcher starts it (benchmarks start their servers with them
 * too). `--v8-pool-size=1`: one thread for V8's background work (garbage collection, optimising
 * compilation) instead of four. The runtime keeps three JavaScript threads busy (collector and APIs,
 * resolver, embedded engine), and V8's helpers competed with them for the cores. On a 2-core
 * machine, in turns (unify benchmark), the Profile API's p99 at 25 % / 50 % load was 19 / 18 and
 * 18 / 15 ms with one helper, 19 / 27 and 16 / 17 ms with none (`--single-threaded-gc`, which also
 * slowed the collector alone by about a tenth), and 17 / 18 and 29 / 32 ms with four; the collector
 * over HTTP did not change.
 *
 * `--heap-growing-percent=50`: after each full collection a heap may grow by half before the next,
 * instead of the up to fourfold V8 picks on a machine with memory to spare. Under the ingest
 * benchmark's load the live data of the collector's thread was about 45 MB (heap snapshot) while its
 * heap and the buffers its garbage held reached 160 MB, and the resolver's thread likewise. Alternating
 * runs of that load (50 connections, 10 s, 3 rounds), peak RSS was 441–480 MB with V8's choice and
 * 363–376 MB with 30 % or 60 %, at the same requests per second; 15 % collected so often that it
 * cost about a tenth of them. 50 % sits between the two that cost nothing (359–374 MB in 3 runs after).
 * Like the pool size, V8 applies it to every thread of the process.
 */
export const RUNTIME_NODE_ARGS = ['--enable-source-maps', '--v8-pool-size=1', '--heap-growing-percent=50'];

export function bundleLocalRuntime() {
  return bundleForNode(join('src', 'local', 'main.ts'), 'local-runtime');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleLocalRuntime();
  const child = spawn(process.execPath, [...RUNTIME_NODE_ARGS, bundlePath], {
    stdio: 'inherit',
    env: launcherEnv(),
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
