import { BadRequestError, MosaicError } from '../core/errors';
import { type RejectionReason, toIdentifierValue } from '../core/identity/extract-identifiers';
import { type Identifier, identifierKey } from '../core/identity/identifier';
import type { IdentityConfig } from '../core/identity/identity-config';
import { identityRules } from '../core/identity/identity-rules';
import { MAX_PROFILE_ID_LENGTH } from '../core/profile/bounds';
import type { Profile } from '../core/profile/profile';
import {
  type EventsView,
  eventsView,
  type MergesView,
  mergesView,
  type ProfileView,
  profileView,
} from '../core/profile/profile-view';
import type { IdentityStore } from '../ports/identity-store';

/** The type that names a profile by its id rather than by one of its identifiers. */
export const PROFILE_ID_TYPE = 'profile_id';

/** `/events?limit=N`: how many events by default, and at most (a profile keeps its last 50). */
export const EVENTS_LIMIT = { default: 20, max: 50 } as const;

/**
 * Most redirects followed from the profile an identifier names to the live one. Every merge leaves
 * one redirect and the resolver finishes a merge before it starts another over the same profile, so
 * a longer chain means the graph is broken, not busy.
 */
export const MAX_REDIRECT_HOPS = 16;

/** What the Profile API reads of the identity graph: the read half of {@link IdentityStore}. */
export type ProfileReader = Pick<IdentityStore, 'getOwners' | 'getProfiles' | 'listLedger'>;

export interface ProfileQueryDeps {
  readonly store: ProfileReader;
  /** The identity configuration the resolver uses: lookups normalise values exactly as it does. */
  readonly identity: IdentityConfig;
}

/** The Profile API's reads (DESIGN.md "Profile API"), by `{type}:{value}`. */
export interface ProfileQuery {
  /** The live profile an identifier (or `profile_id`) leads to, through any merges. */
  lookup(type: string, value: string): Promise<Profile>;
  profile(type: string, value: string): Promise<ProfileView>;
  /** The last `limit` events, newest first; `limit` is 1 to {@link EVENTS_LIMIT}.max. */
  events(type: string, value: string, limit?: number): Promise<EventsView>;
  /** The merge ledger entries that built the profile, oldest first. */
  merges(type: string, value: string): Promise<MergesView>;
}

/** The `{type}` is neither a configured identifier type nor `profile_id`. */
export class UnknownIdentifierTypeError extends BadRequestError {
  constructor(type: string, known: readonly string[]) {
    super(`Unknown identifier type "${type.slice(0, 40)}"; use one of ${known.join(', ')}`, {
      code: 'unknown_identifier_type',
    });
  }
}

/** The `{value}` can never be an identifier of its type (blocked, invalid, too long). */
export class InvalidIdentifierError extends BadRequestError {
  constructor(
    readonly type: string,
    readonly reason: RejectionReason,
    rule?: string,
  ) {
    super(
      `The value is not a valid ${type} identifier: ${reason.replace('_', ' ')}${rule === undefined ? '' : ` (${rule})`}`,
      { code: 'invalid_identifier' },
    );
  }
}

/** `limit` is not a whole number from 1 to {@link EVENTS_LIMIT}.max. */
export class InvalidLimitError extends BadRequestError {
  constructor() {
    super(`limit must be a whole number from 1 to ${EVENTS_LIMIT.max}`, { code: 'invalid_limit' });
  }
}

/** No profile has the identifier (or no profile has the id). */
export class ProfileNotFoundError extends MosaicError {
  readonly statusCode = 404;
  readonly code = 'profile_not_found';
}

/**
 * The redirects from a merged profile form a cycle or a chain longer than {@link MAX_REDIRECT_HOPS}:
 * the identity graph is broken. Not retryable.
 */
export class ProfileRedirectError extends MosaicError {
  readonly statusCode = 500;
  readonly code = 'profile_redirect_broken';
}

export function createProfileQuery(deps: ProfileQueryDeps): ProfileQuery {
  const rules = identityRules(deps.identity);
  const knownTypes = [...rules.types.map((type) => type.config.name), PROFILE_ID_TYPE];

  async function lookup(type: string, value: string): Promise<Profile> {
    if (type === PROFILE_ID_TYPE) return liveProfile(checkedProfileId(value));
    const identifier = toIdentifier(type, value);
    const owner = (await deps.store.getOwners([identifier])).get(identifierKey(identifier));
    if (owner === undefined) throw new ProfileNotFoundError('No profile has this identifier');
    return liveProfile(owner.profileId);
  }

  function toIdentifier(type: string, value: string): Identifier {
    const compiled = rules.byName.get(type);
    if (compiled === undefined) throw new UnknownIdentifierTypeError(type, knownTypes);
    const outcome = toIdentifierValue(compiled, value, rules.config.defaultPhoneCountry);
    if (typeof outcome !== 'string') throw new InvalidIdentifierError(type, outcome.reason, outcome.rule);
    return { type, value: outcome };
  }

  /** Follows `merging` and `retired` redirects to the live profile. */
  async function liveProfile(profileId: string): Promise<Profile> {
    const visited = new Set<string>();
    let id = profileId;
    while (visited.size <= MAX_REDIRECT_HOPS) {
      if (visited.has(id)) throw new ProfileRedirectError(`Profile redirects form a cycle through ${id}`);
      visited.add(id);
      const record = (await deps.store.getProfiles([id])).get(id);
      // A redirect to a profile that is gone (or an owner whose profile is not written yet): not found.
      if (record === undefined) throw new ProfileNotFoundError('No profile has this identifier');
      if (record.state === 'live') return record.profile;
      id = record.into;
    }
    throw new ProfileRedirectError(`More than ${MAX_REDIRECT_HOPS} redirects from profile ${profileId}`);
  }

  return {
    lookup,
    async profile(type, value) {
      return profileView(await lookup(type, value));
    },
    async events(type, value, limit = EVENTS_LIMIT.default) {
      if (!Number.isInteger(limit) || limit < 1 || limit > EVENTS_LIMIT.max) throw new InvalidLimitError();
      return eventsView(await lookup(type, value), limit);
    },
    async merges(type, value) {
      const profile = await lookup(type, value);
      return mergesView(profile, await deps.store.listLedger([profile.profileId, ...profile.mergedFrom]));
    },
  };
}

/** A profile id as given: 1 to {@link MAX_PROFILE_ID_LENGTH} characters, no white space or controls. */
function checkedProfileId(value: string): string {
  if (value.length > MAX_PROFILE_ID_LENGTH) throw new InvalidIdentifierError(PROFILE_ID_TYPE, 'too_long');
  if (value.length === 0 || /[\s\p{Cc}]/u.test(value))
    throw new InvalidIdentifierError(PROFILE_ID_TYPE, 'invalid');
  return value;
}
