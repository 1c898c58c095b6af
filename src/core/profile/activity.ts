import type { CallType, StreamRecord } from '../events/stream-record';
import { compareStrings } from '../identity/identifier';
import { cutToJsonBytes, jsonBytes } from '../identity/json-bytes';
import { canonical, getOwn, mergeRanked, type RankedMapOps, writeRanked } from './bounded-map';
import type { ProfileBounds } from './bounds';
import type { EventSummary, Profile } from './profile';
import { isoOf } from './version';
import type { ProfileWarning } from './warnings';

/** A string cut to fit `maxBytes` of JSON text without its quotes. */
const cut = (text: string, maxBytes: number): string => cutToJsonBytes(text, maxBytes + 2);

/** The name an event is counted and listed under: a track event's name, a page or screen name. */
export function eventName(
  record: StreamRecord,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): string | undefined {
  const name =
    record.type === 'track'
      ? record.event
      : record.type === 'page' || record.type === 'screen'
        ? record.name
        : undefined;
  if (typeof name !== 'string' || name === '') return undefined;
  if (jsonBytes(name) - 2 <= bounds.maxEventNameBytes) return name;
  warnings.push({ code: 'event_name_cut', detail: `longer than ${bounds.maxEventNameBytes} bytes` });
  return cut(name, bounds.maxEventNameBytes);
}

type Counters = Pick<Profile, 'eventCount' | 'typeCounts' | 'eventCounts' | 'otherEventCount'>;

/**
 * Counts one event: in total, per call type, and per track event name. Names are counted one by one
 * for the first `maxEventNames` names in code-unit order and together in `otherEventCount` beyond;
 * a name's place in that order never changes, so which names are counted one by one depends only on
 * the set of names seen, never on the order they came in.
 */
export function countEvent(
  counters: Counters,
  type: CallType,
  trackName: string | undefined,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): Counters {
  // Incrementing a key that exists keeps the canonical key order; a new key needs a rebuild.
  const typeCounts = { ...counters.typeCounts, [type]: (counters.typeCounts[type] ?? 0) + 1 };
  let { eventCounts, otherEventCount } = counters;
  if (trackName !== undefined) {
    const count = getOwn(eventCounts, trackName);
    if (count !== undefined) eventCounts = { ...eventCounts, [trackName]: count + 1 };
    else {
      ({ eventCounts, otherEventCount } = foldNames(
        { ...eventCounts, [trackName]: 1 },
        otherEventCount,
        bounds,
        warnings,
      ));
    }
  }
  return {
    eventCount: counters.eventCount + 1,
    typeCounts: counters.typeCounts[type] === undefined ? canonical(Object.entries(typeCounts)) : typeCounts,
    eventCounts,
    otherEventCount,
  };
}

/** Adds two profiles' counters. */
export function addCounters(
  a: Counters,
  b: Counters,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): Counters {
  const typeCounts: Record<string, number> = { ...a.typeCounts };
  for (const [type, n] of Object.entries(b.typeCounts)) typeCounts[type] = (typeCounts[type] ?? 0) + (n ?? 0);
  const eventCounts: Record<string, number> = {};
  for (const source of [a.eventCounts, b.eventCounts]) {
    for (const [name, n] of Object.entries(source)) {
      Object.defineProperty(eventCounts, name, {
        value: (getOwn(eventCounts, name) ?? 0) + n,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const folded = foldNames(eventCounts, a.otherEventCount + b.otherEventCount, bounds, warnings);
  return {
    eventCount: a.eventCount + b.eventCount,
    typeCounts: canonical(Object.entries(typeCounts)) as Counters['typeCounts'],
    ...folded,
  };
}

function foldNames(
  counts: Record<string, number>,
  other: number,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): { eventCounts: Readonly<Record<string, number>>; otherEventCount: number } {
  const entries = Object.entries(counts).sort(([a], [b]) => compareStrings(a, b));
  if (entries.length <= bounds.maxEventNames)
    return { eventCounts: canonical(entries), otherEventCount: other };
  const folded = entries.slice(bounds.maxEventNames);
  warnings.push({
    code: 'event_names_folded',
    detail: `${folded.length} names beyond ${bounds.maxEventNames}`,
  });
  return {
    eventCounts: canonical(entries.slice(0, bounds.maxEventNames)),
    otherEventCount: other + folded.reduce((sum, [, n]) => sum + n, 0),
  };
}

/** Group entries: latest time a group call named the group; the most recent `maxGroups` kept. */
const groupOps = (bounds: ProfileBounds): RankedMapOps<number> => ({
  compare: (a, b) => a - b,
  rank: (a, b) => a - b,
  max: bounds.maxGroups,
});

/** Records a `group` call's group id (ids longer than `maxGroupIdBytes` are not kept: cutting would confuse groups). */
export function noteGroup(
  groups: Readonly<Record<string, number>>,
  record: StreamRecord,
  t: number,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): Readonly<Record<string, number>> {
  if (record.type !== 'group' || typeof record.groupId !== 'string' || record.groupId === '') return groups;
  if (jsonBytes(record.groupId) - 2 > bounds.maxGroupIdBytes) {
    warnings.push({ code: 'group_id_too_long', detail: `longer than ${bounds.maxGroupIdBytes} bytes` });
    return groups;
  }
  const { map, dropped } = writeRanked(groups, [[record.groupId, t]], groupOps(bounds));
  if (dropped > 0) warnings.push({ code: 'groups_trimmed', detail: `over ${bounds.maxGroups}` });
  return map;
}

export function mergeGroups(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
  bounds: ProfileBounds,
  warnings: ProfileWarning[],
): Readonly<Record<string, number>> {
  const { map, dropped } = mergeRanked(a, b, groupOps(bounds));
  if (dropped > 0) warnings.push({ code: 'groups_trimmed', detail: `over ${bounds.maxGroups}` });
  return map;
}

/** The summary of an event for the profile's list of last events. */
export function summarize(
  record: StreamRecord,
  key: string,
  t: number,
  name: string | undefined,
  bounds: ProfileBounds,
): EventSummary {
  return {
    key,
    messageId: cut(record.messageId, bounds.maxSummaryIdBytes),
    source: cut(record.source, bounds.maxSummarySourceBytes),
    type: record.type,
    ...(name === undefined ? {} : { event: name }),
    timestamp: isoOf(t),
  };
}

const summaryTime = (summary: EventSummary): number => Date.parse(summary.timestamp);

/** Newest first by timestamp, then by key: a total order, so the last `maxRecentEvents` are well defined. */
function compareNewestFirst(a: EventSummary, b: EventSummary): number {
  return (
    summaryTime(b) - summaryTime(a) ||
    compareStrings(a.key, b.key) ||
    compareStrings(JSON.stringify(a), JSON.stringify(b))
  );
}

/** The last `maxRecentEvents` events of both lists (by timestamp, not by arrival), newest first. */
export function recentEvents(
  a: readonly EventSummary[],
  b: readonly EventSummary[],
  bounds: ProfileBounds,
): readonly EventSummary[] {
  const byKey = new Map<string, EventSummary>();
  for (const summary of [...a, ...b]) {
    const current = byKey.get(summary.key);
    if (current === undefined || compareNewestFirst(summary, current) < 0) byKey.set(summary.key, summary);
  }
  return [...byKey.values()].sort(compareNewestFirst).slice(0, bounds.maxRecentEvents);
}

/** Adds one event's summary to the last events, keeping the newest `maxRecentEvents` by timestamp. */
export function addRecentEvent(
  list: readonly EventSummary[],
  summary: EventSummary,
  bounds: ProfileBounds,
): readonly EventSummary[] {
  if (list.some((s) => s.key === summary.key)) return recentEvents(list, [summary], bounds);
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareNewestFirst(list[mid] as EventSummary, summary) < 0) low = mid + 1;
    else high = mid;
  }
  if (low >= bounds.maxRecentEvents) return list;
  const next = list.slice();
  next.splice(low, 0, summary);
  if (next.length > bounds.maxRecentEvents) next.length = bounds.maxRecentEvents;
  return next;
}
