import type { Command } from 'commander';
import type { JobStatus } from '../core/segments/views';
import { ApiError, type ApiResult, ApiTimeoutError } from './api-client';
import type { CliIo, Connection } from './context';
import type { GlobalOptions } from './settings';

/**
 * Waiting for the Segments API's jobs (a preview or an export that answered RUNNING): poll until the
 * job is done, within one overall deadline, with a progress indicator on stderr that never touches
 * stdout.
 */

/** Between two polls of a running job. */
export const POLL_INTERVAL_MS = 1000;

/** A job is still running when the deadline of its wait passes (exit 4, like any timeout). */
export class WaitTimeoutError extends Error {
  constructor(
    /** `export exp_1`, `preview pv_1 of segment pro-buyers` */
    readonly job: string,
    readonly waitedMs: number,
    /** What to do next, e.g. the command that shows the job later. */
    readonly hint: string,
  ) {
    super(`${job} is still running after ${formatDuration(waitedMs)}`);
    this.name = 'WaitTimeoutError';
  }
}

/** The job ended FAILED (exit 6); the message holds the API's reason. */
export class JobFailedError extends Error {
  constructor(
    readonly code: 'preview_failed' | 'export_failed' | 'destination_test_failed',
    message: string,
  ) {
    super(message);
    this.name = 'JobFailedError';
  }
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The process's clock, unless the I/O brings its own (tests). */
export function clockOf(io: CliIo): Clock {
  return {
    now: io.now ?? Date.now,
    sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}

/** How a wait shows itself on stderr: redrawn in place on a terminal, plain lines otherwise, or not at all. */
export type ProgressMode = 'tty' | 'lines' | 'none';

export interface Progress {
  /** The job's state, `elapsedMs` after the command began; called often (each spinner frame). */
  show(text: string, elapsedMs: number): void;
  /** Clears what a terminal shows, before the result or an error is printed. */
  end(): void;
}

/** Between two plain progress lines when stderr is not a terminal (a CI log, a file). */
export const PROGRESS_LINE_EVERY_MS = 10_000;
const SPINNER = ['|', '/', '-', '\\'];
const CLEAR_LINE = '\r\u001b[K';

export function createProgress(write: (text: string) => void, mode: ProgressMode): Progress {
  if (mode === 'none') return { show() {}, end() {} };
  if (mode === 'lines') {
    let nextAt = 0;
    return {
      show(text, elapsedMs) {
        if (elapsedMs < nextAt) return;
        write(`mosaic: ${text} (${formatDuration(elapsedMs)})\n`);
        nextAt = (Math.floor(elapsedMs / PROGRESS_LINE_EVERY_MS) + 1) * PROGRESS_LINE_EVERY_MS;
      },
      end() {},
    };
  }
  let frame = 0;
  let drawn = false;
  return {
    show(text, elapsedMs) {
      write(`${CLEAR_LINE}${SPINNER[frame++ % SPINNER.length]} ${text} ${formatDuration(elapsedMs)}`);
      drawn = true;
    },
    end() {
      if (drawn) write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** Progress on stderr: none with --json, redrawn on a terminal, plain lines otherwise. */
export function progressFor(io: CliIo, connection: Connection): Progress {
  const mode: ProgressMode = connection.settings.json ? 'none' : io.stderrIsTty === true ? 'tty' : 'lines';
  return createProgress(io.stderr, mode);
}

/** A wait's budget: `--timeout`, when given, bounds the whole wait; otherwise the command's own default. */
export function waitBudget(command: Command, connection: Connection, fallbackMs: number): number {
  return command.optsWithGlobals<GlobalOptions>().timeout === undefined
    ? fallbackMs
    : connection.settings.timeoutMs;
}

export interface WaitOptions<T> {
  /** The answer that started the job (200 done, or 202 RUNNING). */
  readonly first: ApiResult<T>;
  /** Reads the job again, within `timeoutMs`. */
  readonly poll: (timeoutMs: number) => Promise<ApiResult<T>>;
  /** Names the job in progress lines and the timeout: `export exp_1`. */
  readonly label: string;
  /** When the command began, by `clock`; the deadline counts from there. */
  readonly startedAt: number;
  /** The whole wait, the first request included. */
  readonly budgetMs: number;
  readonly clock: Clock;
  readonly progress: Progress;
  /** For the timeout's message: what to do next. */
  readonly timeoutHint: string;
  readonly intervalMs?: number;
}

/** A poll may fail this many times in a row on a retryable error (5xx, 429, unreachable) before the wait gives up. */
const MAX_POLL_FAILURES = 3;
/** A terminal's spinner turns this often while waiting between polls. */
const FRAME_MS = 250;

/**
 * Polls while the job's status is RUNNING and returns the answer that ended it (SUCCEEDED or FAILED).
 * Throws {@link WaitTimeoutError} when `budgetMs` passes first.
 */
export async function waitForJob<T extends { readonly status: JobStatus }>(
  options: WaitOptions<T>,
): Promise<ApiResult<T>> {
  const { clock, progress } = options;
  const interval = options.intervalMs ?? POLL_INTERVAL_MS;
  const deadline = options.startedAt + options.budgetMs;
  const elapsed = () => clock.now() - options.startedAt;
  let current = options.first;
  let failures = 0;
  try {
    while (current.data.status === 'RUNNING') {
      const pauseUntil = Math.min(clock.now() + interval, deadline);
      do {
        progress.show(`${options.label} ${current.data.status}`, elapsed());
        await clock.sleep(Math.max(0, Math.min(FRAME_MS, pauseUntil - clock.now())));
      } while (clock.now() < pauseUntil);
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw new WaitTimeoutError(options.label, elapsed(), options.timeoutHint);
      try {
        current = await options.poll(remaining);
        failures = 0;
      } catch (error) {
        if (error instanceof ApiTimeoutError)
          throw new WaitTimeoutError(options.label, elapsed(), options.timeoutHint);
        if (error instanceof ApiError && error.retryable && ++failures < MAX_POLL_FAILURES) continue;
        throw error;
      }
    }
  } finally {
    progress.end();
  }
  return current;
}

/** `850 ms`, `3.4 s`, `2 min 05 s` */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
