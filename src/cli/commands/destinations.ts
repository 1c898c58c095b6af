import { type Command, InvalidArgumentError } from 'commander';
import { DESTINATION_NAME } from '../../core/activation/destination-config';
import type { CommandContext } from '../context';
import { formatDestination, formatDestinationList, formatDestinationTest } from '../format-destinations';
import { JobFailedError, waitBudget } from '../jobs';

/**
 * How long `destinations test` waits for its answer when `--timeout` is not given: a webhook's own
 * timeout is at most 60 s, and an OAuth token request may come first.
 */
export const DEFAULT_TEST_WAIT_MS = 70_000;

/**
 * `mosaic destinations list | show NAME | test NAME`: the Destinations API (core/activation/views.ts,
 * docs/cli.md). `test` exits 6 when the test delivery failed, as a failed job does.
 */
export function registerDestinations(program: Command, context: CommandContext): void {
  const destinations = program
    .command('destinations')
    .description('see where audiences go, and send a test batch to a destination')
    .addHelpText(
      'after',
      `
Examples:
  mosaic destinations list
  mosaic destinations show esp
  mosaic destinations test esp        # one signed test batch, no member; exit 6 if it failed
`,
    );

  destinations
    .command('list')
    .description('the configured destinations: kind, segments, consent, where they send')
    .action(async (_options: unknown, command: Command) => {
      const { api, print } = context.connect(command);
      print(await api.listDestinations(), (data) => formatDestinationList(data.destinations));
    });

  destinations
    .command('show')
    .description('a destination: its settings and the fields it receives, with their PII policy')
    .argument('<name>', 'the destination name', parseDestinationName)
    .action(async (name: string, _options: unknown, command: Command) => {
      const { api, print } = context.connect(command);
      print(await api.destination(name), formatDestination);
    });

  destinations
    .command('test')
    .description(
      `send one synthetic test batch (no member, marked test) through the destination's real sender and report what happened (--timeout: default ${DEFAULT_TEST_WAIT_MS / 1000} s)`,
    )
    .argument('<name>', 'the destination name', parseDestinationName)
    .action(async (name: string, _options: unknown, command: Command) => {
      const connection = context.connect(command);
      const result = await connection.api.testDestination(name, {
        timeoutMs: waitBudget(command, connection, DEFAULT_TEST_WAIT_MS),
      });
      connection.print(result, formatDestinationTest);
      if (!result.data.ok) {
        const view = result.data;
        throw new JobFailedError(
          // The exit code of a failed job (6); jobs.ts names preview and export failures only.
          'destination_test_failed',
          `the test delivery to ${view.destination} failed: ${view.error ?? (view.status === undefined ? 'no reason given' : `HTTP ${view.status}`)}`,
        );
      }
    });
}

function parseDestinationName(text: string): string {
  if (!DESTINATION_NAME.test(text))
    throw new InvalidArgumentError('Expected a destination name: letters, digits, _ and -, at most 64.');
  return text;
}
