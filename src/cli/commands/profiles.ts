import type { Command } from 'commander';
import type { ProfileView } from '../../core/profile/profile-view';
import type { ApiResult, MosaicApiClient, ProfileIdentifier } from '../api-client';
import { parseIdentifier, parseLimit } from '../arguments';
import type { CommandContext } from '../context';
import { formatEvents, formatMerges, formatProfile } from '../format';

const IDENTIFIER_HELP =
  'type:value, e.g. email:jane@example.com, user_id:42, profile_id:p_... (split at the first ":")';

/** `mosaic profiles get | events | merges <type:value>`: the Profile API (DESIGN.md "Profile API"). */
export function registerProfiles(program: Command, context: CommandContext): void {
  const profiles = program
    .command('profiles')
    .description('read unified profiles through the Profile API')
    .addHelpText(
      'after',
      '\nExamples:\n  mosaic profiles get email:jane@example.com\n  mosaic profiles events user_id:user-1 --limit 5\n  mosaic profiles merges anonymous_id:anon-9 --json\n',
    );

  profiles
    .command('get')
    .description('the profile: identities, traits, counters, consent, first and last seen')
    .argument('<identifier>', IDENTIFIER_HELP, parseIdentifier)
    .action(async (id: ProfileIdentifier, _options: unknown, command: Command) => {
      const { api, print } = context.connect(command);
      print(await readProfile(api, id), formatProfile);
    });

  profiles
    .command('events')
    .description('the most recent events of the profile, newest first')
    .argument('<identifier>', IDENTIFIER_HELP, parseIdentifier)
    .option('--limit <n>', 'how many events (the API allows 1 to 50; default 20)', parseLimit)
    .action(async (id: ProfileIdentifier, options: { limit?: number }, command: Command) => {
      const { api, print } = context.connect(command);
      print(await api.profileEvents(id, options.limit), formatEvents);
    });

  profiles
    .command('merges')
    .description('the merge ledger entries that built the profile, oldest first')
    .argument('<identifier>', IDENTIFIER_HELP, parseIdentifier)
    .action(async (id: ProfileIdentifier, _options: unknown, command: Command) => {
      const { api, print } = context.connect(command);
      print(await api.profileMerges(id), formatMerges);
    });
}

/**
 * The profile an identifier names. The Profile API reads a value ending in `/events` or `/merges` as
 * that sub-resource (it receives the path decoded), so for such a value the profile id is read first
 * through `/events` (which splits it correctly) and the profile is then read by `profile_id`.
 */
export async function readProfile(
  api: MosaicApiClient,
  id: ProfileIdentifier,
): Promise<ApiResult<ProfileView>> {
  if (id.type !== 'profile_id' && /\/(events|merges)$/.test(id.value)) {
    const { data } = await api.profileEvents(id, 1);
    return api.profile({ type: 'profile_id', value: data.profileId });
  }
  return api.profile(id);
}
