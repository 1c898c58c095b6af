import { readlinkSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { constants, setPriority } from 'node:os';

/** The priority background threads get: `os.constants.priority.PRIORITY_BELOW_NORMAL` (nice 10). */
const BACKGROUND = constants.priority.PRIORITY_BELOW_NORMAL;

/**
 * Lowers the scheduling priority of the calling thread (a worker's own thread, not the process), to
 * `os.constants.priority.PRIORITY_BELOW_NORMAL` (nice 10). Linux only, where a thread's id comes
 * from `/proc/thread-self` and `setpriority` takes it; elsewhere, or if refused, it changes nothing.
 * Returns whether the priority was lowered.
 */
export function lowerThisThreadsPriority(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return lowerThread(readlinkSync('/proc/thread-self'));
  } catch {
    return false;
  }
}

/**
 * Lowers libuv's thread pool — where DuckDB runs the lake writer's conversions and the segments'
 * queries, and Node runs asynchronous file calls — to nice 10, as {@link lowerThisThreadsPriority}
 * does for one thread. Node names none of the pool's threads, so each is found by the kernel's own
 * answer: `/proc/thread-self`, read by an asynchronous `readlink`, is the pool thread that ran the
 * call. Reads go out in rounds, several per thread at once, until every thread of the pool
 * (`UV_THREADPOOL_SIZE`, default 4) has answered or `maxRounds` have passed. Linux only; resolves
 * with how many threads were lowered.
 */
export async function lowerThreadPoolPriority(
  poolSize = threadPoolSize(process.env.UV_THREADPOOL_SIZE),
  maxRounds = 100,
): Promise<number> {
  if (process.platform !== 'linux') return 0;
  const found = new Set<string>();
  for (let round = 0; round < maxRounds && found.size < poolSize; round++) {
    const answers = await Promise.all(
      Array.from({ length: poolSize * 4 }, () => readlink('/proc/thread-self').catch(() => undefined)),
    );
    for (const answer of answers) if (answer !== undefined) found.add(answer);
  }
  let lowered = 0;
  for (const thread of found) if (lowerThread(thread)) lowered++;
  return lowered;
}

/** libuv's pool size for a `UV_THREADPOOL_SIZE` setting: 4 unless set, between 1 and 1024. */
export function threadPoolSize(setting: string | undefined): number {
  const size = Number.parseInt(setting ?? '', 10);
  return Number.isSafeInteger(size) && size > 0 ? Math.min(size, 1024) : 4;
}

/** Lowers the thread `/proc/thread-self` named (`<pid>/task/<tid>`); whether it could. */
function lowerThread(threadSelf: string): boolean {
  try {
    const threadId = Number(threadSelf.split('/').pop());
    if (!Number.isSafeInteger(threadId) || threadId <= 0) return false;
    setPriority(threadId, BACKGROUND);
    return true;
  } catch {
    return false;
  }
}
