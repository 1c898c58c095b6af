import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '../../src/core/errors';
import {
  BUS_SOURCE,
  busEntryBytes,
  envelopeTime,
  MAX_BUS_EVENT_BYTES,
  prepareBusEvents,
} from '../../src/core/events/bus-event';
import {
  isMergeEntry,
  PROFILE_MERGED,
  ProfileMergedDetail,
  profileMergedEvent,
} from '../../src/core/events/bus-events';
import type { LedgerEntry } from '../../src/core/identity/merge-plan';

const mergeEntry: LedgerEntry = {
  id: 'ledger-1',
  at: '2026-11-22T16:05:12.345Z',
  source: 'web',
  messageId: 'm-1',
  identifier: { type: 'email', value: 'jane@example.com' },
  from: 'p-young',
  to: 'p-old',
  reason: 'merged',
};

describe('Profile Merged v1', () => {
  it('is built from a merge ledger entry: survivor, merged profile, identifier type, ids for dedupe', () => {
    if (!isMergeEntry(mergeEntry)) throw new Error('a merge entry');
    const event = profileMergedEvent(mergeEntry);

    expect(event).toEqual({
      detailType: PROFILE_MERGED,
      time: '2026-11-22T16:05:12.345Z',
      detail: {
        version: 1,
        ledgerEntryId: 'ledger-1',
        profileId: 'p-old',
        mergedProfileId: 'p-young',
        identifier: { type: 'email' },
        messageId: 'm-1',
        source: 'web',
        at: '2026-11-22T16:05:12.345Z',
      },
    });
  });

  it('never carries an identifier value: the schema refuses one', () => {
    if (!isMergeEntry(mergeEntry)) throw new Error('a merge entry');
    const event = profileMergedEvent(mergeEntry);
    expect(JSON.stringify(event)).not.toContain('jane@example.com');
    expect(
      ProfileMergedDetail.safeParse({
        ...event.detail,
        identifier: { type: 'email', value: 'jane@example.com' },
      }).success,
    ).toBe(false);
  });

  it('exists only for merges', () => {
    expect(isMergeEntry(mergeEntry)).toBe(true);
    expect(isMergeEntry({ ...mergeEntry, reason: 'linked', from: null })).toBe(false);
    expect(isMergeEntry({ ...mergeEntry, reason: 'dropped_by_limit' })).toBe(false);
  });
});

describe('bus events before sending', () => {
  it('are counted as EventBridge counts an entry: 14 bytes of time, source, detail type, detail, resources', () => {
    expect(
      busEntryBytes({
        hasTime: true,
        source: BUS_SOURCE,
        detailType: 'Zoë',
        detailJson: '{"a":"😀"}',
        resources: ['r1', 'r2'],
      }),
    ).toBe(14 + BUS_SOURCE.length + 4 + 12 + 4);
    expect(
      busEntryBytes({ hasTime: false, source: 'mosaic', detailType: 'X', detailJson: '{}', resources: [] }),
    ).toBe(9);
  });

  it('an event over 256 KiB is refused, naming it; one of exactly 256 KiB is taken', () => {
    const fill = (bytes: number) => ({ text: 'x'.repeat(bytes - 'mosaic'.length - 'Big'.length - 11) });
    const [exact] = prepareBusEvents([{ detailType: 'Big', detail: fill(MAX_BUS_EVENT_BYTES) }]);
    expect(exact?.bytes).toBe(MAX_BUS_EVENT_BYTES);

    const tooBig = () =>
      prepareBusEvents([
        { detailType: 'Small', detail: {} },
        { detailType: 'Big', detail: fill(MAX_BUS_EVENT_BYTES + 1) },
      ]);
    expect(tooBig).toThrow(PayloadTooLargeError);
    expect(tooBig).toThrow(/Bus event 1 \(Big\) is 262145 bytes/);
  });

  it('refuses an event without a detail type, with a detail that is not an object, or a bad time', () => {
    expect(() => prepareBusEvents([{ detailType: ' ', detail: {} }])).toThrow(BadRequestError);
    expect(() => prepareBusEvents([{ detailType: 'X', detail: [] }])).toThrow(/detail must be a JSON object/);
    expect(() => prepareBusEvents([{ detailType: 'X', detail: { n: 1n } }])).toThrow(/not JSON/);
    expect(() => prepareBusEvents([{ detailType: 'X', detail: {}, time: 'yesterday' }])).toThrow(
      /Bus event 0 \(X\): time "yesterday"/,
    );
  });

  it('an envelope time is UTC to the second', () => {
    expect(envelopeTime(new Date('2026-11-22T17:05:12.999+01:00'))).toBe('2026-11-22T16:05:12Z');
  });
});
