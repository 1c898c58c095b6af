import { describe, expect, it } from 'vitest';
import {
  cell,
  clean,
  describeEntry,
  displayValue,
  formatEvents,
  formatMerges,
  formatProfile,
  MAX_VALUE_LENGTH,
  table,
} from '../../src/cli/format';
import type { LedgerEntry } from '../../src/core/identity/merge-plan';
import type { EventsView, MergesView, ProfileView } from '../../src/core/profile/profile-view';

const profile: ProfileView = {
  profileId: 'p_1',
  identities: [
    { type: 'anonymous_id', value: 'anon-9' },
    { type: 'email', value: 'jane@example.com' },
    { type: 'user_id', value: 'user-1' },
  ],
  traits: { plan: 'pro', seats: 3, address: { city: 'Lyon' } },
  computed: {
    eventCount: 7,
    typeCounts: { identify: 2, track: 5 },
    eventCounts: { 'Plan Viewed': 1, 'Order Completed': 4 },
    otherEventCount: 0,
    firstSeen: '2026-11-01T10:00:00.000Z',
    lastSeen: '2026-11-22T18:00:00.000Z',
    groups: [{ groupId: 'acme', lastSeen: '2026-11-20T09:00:00.000Z' }],
  },
  segments: [],
  consent: { analytics: true, ads: false },
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-22T18:00:00.000Z',
  createdAt: '2026-11-01T10:00:01.000Z',
  mergedFrom: ['p_0'],
};

const lines = (text: string) => text.split('\n');

describe('clean: values from events cannot drive the terminal', () => {
  it('escapes ESC sequences, C1 controls, DEL, line breaks and bidi overrides', () => {
    expect(clean('a\u001b[2Jb')).toBe('a\\u001b[2Jb');
    expect(clean('x\u009b31my')).toBe('x\\u009b31my');
    expect(clean('del\u007f')).toBe('del\\u007f');
    expect(clean('two\nlines\tand\rcr')).toBe('two\\nlines\\tand\\rcr');
    expect(clean('abc\u202edcba')).toBe('abc\\u202edcba');
    expect(clean('Zoë 東京 🙂')).toBe('Zoë 東京 🙂');
  });

  it('cuts long cells to the limit, by code point, with an ellipsis', () => {
    const long = '🙂'.repeat(MAX_VALUE_LENGTH + 5);
    const shown = cell(long);
    expect([...shown]).toHaveLength(MAX_VALUE_LENGTH);
    expect(shown.endsWith('…')).toBe(true);
    expect(cell('short')).toBe('short');
  });

  it('shows strings as they are and every other value as compact JSON', () => {
    expect(displayValue('pro')).toBe('pro');
    expect(displayValue(3)).toBe('3');
    expect(displayValue(null)).toBe('null');
    expect(displayValue({ city: 'Lyon' })).toBe('{"city":"Lyon"}');
  });
});

describe('table', () => {
  it('aligns columns two spaces apart under the headers, without trailing spaces', () => {
    const text = table(
      [
        ['email', 'jane@example.com'],
        ['anonymous_id', 'a'],
      ],
      { headers: ['TYPE', 'VALUE'] },
    );
    expect(lines(text)).toEqual([
      '  TYPE          VALUE',
      '  email         jane@example.com',
      '  anonymous_id  a',
      '',
    ]);
  });
});

describe('formatProfile', () => {
  const text = formatProfile(profile);

  it('names the profile with first and last seen and what was merged into it', () => {
    expect(lines(text)[0]).toBe('Profile p_1');
    expect(text).toContain('  first seen   2026-11-01T10:00:00.000Z\n');
    expect(text).toContain('  last seen    2026-11-22T18:00:00.000Z\n');
    expect(text).toContain('  merged from  p_0\n');
  });

  it('lists every identity in a table', () => {
    expect(text).toContain(
      'Identities (3)\n  TYPE          VALUE\n  anonymous_id  anon-9\n  email         jane@example.com\n  user_id       user-1\n',
    );
  });

  it('shows traits, counters by type and by event name (most first), groups and consent', () => {
    expect(text).toContain('Traits (3)\n  plan     pro\n  seats    3\n  address  {"city":"Lyon"}\n');
    expect(text).toContain('events                7 (identify 2, track 5)');
    expect(text).toMatch(/ {4}Order Completed +4\n {4}Plan Viewed +1\n/);
    expect(text).toContain('  acme   2026-11-20T09:00:00.000Z');
    expect(text).toContain('  analytics  granted\n');
    expect(text).toContain('  ads        denied\n');
    expect(text).toContain('Segments (0)\n  none\n');
  });

  it('says what a new profile does not have yet instead of printing null', () => {
    const empty = formatProfile({
      ...profile,
      traits: {},
      consent: {},
      mergedFrom: [],
      firstSeen: null,
      lastSeen: null,
      computed: { ...profile.computed, eventCount: 0, typeCounts: {}, eventCounts: {}, groups: [] },
    });
    expect(empty).toContain('  first seen  —\n');
    expect(empty).toContain('Traits (0)\n  none\n');
    expect(empty).toContain('Consent\n  none stated\n');
    expect(empty).not.toContain('merged from');
    expect(empty).not.toContain('Groups');
    expect(empty).not.toContain('null');
  });

  it('prints a hostile trait escaped', () => {
    const hostile = formatProfile({ ...profile, traits: { 'na\u001bme': 'v\u001b]0;pwned\u0007' } });
    expect(hostile).not.toContain('\u001b');
    expect(hostile).not.toContain('\u0007');
    expect(hostile).toContain('na\\u001bme  v\\u001b]0;pwned\\u0007');
  });
});

describe('formatEvents', () => {
  const view: EventsView = {
    profileId: 'p_1',
    events: [
      {
        messageId: 'm3',
        source: 'website',
        type: 'track',
        event: 'Order Completed',
        timestamp: '2026-11-22T18:00:00.000Z',
      },
      { messageId: 'm2', source: 'website', type: 'identify', timestamp: '2026-11-22T17:00:00.000Z' },
    ],
  };

  it('is a table in the order the API gave (newest first), with — for events without a name', () => {
    expect(lines(formatEvents(view))).toEqual([
      'Last 2 events of profile p_1, newest first',
      '  TIME                      TYPE      EVENT            SOURCE   MESSAGE ID',
      '  2026-11-22T18:00:00.000Z  track     Order Completed  website  m3',
      '  2026-11-22T17:00:00.000Z  identify  —                website  m2',
      '',
    ]);
  });

  it('says none for a profile without events', () => {
    expect(formatEvents({ profileId: 'p_1', events: [] })).toBe(
      'Last 0 events of profile p_1, newest first\n  none\n',
    );
  });
});

describe('formatMerges', () => {
  const entry = (fields: Partial<LedgerEntry>): LedgerEntry => ({
    id: 'e',
    at: '2026-11-22T18:00:00.000Z',
    source: 'website',
    messageId: 'm1',
    identifier: { type: 'email', value: 'jane@example.com' },
    from: null,
    to: 'p_1',
    reason: 'linked',
    ...fields,
  });

  it('describes each kind of entry in words', () => {
    expect(describeEntry(entry({}))).toBe('email:jane@example.com → p_1');
    expect(describeEntry(entry({ from: 'p_2' }))).toBe('email:jane@example.com moved p_2 → p_1');
    expect(describeEntry(entry({ reason: 'merged', from: 'p_2' }))).toBe(
      'p_2 → p_1, joined by email:jane@example.com',
    );
    expect(
      describeEntry(
        entry({
          reason: 'dropped_by_limit',
          identifier: { type: 'user_id', value: 'u2' },
          detail: 'user_id limit 1 (would hold 2)',
        }),
      ),
    ).toBe('user_id:u2 kept off p_1: user_id limit 1 (would hold 2)');
  });

  it('is a timeline: when and what on one line, the message that did it under the description', () => {
    const view: MergesView = {
      profileId: 'p_1',
      merges: [
        entry({}),
        entry({
          at: '2026-11-22T18:05:00.000Z',
          reason: 'merged',
          from: 'p_2',
          messageId: 'm7',
          source: 'app',
        }),
      ],
    };
    expect(lines(formatMerges(view))).toEqual([
      'Merge ledger of profile p_1: 2 entries, oldest first',
      '  2026-11-22T18:00:00.000Z  linked  email:jane@example.com → p_1',
      '                                    message m1 from website',
      '  2026-11-22T18:05:00.000Z  merged  p_2 → p_1, joined by email:jane@example.com',
      '                                    message m7 from app',
      '',
    ]);
  });

  it('says none for a profile without ledger entries', () => {
    expect(formatMerges({ profileId: 'p_1', merges: [] })).toContain('0 entries, oldest first\n  none\n');
  });
});
