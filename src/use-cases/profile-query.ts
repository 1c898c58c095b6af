import { LRUCache } from 'lru-cache';
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

/**
 * Identifiers whose live profile lookups remember by default: an entry is a key and a profile id, at
 * most a few hundred bytes, so ten thousand of the people asked about most recently take a few MB.
 */
export const DEFAULT_LOOKUP_CACHE_ENTRIES = 10_000;

/** What the Profile API reads of the identity graph: the read half of {@link IdentityStore}. */
export type ProfileReader = Pick<IdentityStore, 'getOwners' | 'getProfiles' | 'listLedger'>;

export interface ProfileQueryDeps {
  readonly store: ProfileReader;
  /** The identity configuration the resolver uses: lookups normalise values exactly as it does. */
  readonly identity: IdentityConfig;
  /**
   * How many identifiers' live profiles lookups remember (0: none), the most recently asked for
   * kept. Default {@link DEFAULT_LOOKUP_CACHE_ENTRIES}.
   */
  readonly lookupCacheEntries?: number;
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

/**
 * The Profile API's reads. A lookup by identifier reads the identifier's item, then its owner's
 * profile (and any redirects from it). It remembers the live profile it found, so the next lookup of
 * that identifier reads one item, the profile, instead of two — a person asked about again and again,
 * as personalisation does on every page, costs half the reads and one wait on the store less.
 *
 * A remembered answer is used only if the profile it names, redirects followed as ever, is live and
 * still lists the identifier; otherwise the lookup starts again from the identifier's item. Either way
 * the answer is the one a lookup without memory gives: an identifier's owner only ever moves from a
 * profile being merged to the profile it merges into (`planMerge`), the very redirect its chain
 * follows, so the owner's chain and the remembered profile's end at the same live profile. The check
 * on the listing guards that argument against anything that moves identifiers otherwise.
 */
export function createProfileQuery(deps: ProfileQueryDeps): ProfileQuery {
  const rules = identityRules(deps.identity);
  const knownTypes = [...rules.types.map((type) => type.config.name), PROFILE_ID_TYPE];
  const cacheEntries = deps.lookupCacheEntries ?? DEFAULT_LOOKUP_CACHE_ENTRIES;
  if (!Number.isInteger(cacheEntries) || cacheEntries < 0) {
    throw new RangeError('lookupCacheEntries must be a whole number, 0 or more');
  }
  /** Identifier key → the live profile id a lookup last found for it (and that listed it). */
  const remembered = cacheEntries > 0 ? new LRUCache<string, string>({ max: cacheEntries }) : undefined;

  async function lookup(type: string, value: string): Promise<Profile> {
    if (type === PROFILE_ID_TYPE) return liveProfile(checkedProfileId(value));
    const identifier = toIdentifier(type, value);
    const key = identifierKey(identifier);
    const known = remembered?.get(key);
    if (known !== undefined) {
      const profile = await followRedirects(known);
      if (profile !== undefined && lists(profile, identifier)) {
        // Merged since: remember the survivor, so the next lookup reads no redirect.
        if (profile.profileId !== known) remembered?.set(key, profile.profileId);
        return profile;
      }
      remembered?.delete(key);
    }
    const owner = (await deps.store.getOwners([identifier])).get(key);
    if (owner === undefined) throw new ProfileNotFoundError('No profile has this identifier');
    const profile = await liveProfile(owner.profileId);
    // Not yet listed: a link in progress (the resolver lists an identifier before it claims it).
    if (lists(profile, identifier)) remembered?.set(key, profile.profileId);
    return profile;
  }

  function toIdentifier(type: string, value: string): Identifier {
    const compiled = rules.byName.get(type);
    if (compiled === undefined) throw new UnknownIdentifierTypeError(type, knownTypes);
    const outcome = toIdentifierValue(compiled, value, rules.config.defaultPhoneCountry);
    if (typeof outcome !== 'string') throw new InvalidIdentifierError(type, outcome.reason, outcome.rule);
    return { type, value: outcome };
  }

  async function liveProfile(profileId: string): Promise<Profile> {
    const profile = await followRedirects(profileId);
    if (profile === undefined) throw new ProfileNotFoundError('No profile has this identifier');
    return profile;
  }

  /**
   * Follows `merging` and `retired` redirects to the live profile; undefined if the profile, or one
   * a redirect names, does not exist (an owner whose profile is not written yet, a redirect to
   * nothing).
   */
  async function followRedirects(profileId: string): Promise<Profile | undefined> {
    const visited = new Set<string>();
    let id = profileId;
    while (visited.size <= MAX_REDIRECT_HOPS) {
      if (visited.has(id)) throw new ProfileRedirectError(`Profile redirects form a cycle through ${id}`);
      visited.add(id);
      const record = (await deps.store.getProfiles([id])).get(id);
      if (record === undefined) return undefined;
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

const lists = (profile: Profile, identifier: Identifier): boolean =>
  profile.identities.some((listed) => listed.type === identifier.type && listed.value === identifier.value);

/** A profile id as given: 1 to {@link MAX_PROFILE_ID_LENGTH} characters, no white space or controls. */
function checkedProfileId(value: string): string {
  if (value.length > MAX_PROFILE_ID_LENGTH) throw new InvalidIdentifierError(PROFILE_ID_TYPE, 'too_long');
  if (value.length === 0 || /[\s\p{Cc}]/u.test(value))
    throw new InvalidIdentifierError(PROFILE_ID_TYPE, 'invalid');
  return value;
}
