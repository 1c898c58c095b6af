import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { createApiClient } from './api-client';
import { parseTimeout } from './arguments';
import { registerDestinations } from './commands/destinations';
import { registerExports } from './commands/exports';
import { registerProfiles } from './commands/profiles';
import { registerSegments } from './commands/segments';
import type { CliIo, CommandContext, CommandGroup } from './context';
import { describeFailure, EXIT } from './failures';
import {
  DEFAULT_TIMEOUT_MS,
  type GlobalOptions,
  LOCAL_API_URL,
  resolveSettings,
  type Settings,
} from './settings';

/**
 * `mosaic`: Mosaic's command line over its admin APIs. A thin layer: commander parses, a command
 * group's action calls the typed API client (api-client.ts) and prints with a pure formatter
 * (format.ts) or, with `--json`, the API's JSON as it came. Failures become a message on stderr and
 * an exit code (failures.ts).
 *
 * Run it with `npx mosaic ...` or `npm run -s mosaic -- ...` (bin/mosaic-cli.mjs), or in-process with
 * {@link run}.
 */

/**
 * The command groups, in the order `mosaic --help` lists them; each is one {@link CommandGroup}, its
 * requests typed methods of the API client, and all share the global options, `--json` and the exit
 * codes.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  registerProfiles,
  registerSegments,
  registerExports,
  registerDestinations,
];

const HELP_AFTER = `
Environment:
  MOSAIC_API_URL    the API's base URL when --api is not given (in AWS: the stack's CollectorUrl)
  MOSAIC_ADMIN_KEY  the admin key when --key is not given (better than --key, which other users of
                    this machine can see in the process list)

Exit codes:
  ${EXIT.ok}  success
  ${EXIT.usage}  usage: unknown command or option, a bad value, a request the API called invalid (400)
  ${EXIT.notFound}  not found: no profile has that identifier, no such segment or export
  ${EXIT.auth}  auth: the API refused the admin key (401, 403)
  ${EXIT.unavailable}  unavailable: nothing listening, timeout, a 5xx or 429, or not a Mosaic API
  ${EXIT.internal}  a bug in the CLI
  ${EXIT.jobFailed}  failed: the preview, or the export waited for (--wait), ended FAILED; a destination test failed

With --json, stdout holds the API's JSON answer and nothing else; errors and hints go to stderr.
A preview, and an export with --wait, poll until the job is done: --timeout then bounds the whole wait.
`;

/**
 * Runs one command line (`argv` without the node and script paths) and resolves with its exit code;
 * never throws and never exits the process.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let settings: Settings | undefined;
  const context: CommandContext = {
    io,
    connect(command) {
      const resolved = resolveSettings(command.optsWithGlobals<GlobalOptions>(), io.env);
      settings = resolved;
      if (resolved.keyFrom === 'default' && !resolved.json)
        io.stderr('mosaic: using the local development admin key (--key or MOSAIC_ADMIN_KEY for another)\n');
      const api = createApiClient({
        baseUrl: resolved.apiUrl,
        adminKey: resolved.adminKey,
        timeoutMs: resolved.timeoutMs,
        userAgent: `mosaic-cli/${version}`,
        ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
      });
      return {
        settings: resolved,
        api,
        print(result, format) {
          io.stdout(
            resolved.json
              ? result.raw.endsWith('\n')
                ? result.raw
                : `${result.raw}\n`
              : format(result.data),
          );
        },
      };
    },
  };

  const program = buildProgram(io);
  for (const group of COMMAND_GROUPS) group(program, context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // Commander has already printed its message (or the help it was asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const failure = describeFailure(error, settings);
    io.stderr(failure.lines.map((line) => `${line}\n`).join(''));
    return failure.exitCode;
  }
}

function buildProgram(io: CliIo): Command {
  return new Command('mosaic')
    .description(
      "Mosaic's command line: read unified profiles, define, preview and export segments, and test destinations, through the admin APIs of a local runtime (`npm start`) or a deployed stack.",
    )
    .version(version, '-V, --version')
    .option(
      '--api <url>',
      `the API's base URL (default: MOSAIC_API_URL, else ${LOCAL_API_URL}, the local runtime)`,
    )
    .option('--key <key>', 'an admin key (default: MOSAIC_ADMIN_KEY, else the local development key)')
    .option('--json', "print the API's JSON as it is, and nothing else, on stdout")
    .option(
      '--timeout <seconds>',
      `seconds to wait for each answer (default: ${DEFAULT_TIMEOUT_MS / 1000}); for a preview or --wait, for the whole wait`,
      parseTimeout,
    )
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(text),
    })
    .showHelpAfterError('(mosaic --help for usage)')
    .addHelpText('after', HELP_AFTER);
}

/** The process entry (bin/mosaic-cli.mjs): arguments, streams and environment of this process. */
export async function main(): Promise<void> {
  // `mosaic ... | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  process.exitCode = await run(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stderrIsTty: process.stderr.isTTY === true,
    readStdin: async () => {
      if (process.stdin.isTTY)
        process.stderr.write('mosaic: reading JSON from the terminal; end it with Ctrl-D\n');
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  });
}
