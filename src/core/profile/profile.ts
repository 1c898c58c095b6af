import type { CallType } from '../events/stream-record';
import { IdentityInvariantError } from '../identity/errors';
import type { Identifier } from '../identity/identifier';
import { MAX_PROFILE_ID_LENGTH } from './bounds';

/**
 * When a value was written, for last-write-wins: the event's `timestamp` in ms since the epoch, then
 * the message key (`messageKey(source, messageId)`) to break ties between events of the same
 * millisecond deterministically.
 */
export interface Version {
  /** Event time (`timestamp`), ms since the epoch. */
  readonly t: number;
  /** Message key of the event that wrote it. */
  readonly h: string;
}

/** A JSON value as it arrived in an event. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** One trait: its value and the version of the write that set it. */
export interface TraitEntry extends Version {
  readonly v: JsonValue;
}

/** The latest `context.consent.categoryPreferences` seen, whole (a later event replaces it). */
export interface ConsentState extends Version {
  readonly categoryPreferences: Readonly<Record<string, boolean>>;
}

/** One of the last events, as the Profile API lists them (`/events`). */
export interface EventSummary {
  /** The message key: stable, unique per (source, messageId). */
  readonly key: string;
  readonly messageId: string;
  readonly source: string;
  readonly type: CallType;
  /** The track event name, or the page/screen name. */
  readonly event?: string;
  /** ISO-8601 UTC. */
  readonly timestamp: string;
}

/** A message applied, for idempotency: its `receivedAt` (ms since the epoch) and its message key. */
export type SeenMark = readonly [receivedAt: number, key: string];

/**
 * One person's profile, as a plain JSON value (a store serialises it as it is). Everything in it is a
 * function of the set of events applied and profiles merged — not of their order (see
 * `applyEvent` and `mergeProfiles` for the precise guarantees) — and everything is bounded
 * (`ProfileBounds`), so the serialised profile stays within `PROFILE_BUDGET_BYTES`.
 *
 * Maps are plain objects with keys in a canonical order, so equal profiles serialise to equal text.
 * Read them with `Object.hasOwn` (a trait may be called `constructor`).
 */
export interface Profile {
  readonly schemaVersion: 1;
  readonly profileId: string;
  /** When the profile was created (the creating message's `receivedAt`): fixed, used by the winner rule. */
  readonly createdAt: string;
  /** Earliest event `timestamp` applied (ISO-8601 UTC); absent until the first event. */
  readonly firstSeen?: string;
  /** Latest event `timestamp` applied. */
  readonly lastSeen?: string;
  /** Identifiers resolving to this profile, by type then value. Kept by the identity graph's steps. */
  readonly identities: readonly Identifier[];
  /** Trait name → value and version; the newest write per trait wins. */
  readonly traits: Readonly<Record<string, TraitEntry>>;
  readonly consent?: ConsentState;
  /** Events applied, all types. */
  readonly eventCount: number;
  /** Events applied per call type. */
  readonly typeCounts: Readonly<Partial<Record<CallType, number>>>;
  /** Track events per event name (the first `maxEventNames` names in code-unit order). */
  readonly eventCounts: Readonly<Record<string, number>>;
  /** Track events whose names fall outside `eventCounts`. */
  readonly otherEventCount: number;
  /** Group id → latest event time (ms) of a `group` call naming it. */
  readonly groups: Readonly<Record<string, number>>;
  /** The last events by `timestamp`, newest first. */
  readonly recentEvents: readonly EventSummary[];
  /** The most recently received messages applied, newest first (idempotency; see `dedupe.ts`). */
  readonly seen: readonly SeenMark[];
  /** The newest message forgotten: messages received in earlier milliseconds count as seen. */
  readonly seenHorizon?: SeenMark;
  /** Profiles merged into this one, directly or through others (makes merging idempotent). */
  readonly mergedFrom: readonly string[];
}

/**
 * A new, empty profile. `createdAt` should be the `receivedAt` of the message that creates it (see
 * `planMerge`), so that re-planning the same message after a crash creates the same profile.
 */
export function createProfile(profileId: string, createdAt: string): Profile {
  if (profileId.length === 0 || profileId.length > MAX_PROFILE_ID_LENGTH) {
    throw new IdentityInvariantError(`a profile id has 1 to ${MAX_PROFILE_ID_LENGTH} characters`);
  }
  if (Number.isNaN(Date.parse(createdAt))) {
    throw new IdentityInvariantError('createdAt must be an ISO-8601 time');
  }
  return {
    schemaVersion: 1,
    profileId,
    createdAt,
    identities: [],
    traits: {},
    eventCount: 0,
    typeCounts: {},
    eventCounts: {},
    otherEventCount: 0,
    groups: {},
    recentEvents: [],
    seen: [],
    mergedFrom: [],
  };
}

/**
 * A profile with its fields in one fixed order and absent optional fields left out, so that equal
 * profiles serialise to equal text however they were built.
 */
export function assembleProfile(fields: Omit<Profile, 'schemaVersion'>): Profile {
  return {
    schemaVersion: 1,
    profileId: fields.profileId,
    createdAt: fields.createdAt,
    ...(fields.firstSeen === undefined ? {} : { firstSeen: fields.firstSeen }),
    ...(fields.lastSeen === undefined ? {} : { lastSeen: fields.lastSeen }),
    identities: fields.identities,
    traits: fields.traits,
    ...(fields.consent === undefined ? {} : { consent: fields.consent }),
    eventCount: fields.eventCount,
    typeCounts: fields.typeCounts,
    eventCounts: fields.eventCounts,
    otherEventCount: fields.otherEventCount,
    groups: fields.groups,
    recentEvents: fields.recentEvents,
    seen: fields.seen,
    ...(fields.seenHorizon === undefined ? {} : { seenHorizon: fields.seenHorizon }),
    mergedFrom: fields.mergedFrom,
  };
}
