import { describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../src/core/events/stream-record';
import { EVENT_COLUMNS, toEventRow } from '../../src/core/lake/tables';

const record = (fields: Record<string, unknown>): StreamRecord =>
  ({
    messageId: 'm-1',
    source: 'web',
    anonymousId: 'a-1',
    timestamp: '2026-11-22T16:05:11.000Z',
    receivedAt: '2026-11-22T16:05:12.345Z',
    context: {},
    ...fields,
  }) as StreamRecord;

describe('events table', () => {
  it('has a column for every top-level field of the Segment spec the collector keeps', () => {
    const fields = EVENT_COLUMNS.map((column) => column.field);
    // The common fields, then each call's own (track: event, properties; identify, group: traits;
    // page, screen: name, category, properties; group: groupId; alias: previousId), then `channel`,
    // which RudderStack's SDKs send, and the collector's own `source`.
    expect(fields).toEqual(
      expect.arrayContaining([
        'anonymousId',
        'context',
        'integrations',
        'messageId',
        'receivedAt',
        'sentAt',
        'timestamp',
        'originalTimestamp',
        'type',
        'userId',
        'version',
        'event',
        'properties',
        'traits',
        'name',
        'category',
        'groupId',
        'previousId',
        'channel',
        'source',
      ]),
    );
  });

  it('keeps the columns the design names as a contract, with their names', () => {
    const names = EVENT_COLUMNS.map((column) => column.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'message_id',
        'type',
        'event',
        'user_id',
        'anonymous_id',
        'timestamp',
        'received_at',
        'properties',
        'traits',
        'context',
      ]),
    );
  });

  it('adds columns after the earlier ones, so each earlier column keeps its position', () => {
    expect(EVENT_COLUMNS.slice(0, 17).map((column) => column.name)).toEqual([
      'message_id',
      'type',
      'event',
      'name',
      'user_id',
      'anonymous_id',
      'group_id',
      'previous_id',
      'timestamp',
      'original_timestamp',
      'sent_at',
      'received_at',
      'source',
      'properties',
      'traits',
      'context',
      'integrations',
    ]);
  });
});

describe('toEventRow', () => {
  it("maps a page's category and a track's channel and version to their columns", () => {
    expect(
      toEventRow(record({ type: 'page', name: 'Pricing', category: 'Docs', channel: 'web' })),
    ).toMatchObject({ type: 'page', name: 'Pricing', category: 'Docs', channel: 'web', version: null });
    expect(
      toEventRow(record({ type: 'track', event: 'Signed Up', channel: 'server', version: '1.1' })),
    ).toMatchObject({ type: 'track', event: 'Signed Up', category: null, channel: 'server', version: '1.1' });
  });

  it('keeps a value the collector does not check the type of as its JSON text', () => {
    const row = toEventRow(
      record({
        type: 'track',
        event: 'Signed Up',
        name: { first: 'Jane' },
        category: ['a', 'b'],
        channel: { kind: 'web', 'quote"d': true },
        version: 2,
      }),
    );
    expect(row).toMatchObject({
      name: '{"first":"Jane"}',
      category: '["a","b"]',
      channel: '{"kind":"web","quote\\"d":true}',
      version: '2',
    });
    expect(toEventRow(record({ type: 'track', event: 'x', channel: false, version: 1.5 }))).toMatchObject({
      channel: 'false',
      version: '1.5',
    });
  });

  it('has null where a field is absent or null, and a string kept as it is', () => {
    const row = toEventRow(record({ type: 'screen', name: null, category: 'Onboarding "step" 1' }));
    expect(row).toMatchObject({ name: null, category: 'Onboarding "step" 1', channel: null, version: null });
    expect(Object.keys(row)).toEqual(EVENT_COLUMNS.map((column) => column.name));
  });
});
