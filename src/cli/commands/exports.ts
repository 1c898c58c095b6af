import type { Command } from 'commander';
import type { ExportView } from '../../core/segments/views';
import { type ApiResult, exportPath } from '../api-client';
import type { CliIo, CommandContext, Connection } from '../context';
import { formatExport } from '../format-segments';
import { type Clock, clockOf, JobFailedError, progressFor, waitBudget, waitForJob } from '../jobs';
import { UsageError } from '../usage-error';

/** The whole of `export --wait` and `exports show --wait` when `--timeout` is not given (the longest `--timeout` allows). */
export const DEFAULT_EXPORT_WAIT_MS = 600_000;

/** `mosaic exports show <exportId> [--wait]`: an export's state, counts and location. */
export function registerExports(program: Command, context: CommandContext): void {
  const { io } = context;
  program
    .command('exports')
    .description("follow a segment's exports")
    .addHelpText(
      'after',
      '\nExamples:\n  mosaic exports show exp_01J...\n  mosaic exports show exp_01J... --wait\n',
    )
    .command('show')
    .description('an export: status, members, added and removed, where the files are')
    .argument('<exportId>', 'the id `mosaic segments export` printed')
    .option(
      '--wait',
      `while it runs, wait until it is done (--timeout: the whole wait; default ${DEFAULT_EXPORT_WAIT_MS / 1000} s)`,
    )
    .action(async (exportId: string, options: { wait?: boolean }, command: Command) => {
      if (exportId.trim() === '') throw new UsageError('exports show: the export id is empty');
      const connection = context.connect(command);
      const path = exportPath(exportId);
      if (options.wait !== true) {
        connection.print(await connection.api.exportAt(path), formatExport);
        return;
      }
      const clock = clockOf(io);
      const startedAt = clock.now();
      const budgetMs = waitBudget(command, connection, DEFAULT_EXPORT_WAIT_MS);
      const current = await connection.api.exportAt(path, { timeoutMs: budgetMs });
      await finishExport(current, path, { connection, io, clock, startedAt, budgetMs });
    });
}

export interface WaitContext {
  readonly connection: Connection;
  readonly io: CliIo;
  readonly clock: Clock;
  readonly startedAt: number;
  readonly budgetMs: number;
}

/** Waits while the export runs, then prints it; FAILED is a {@link JobFailedError} (exit 6). */
export async function finishExport(
  first: ApiResult<ExportView>,
  path: string,
  wait: WaitContext,
): Promise<void> {
  const { connection, io } = wait;
  const exportId = first.data.exportId;
  const done = await waitForJob({
    first,
    poll: (timeoutMs) => connection.api.exportAt(path, { timeoutMs }),
    label: `export ${exportId}`,
    startedAt: wait.startedAt,
    budgetMs: wait.budgetMs,
    clock: wait.clock,
    progress: progressFor(io, connection),
    timeoutHint: `it runs on: \`mosaic exports show ${exportId} --wait\` follows it again.`,
  });
  if (done.data.status === 'FAILED') failedExport(done, connection);
  connection.print(done, formatExport);
}

export function failedExport(result: ApiResult<ExportView>, connection: Connection): never {
  // With --json the API's answer is still the result (stdout); the failure is the exit code and stderr.
  if (connection.settings.json) connection.print(result, () => '');
  throw new JobFailedError(
    'export_failed',
    `export ${result.data.exportId} of segment ${result.data.segmentId} failed: ${result.data.error ?? 'the API gave no reason'}`,
  );
}
