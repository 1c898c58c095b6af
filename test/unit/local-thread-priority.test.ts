import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { threadPoolSize } from '../../src/local/thread-priority';

const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../src/local/thread-priority.ts')).href;

/**
 * Runs `code` (an ES module) in a Node process of its own, so the priorities it lowers are not the
 * test runner's; resolves with the JSON it prints.
 */
function runInChild(code: string, env: Record<string, string> = {}): unknown {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

/** What the child reports: the threads libuv's pool ran calls on, and every thread's nice value. */
const REPORT = `
import { readlink } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
async function report(extra) {
  const pool = new Set();
  for (let round = 0; round < 50; round++) {
    const answers = await Promise.all(Array.from({ length: 16 }, () => readlink('/proc/thread-self')));
    for (const answer of answers) pool.add(answer.split('/').pop());
  }
  const nice = Object.fromEntries(readdirSync('/proc/self/task').map((tid) => [tid, getPriority(Number(tid))]));
  console.log(JSON.stringify({ ...extra, pool: [...pool], nice, main: String(process.pid) }));
}
`;

interface Report {
  readonly pool: string[];
  readonly nice: Record<string, number>;
  readonly main: string;
}

describe('threadPoolSize', () => {
  it('reads UV_THREADPOOL_SIZE as libuv does: 4 unless set to a positive whole number, at most 1024', () => {
    expect(threadPoolSize(undefined)).toBe(4);
    expect(threadPoolSize('')).toBe(4);
    expect(threadPoolSize('8')).toBe(8);
    expect(threadPoolSize('1')).toBe(1);
    expect(threadPoolSize('0')).toBe(4);
    expect(threadPoolSize('-2')).toBe(4);
    expect(threadPoolSize('many')).toBe(4);
    expect(threadPoolSize('5000')).toBe(1024);
  });
});

// Run where the tests themselves run at a normal priority: a process already at nice 10 or more has
// nothing to lower to.
describe.runIf(process.platform === 'linux' && getPriority() < 10)('thread priorities (Linux)', () => {
  it("lowers every thread of libuv's pool to nice 10, and no other thread", () => {
    const report = runInChild(
      `import { lowerThreadPoolPriority } from '${moduleUrl}';
${REPORT}
const lowered = await lowerThreadPoolPriority();
await report({ lowered });`,
      { UV_THREADPOOL_SIZE: '3' },
    ) as Report & { lowered: number };
    expect(report.lowered).toBe(3);
    expect(report.pool).toHaveLength(3);
    for (const tid of report.pool) expect(report.nice[tid]).toBe(10);
    expect(report.nice[report.main]).toBe(getPriority());
    expect(Object.values(report.nice).filter((nice) => nice === 10)).toHaveLength(3);
  });

  it('finds a larger pool whole', () => {
    const report = runInChild(
      `import { lowerThreadPoolPriority } from '${moduleUrl}';
${REPORT}
await report({ lowered: await lowerThreadPoolPriority() });`,
      { UV_THREADPOOL_SIZE: '8' },
    ) as Report & { lowered: number };
    expect(report.lowered).toBe(8);
    expect(report.pool.every((tid) => report.nice[tid] === 10)).toBe(true);
  });

  it("lowers a worker's own thread, and not the process's others", () => {
    const report = runInChild(
      `import { Worker } from 'node:worker_threads';
${REPORT}
// The child runs with --input-type=module, which its workers' eval code inherits: an ES module too.
const worker = new Worker(
  \`import { parentPort } from 'node:worker_threads';
  import { readlinkSync } from 'node:fs';
  import { tsImport } from 'tsx/esm/api';
  const { lowerThisThreadsPriority } = await tsImport('${moduleUrl}', '${moduleUrl}');
  const lowered = lowerThisThreadsPriority();
  parentPort.postMessage({ lowered, tid: readlinkSync('/proc/thread-self').split('/').pop() });
  // Alive until told, so its thread is there to be looked at.
  parentPort.once('message', () => parentPort.close());\`,
  // Node 20 does not hand the parent's module hooks to a worker: it loads the TypeScript through tsx's API.
  { eval: true },
);
const { lowered, tid } = await new Promise((resolve) => worker.once('message', resolve));
await report({ lowered, worker: tid });
await worker.terminate();`,
    ) as Report & { lowered: boolean; worker: string };
    expect(report.lowered).toBe(true);
    expect(report.nice[report.worker]).toBe(10);
    expect(report.nice[report.main]).toBe(getPriority());
    expect(Object.values(report.nice).filter((nice) => nice === 10)).toHaveLength(1);
  });
});
