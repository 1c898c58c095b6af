import type { Command } from 'commander';
import type { ApiResult, MosaicApiClient } from './api-client';
import type { Settings } from './settings';

/** Where the CLI writes and what it reads: the process's streams and environment, or a test's. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The `fetch` the API client uses (tests inject one); the global `fetch` otherwise. */
  readonly fetch?: typeof fetch;
  /** The whole of standard input, for `-f -`; absent when there is none to read. */
  readonly readStdin?: () => Promise<string>;
  /** stderr is a terminal: a wait redraws one progress line there; otherwise it prints plain lines. */
  readonly stderrIsTty?: boolean;
  /** The clock and the pause between polls (`Date.now` and a timer otherwise); tests make waits instant. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What a running command gets: its settings, an API client, and one way to print a result. */
export interface Connection {
  readonly settings: Settings;
  readonly api: MosaicApiClient;
  /** A successful answer on stdout: the API's JSON as it came with `--json`, `format(data)` otherwise. */
  print<T>(result: ApiResult<T>, format: (data: T) => string): void;
}

/** Shared by every command group. */
export interface CommandContext {
  readonly io: CliIo;
  /**
   * Resolves the global options (`--api`, `--key`, `--timeout`, `--json`) with the environment and
   * connects; call it in an action with the action's command.
   */
  connect(command: Command): Connection;
}

/**
 * A group of subcommands (`mosaic profiles ...`, `mosaic segments ...`): it adds itself to the
 * program with `program.command(name)`, so its commands inherit the program's output and exit handling.
 */
export type CommandGroup = (program: Command, context: CommandContext) => void;
