import type { CallType } from '../events/stream-record';
import { compareStrings, type Identifier } from '../identity/identifier';
import type { LedgerEntry } from '../identity/merge-plan';
import type { JsonValue, Profile } from './profile';
import { isoOf } from './version';

/**
 * What the Profile API shows of a profile (DESIGN.md "Profile API"): plain values, without the
 * versions, dedupe memory and other bookkeeping the profile keeps for resolution.
 */
export interface ProfileView {
  readonly profileId: string;
  readonly identities: readonly Identifier[];
  /** Trait name → its latest value. */
  readonly traits: Readonly<Record<string, JsonValue>>;
  readonly computed: ComputedView;
  /** Segment ids the profile is in (filled by the streaming segments). */
  readonly segments: readonly string[];
  /** The latest `context.consent.categoryPreferences`; `{}` when no event stated any. */
  readonly consent: Readonly<Record<string, boolean>>;
  /** Earliest event time (ISO-8601); `null` before the first event. */
  readonly firstSeen: string | null;
  /** Latest event time (ISO-8601); `null` before the first event. */
  readonly lastSeen: string | null;
  readonly createdAt: string;
  /** Profiles merged into this one. */
  readonly mergedFrom: readonly string[];
}

export interface ComputedView {
  readonly eventCount: number;
  readonly typeCounts: Readonly<Partial<Record<CallType, number>>>;
  /** Track events per name, for the first names in code-unit order (see `otherEventCount`). */
  readonly eventCounts: Readonly<Record<string, number>>;
  /** Track events whose names did not fit in `eventCounts`. */
  readonly otherEventCount: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  /** Groups the person was placed in by `group` calls, most recently named first. */
  readonly groups: readonly GroupView[];
}

export interface GroupView {
  readonly groupId: string;
  /** Time of the latest `group` call naming it (ISO-8601). */
  readonly lastSeen: string;
}

/** One of the profile's last events (`/events`). */
export interface EventView {
  readonly messageId: string;
  readonly source: string;
  readonly type: CallType;
  /** The track event name, or the page or screen name. */
  readonly event?: string;
  readonly timestamp: string;
}

export interface EventsView {
  readonly profileId: string;
  /** Newest first. */
  readonly events: readonly EventView[];
}

export interface MergesView {
  readonly profileId: string;
  /** The merge ledger entries that built the profile, oldest first. */
  readonly merges: readonly LedgerEntry[];
}

/** The Profile API's view of a live profile. */
export function profileView(profile: Profile): ProfileView {
  const firstSeen = profile.firstSeen ?? null;
  const lastSeen = profile.lastSeen ?? null;
  return {
    profileId: profile.profileId,
    identities: profile.identities.map((id) => ({ type: id.type, value: id.value })),
    // Object.fromEntries defines own properties, so a trait named `__proto__` or `constructor` is safe.
    traits: Object.fromEntries(Object.entries(profile.traits).map(([name, entry]) => [name, entry.v])),
    computed: {
      eventCount: profile.eventCount,
      typeCounts: profile.typeCounts,
      eventCounts: profile.eventCounts,
      otherEventCount: profile.otherEventCount,
      firstSeen,
      lastSeen,
      groups: Object.entries(profile.groups)
        .sort(([a, at], [b, bt]) => bt - at || compareStrings(a, b))
        .map(([groupId, t]) => ({ groupId, lastSeen: isoOf(t) })),
    },
    segments: [],
    consent: profile.consent?.categoryPreferences ?? {},
    firstSeen,
    lastSeen,
    createdAt: profile.createdAt,
    mergedFrom: profile.mergedFrom,
  };
}

/** The profile's last `limit` events, newest first (the profile keeps them in that order). */
export function eventsView(profile: Profile, limit: number): EventsView {
  return {
    profileId: profile.profileId,
    events: profile.recentEvents.slice(0, limit).map((summary) => ({
      messageId: summary.messageId,
      source: summary.source,
      type: summary.type,
      ...(summary.event === undefined ? {} : { event: summary.event }),
      timestamp: summary.timestamp,
    })),
  };
}

/**
 * The ledger entries of the profile and of every profile merged into it, oldest first (by time, then
 * id, so the order is the same however the store returned them), each once.
 */
export function mergesView(profile: Profile, entries: readonly LedgerEntry[]): MergesView {
  const byId = new Map<string, LedgerEntry>();
  for (const entry of entries) byId.set(entry.id, entry);
  return {
    profileId: profile.profileId,
    merges: [...byId.values()].sort((a, b) => compareStrings(a.at, b.at) || compareStrings(a.id, b.id)),
  };
}
