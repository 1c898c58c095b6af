import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import type { Identifier } from '../../src/core/identity/identifier';
import type { LedgerEntry, LedgerReason } from '../../src/core/identity/merge-plan';
import { applyEvent } from '../../src/core/profile/apply-event';
import { attachIdentifiers } from '../../src/core/profile/identities';
import { assembleProfile, createProfile, type Profile } from '../../src/core/profile/profile';
import { MemoryProfileReader } from './memory-profile-reader';

/**
 * Profiles as the resolver builds them (`applyEvent` over stream records), and a graph around them
 * with merged profiles, for the Profile API's tests.
 */
export const T0 = Date.parse('2026-05-01T10:00:00.000Z');
/** `minutes` after T0, as ISO-8601. */
export const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

interface RecordFields extends JsonObject {
  type?: CallType;
  id: string;
  /** Event time, minutes after T0. */
  minute: number;
  context?: JsonObject;
}

export function streamRecord(fields: RecordFields): StreamRecord {
  const { type = 'track', id, minute, context = {}, ...rest } = fields;
  return {
    messageId: id,
    source: 'web',
    type,
    timestamp: at(minute),
    receivedAt: at(minute),
    context,
    ...rest,
  } as StreamRecord;
}

/** A profile built by applying the records in order, with these identities. */
export function buildProfile(
  profileId: string,
  identities: readonly Identifier[],
  records: readonly StreamRecord[],
  options: { readonly createdAt?: string; readonly mergedFrom?: readonly string[] } = {},
): Profile {
  let profile = createProfile(profileId, options.createdAt ?? at(-60));
  for (const record of records) profile = applyEvent(profile, record).profile;
  profile = attachIdentifiers(profile, identities);
  return options.mergedFrom === undefined
    ? profile
    : assembleProfile({ ...profile, mergedFrom: options.mergedFrom });
}

/** Jane's identifiers, including values with `:`, `/`, `+`, `@` and a literal `%41`. */
export const JANE = {
  userId: { type: 'user_id', value: 'u-jane' },
  email: { type: 'email', value: 'jane@example.com' },
  phone: { type: 'phone', value: '+14155552671' },
  device: { type: 'device_id', value: 'ios:4F2A:9' },
  anonymous: { type: 'anonymous_id', value: 'a/b%41' },
} as const satisfies Record<string, Identifier>;

/** 22 product views (minutes 10–31), an identify with traits and consent, a page, two group calls. */
export const JANE_RECORDS: readonly StreamRecord[] = [
  streamRecord({
    type: 'identify',
    id: 'm-identify',
    minute: 1,
    userId: 'u-jane',
    traits: { email: 'jane@example.com', name: 'Jane', plan: 'pro', address: { city: 'Lisbon' } },
    context: { consent: { categoryPreferences: { Advertising: false, Analytics: true } } },
  }),
  ...Array.from({ length: 22 }, (_, i) =>
    streamRecord({ id: `m-view-${i}`, minute: 10 + i, event: 'Product Viewed', anonymousId: 'a/b%41' }),
  ),
  streamRecord({ type: 'page', id: 'm-page', minute: 5, name: 'Pricing', anonymousId: 'a/b%41' }),
  streamRecord({ type: 'group', id: 'm-group-acme', minute: 2, groupId: 'acme', userId: 'u-jane' }),
  streamRecord({ type: 'group', id: 'm-group-globex', minute: 7, groupId: 'globex', userId: 'u-jane' }),
];

export const JANE_ID = 'p_jane';
/** Merged into Jane's profile; its identities now point at Jane's. */
export const ANON_ID = 'p_anon';
/** Merged into p_anon before p_anon was merged into Jane's: two redirects from Jane's profile. */
export const OLD_ID = 'p_old';

export const janeProfile = (): Profile =>
  buildProfile(JANE_ID, Object.values(JANE), JANE_RECORDS, { mergedFrom: [ANON_ID, OLD_ID] });

export function ledgerEntry(fields: {
  id: string;
  minute: number;
  identifier: Identifier;
  from: string | null;
  to: string;
  reason?: LedgerReason;
  detail?: string;
}): LedgerEntry {
  const { minute, reason = 'linked', ...rest } = fields;
  return { at: at(minute), source: 'web', messageId: `msg-${fields.id}`, reason, ...rest };
}

/** The ledger that built Jane's profile (shuffled: stores and tests must not rely on insertion order). */
export const JANE_LEDGER: readonly LedgerEntry[] = [
  ledgerEntry({
    id: 'l-4',
    minute: 40,
    identifier: JANE.userId,
    from: ANON_ID,
    to: JANE_ID,
    reason: 'merged',
  }),
  ledgerEntry({
    id: 'l-1',
    minute: 1,
    identifier: { type: 'anonymous_id', value: 'anon-old' },
    from: null,
    to: OLD_ID,
  }),
  ledgerEntry({ id: 'l-3', minute: 30, identifier: JANE.userId, from: null, to: JANE_ID }),
  ledgerEntry({
    id: 'l-2',
    minute: 20,
    identifier: JANE.anonymous,
    from: OLD_ID,
    to: ANON_ID,
    reason: 'merged',
  }),
  ledgerEntry({
    id: 'l-5',
    minute: 50,
    identifier: { type: 'user_id', value: 'u-other' },
    from: null,
    to: JANE_ID,
    reason: 'dropped_by_limit',
    detail: 'user_id limit 1 (would hold 2)',
  }),
];

/** A ledger entry of an unrelated profile: never part of Jane's merges. */
export const OTHER_LEDGER_ENTRY = ledgerEntry({
  id: 'l-other',
  minute: 35,
  identifier: { type: 'email', value: 'bob@example.com' },
  from: null,
  to: 'p_bob',
});

/**
 * Jane's graph after two merges: p_old → p_anon → p_jane (retired redirects), her identities pointing
 * at her live profile, and one identifier still pointing at the retired p_old (re-pointing is
 * lazy: merge step 3 may not have reached it).
 */
export function janeGraph(): MemoryProfileReader {
  return new MemoryProfileReader()
    .putLive(janeProfile())
    .putRetired(ANON_ID, JANE_ID)
    .putRetired(OLD_ID, ANON_ID)
    .own({ type: 'anonymous_id', value: 'anon-old' }, OLD_ID)
    .appendLedger([...JANE_LEDGER, OTHER_LEDGER_ENTRY]);
}
