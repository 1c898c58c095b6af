// Where a server's CPU goes during a measured run, read from Linux's /proc: the time each of its
// threads ran and waited for a core, and how busy the whole machine was. Reads are synchronous (a
// few small files), so a server can sample itself between two events.
import { readdirSync, readFileSync } from 'node:fs';
import { median } from './stats';

/** A process's threads and the machine at one moment. */
export interface CpuSample {
  readonly at: number;
  /** Per thread id: nanoseconds it ran and nanoseconds it waited on a run queue. */
  readonly threads: ReadonlyMap<string, { readonly runNs: number; readonly waitNs: number }>;
  /** The main thread's id (the pid). */
  readonly main: string;
  /**
   * The machine's CPU time in clock ticks: all of it, the idle part (idle and iowait), and the part
   * the hypervisor gave other machines (steal).
   */
  readonly machineTicks: number;
  readonly machineIdleTicks: number;
  readonly machineStealTicks: number;
  /** The machine's cores (`cpuN` lines of `/proc/stat`). */
  readonly machineCores: number;
}

/** Between two samples, in cores (seconds of CPU a second). */
export interface CpuUse {
  /**
   * Every thread of the process alive at the second sample (one that ended in between drops out; one
   * born in between counts from its start).
   */
  readonly processCores: number;
  /** The main thread alone: the one that serves HTTP. */
  readonly mainThreadCores: number;
  /** The main thread waiting for a core while it could have run. */
  readonly mainThreadWaitingCores: number;
  /** Every thread of the process waiting for a core. */
  readonly waitingCores: number;
  /** The share of the machine's CPU time the hypervisor gave to other machines. */
  readonly stealShare: number;
  /** Busy cores of the whole machine (the load generator and anything else included). */
  readonly machineBusyCores: number;
  readonly machineCores: number;
}

/**
 * Samples `pid`'s threads (`/proc/<pid>/task/<tid>/schedstat`: run time, wait time, timeslices) and
 * the machine (`/proc/stat`). Undefined where `/proc` does not have them (not Linux).
 */
export function sampleCpu(pid: number): CpuSample | undefined {
  try {
    const threads = new Map<string, { runNs: number; waitNs: number }>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const figures = threadFigures(pid, tid);
      if (figures === undefined) continue; // the thread ended meanwhile
      const [runNs, waitNs] = figures.trim().split(' ').map(Number);
      threads.set(tid, { runNs: runNs ?? 0, waitNs: waitNs ?? 0 });
    }
    const stat = readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = (stat[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    return {
      at: performance.now(),
      threads,
      main: String(pid),
      machineTicks: ticks.reduce((sum, value) => sum + value, 0),
      machineIdleTicks: (ticks[3] ?? 0) + (ticks[4] ?? 0),
      machineStealTicks: ticks[7] ?? 0,
      machineCores: stat.filter((line) => /^cpu\d/.test(line)).length,
    };
  } catch {
    return undefined;
  }
}

function threadFigures(pid: number, tid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
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
  let waitNs = 0;
  for (const [tid, thread] of after.threads) {
    // A thread born since the first sample ran and waited only in between.
    const earlier = before.threads.get(tid) ?? { runNs: 0, waitNs: 0 };
    runNs += thread.runNs - earlier.runNs;
    waitNs += thread.waitNs - earlier.waitNs;
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
    waitingCores: cores(waitNs),
    stealShare: ticks > 0 ? (after.machineStealTicks - before.machineStealTicks) / ticks : 0,
    machineBusyCores: ticks > 0 ? ((ticks - idle) / ticks) * machineCores : 0,
    machineCores,
  };
}

/** Each figure the median of the runs' (of several runs of one server). */
export function medianCpuUse(uses: readonly CpuUse[]): CpuUse {
  const mid = (pick: (use: CpuUse) => number) => median(uses.map(pick));
  return {
    processCores: mid((use) => use.processCores),
    mainThreadCores: mid((use) => use.mainThreadCores),
    mainThreadWaitingCores: mid((use) => use.mainThreadWaitingCores),
    waitingCores: mid((use) => use.waitingCores),
    stealShare: mid((use) => use.stealShare),
    machineBusyCores: mid((use) => use.machineBusyCores),
    machineCores: mid((use) => use.machineCores),
  };
}
