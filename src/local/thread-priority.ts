import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread (a worker's own thread, not the process), to
 * `os.constants.priority.PRIORITY_BELOW_NORMAL` (nice 10). Linux only, where a thread's id comes
 * from `/proc/thread-self` and `setpriority` takes it; elsewhere, or if refused, it changes nothing.
 * Returns whether the priority was lowered.
 */
export function lowerThisThreadsPriority(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(threadId) || threadId <= 0) return false;
    setPriority(threadId, constants.priority.PRIORITY_BELOW_NORMAL);
    return true;
  } catch {
    return false;
  }
}
