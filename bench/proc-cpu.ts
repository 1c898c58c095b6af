// Where a server's CPU goes during a measured run, read from Linux's /proc: the time each of its
// threads ran, the time its main thread waited for a core, and how busy the whole machine was.
import { readdir, readFile } from 'node:fs/promises';

/** A process's threads and the machine at one moment. */
export interface CpuSample {
  readonly at: number;
  /** Per thread id: nanoseconds it ran and nanoseconds it waited on a run queue. */
  readonly threads: ReadonlyMap<string, { readonly runNs: number; readonly waitNs: number }>;
  /** The main thread's id (the pid). */
  readonly main: string;
  /** The machine's CPU time in clock ticks: all of it, and the idle part (idle and iowait). */
  readonly machineTicks: number;
  readonly machineIdleTicks: number;
  /** The machine's cores (`cpuN` lines of `/proc/stat`). */
  readonly machineCores: number;
}

/** Between two samples, in cores (seconds of CPU a second). */
export interface CpuUse {
  /** Every thread of the process (those alive at both samples). */
  readonly processCores: number;
  /** The main thread alone: the one that serves HTTP. */
  readonly mainThreadCores: number;
  /** The main thread waiting for a core while it could have run. */
  readonly mainThreadWaitingCores: number;
  /** Busy cores of the whole machine (the load generator and anything else included). */
  readonly machineBusyCores: number;
  readonly machineCores: number;
}

/**
 * Samples `pid`'s threads (`/proc/<pid>/task/<tid>/schedstat`: run time, wait time, timeslices) and
 * the machine (`/proc/stat`). Undefined where `/proc` does not have them (not Linux).
 */
export async function sampleCpu(pid: number): Promise<CpuSample | undefined> {
  try {
    const threads = new Map<string, { runNs: number; waitNs: number }>();
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const figures = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => undefined);
      if (figures === undefined) continue; // the thread ended meanwhile
      const [runNs, waitNs] = figures.trim().split(' ').map(Number);
      threads.set(tid, { runNs: runNs ?? 0, waitNs: waitNs ?? 0 });
    }
    const stat = (await readFile('/proc/stat', 'utf8')).split('\n');
    const ticks = (stat[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    return {
      at: performance.now(),
      threads,
      main: String(pid),
      machineTicks: ticks.reduce((sum, value) => sum + value, 0),
      machineIdleTicks: (ticks[3] ?? 0) + (ticks[4] ?? 0),
      machineCores: stat.filter((line) => /^cpu\d/.test(line)).length,
    };
  } catch {
    return undefined;
  }
}

/** What the process and the machine used between two samples; undefined if either is missing. */
export function cpuBetween(before: CpuSample | undefined, after: CpuSample | undefined): CpuUse | undefined {
  if (before === undefined || after === undefined) return undefined;
  const seconds = (after.at - before.at) / 1000;
  const cores = (ns: number) => ns / 1e9 / seconds;
  let runNs = 0;
  for (const [tid, thread] of after.threads) {
    const earlier = before.threads.get(tid);
    if (earlier !== undefined) runNs += thread.runNs - earlier.runNs;
  }
  const mainAfter = after.threads.get(after.main);
  const mainBefore = before.threads.get(before.main);
  const machineCores = after.machineCores;
  const ticks = after.machineTicks - before.machineTicks;
  const idle = after.machineIdleTicks - before.machineIdleTicks;
  return {
    processCores: cores(runNs),
    mainThreadCores: mainAfter && mainBefore ? cores(mainAfter.runNs - mainBefore.runNs) : 0,
    mainThreadWaitingCores: mainAfter && mainBefore ? cores(mainAfter.waitNs - mainBefore.waitNs) : 0,
    machineBusyCores: ticks > 0 ? ((ticks - idle) / ticks) * machineCores : 0,
    machineCores,
  };
}
