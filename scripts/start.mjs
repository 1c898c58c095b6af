// `npm start`: bundles the local runtime with esbuild — as the CDK bundles each Lambda — and runs the
// bundle in a child process. Bundled JavaScript keeps the runtime as lean as a Lambda (Node 20 runs a
// TypeScript loader's hooks on a second thread with a heap of its own), and the child starts with
// MALLOC_ARENA_MAX=2: DuckDB's worker threads otherwise each grow a glibc malloc arena, tens of MB.
// Signals are passed on, so Ctrl+C still lands everything before the runtime exits.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bundlePath = join(root, 'node_modules', '.cache', 'mosaic', 'local-runtime.mjs');

export async function bundleLocalRuntime() {
  await build({
    entryPoints: [join(root, 'src', 'local', 'main.ts')],
    outfile: bundlePath,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies load from node_modules as they are (DuckDB has a native binding).
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return bundlePath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleLocalRuntime();
  const child = spawn(process.execPath, ['--enable-source-maps', bundlePath], {
    stdio: 'inherit',
    // The SDK warns that its 2027 releases need Node 22; Lambda runs Node 22, this machine may not.
    env: { MALLOC_ARENA_MAX: '2', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
