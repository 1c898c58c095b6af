import { describe, expect, it } from 'vitest';
import { buildMessageSchemas, describeIssues } from '../../src/core/collector/message-schemas';
import { type PreparedIngest, prepareIngest } from '../../src/core/collector/prepare-ingest';
import { DEFAULT_LIMITS } from '../../src/core/config/limits';
import type { CallType, JsonObject } from '../../src/core/events/stream-record';
import { decodeJson, RECEIVED_AT_MS, SOURCE, sequentialIds } from '../support/collector-fixtures';
import {
  aliasMessage,
  groupMessage,
  identifyMessage,
  MESSAGE_FACTORIES,
  overTheWire,
  pageMessage,
  screenMessage,
  trackMessage,
} from '../support/segment-messages';

const schemas = buildMessageSchemas(DEFAULT_LIMITS);

function check(type: CallType, message: JsonObject) {
  return schemas[type].safeParse(overTheWire(message));
}

function expectValid(type: CallType, message: JsonObject): void {
  const parsed = check(type, message);
  expect(parsed.success, parsed.success ? '' : describeIssues(parsed.error)).toBe(true);
}

/** Asserts the message is refused and the readable reason names `field`. */
function expectInvalid(type: CallType, message: JsonObject, field: string): void {
  const parsed = check(type, message);
  expect(parsed.success).toBe(false);
  if (!parsed.success) expect(describeIssues(parsed.error)).toContain(field);
}

const CALL_TYPES: CallType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

describe('message schemas: fields common to all six calls (Segment spec)', () => {
  describe.each(CALL_TYPES)('%s', (type) => {
    const make = MESSAGE_FACTORIES[type];

    it('accepts the message a Segment SDK sends, with context, integrations and times', () => {
      expectValid(
        type,
        make({
          messageId: 'ajs-next-1a2b3c',
          timestamp: '2026-03-10T11:59:58.123Z',
          sentAt: '2026-03-10T11:59:59.000Z',
          originalTimestamp: '2026-03-10T11:59:58.123+01:00',
          context: { library: { name: 'analytics.js', version: '1.0.0' }, locale: 'en-GB' },
          integrations: { All: true, Mixpanel: false },
        }),
      );
    });

    it('accepts userId and anonymousId as strings or numbers', () => {
      expectValid(type, make({ userId: 12345, anonymousId: 'anon-9' }));
      expectValid(type, make({ userId: 'user-9', anonymousId: 987.5 }));
    });

    it.each([
      ['a boolean', true],
      ['an object', { id: 1 }],
      ['an array', ['u']],
    ])('refuses a userId that is %s', (_what, userId) => {
      expectInvalid(type, make({ userId }), 'userId');
    });

    it('refuses an anonymousId that is a boolean', () => {
      expectInvalid(type, make({ anonymousId: false }), 'anonymousId');
    });

    it(`accepts ids up to ${DEFAULT_LIMITS.maxIdLength} characters and refuses longer ones`, () => {
      const max = 'u'.repeat(DEFAULT_LIMITS.maxIdLength);
      expectValid(type, make({ userId: max, anonymousId: max }));
      expectInvalid(type, make({ anonymousId: `${max}u` }), 'anonymousId');
      expectInvalid(type, make({ userId: `${max}u` }), 'userId');
    });

    it(`accepts a messageId of ${DEFAULT_LIMITS.maxMessageIdLength} characters and refuses one longer`, () => {
      expectValid(type, make({ messageId: 'm'.repeat(DEFAULT_LIMITS.maxMessageIdLength) }));
      expectInvalid(
        type,
        make({ messageId: 'm'.repeat(DEFAULT_LIMITS.maxMessageIdLength + 1) }),
        'messageId',
      );
    });

    it.each([
      ['empty', ''],
      ['a number', 42],
    ])('refuses a messageId that is %s', (_what, messageId) => {
      expectInvalid(type, make({ messageId }), 'messageId');
    });

    it.each(['context', 'integrations'])('refuses %s that is not a JSON object', (field) => {
      for (const value of [['a'], 'text', 7, true]) expectInvalid(type, make({ [field]: value }), field);
    });

    it.each([
      '2026-03-10T12:00:00.000Z',
      '2026-03-10T12:00:00Z',
      '2026-03-10T13:00:00+01:00',
      '2026-03-10T12:00:00.123456Z',
      '2026-03-10',
    ])('accepts the ISO-8601 time %s in timestamp, originalTimestamp and sentAt', (time) => {
      expectValid(type, make({ timestamp: time, originalTimestamp: time, sentAt: time }));
    });

    it.each([
      ['free text', 'yesterday'],
      ['a US date', '03/10/2026'],
      ['an RFC 2822 date', 'Tue, 10 Mar 2026 12:00:00 GMT'],
      ['month 13', '2026-13-10T12:00:00Z'],
      ['hour 25', '2026-03-10T25:00:00Z'],
      ['trailing garbage', '2026-03-10T12:00:00Z and then some'],
      ['a date with a parenthesised comment', '2026-03-10 12:00:00 (hello world)'],
      ['a 12-hour clock', '2026-03-10 12:00 pm'],
      ['a comma after the date', '2026-03-10, 12:00'],
      ['a run of spaces between date and time', '2026-03-10        12:00:00Z'],
      ['empty', ''],
      ['epoch milliseconds', 1773144000000],
    ])('refuses a time that is %s', (_what, time) => {
      for (const field of ['timestamp', 'originalTimestamp', 'sentAt'])
        expectInvalid(type, make({ [field]: time }), field);
    });

    it('keeps unknown top-level fields', () => {
      const parsed = check(
        type,
        make({ version: 2, _metadata: { bundled: ['Segment.io'] }, channel: 'server' }),
      );
      expect(parsed.success).toBe(true);
      expect(parsed.data).toMatchObject({
        version: 2,
        _metadata: { bundled: ['Segment.io'] },
        channel: 'server',
      });
    });
  });
});

describe('message schemas: track', () => {
  it('accepts a track with an event name and properties', () => {
    expectValid('track', trackMessage());
    expectValid('track', trackMessage({ properties: undefined }));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['only whitespace', '   '],
    ['a number', 7],
    ['null', null],
  ])('refuses a track whose event is %s', (_what, event) => {
    expectInvalid('track', trackMessage({ event }), 'event');
  });

  it('refuses an event name longer than 1024 characters', () => {
    expectValid('track', trackMessage({ event: 'e'.repeat(1024) }));
    expectInvalid('track', trackMessage({ event: 'e'.repeat(1025) }), 'event');
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'revenue=3'],
    ['a number', 3],
  ])('refuses properties that are %s', (_what, properties) => {
    expectInvalid('track', trackMessage({ properties }), 'properties');
  });
});

describe('message schemas: identify', () => {
  it('accepts an identify with traits, and one without', () => {
    expectValid('identify', identifyMessage());
    expectValid('identify', identifyMessage({ traits: undefined }));
  });

  it.each([
    ['an array', ['vip']],
    ['a string', 'vip'],
  ])('refuses traits that are %s', (_what, traits) => {
    expectInvalid('identify', identifyMessage({ traits }), 'traits');
  });
});

describe.each([
  ['page', pageMessage],
  ['screen', screenMessage],
] as const)('message schemas: %s', (type, make) => {
  it('accepts name, category and properties, and a message with none of them', () => {
    expectValid(type, make());
    expectValid(type, make({ name: undefined, category: undefined, properties: undefined }));
    expectValid(type, make({ name: null, category: null }));
  });

  it('refuses a name or category that is not a string', () => {
    expectInvalid(type, make({ name: 12 }), 'name');
    expectInvalid(type, make({ category: { a: 1 } }), 'category');
  });

  it('refuses properties that are not an object', () => {
    expectInvalid(type, make({ properties: ['a'] }), 'properties');
  });
});

describe('message schemas: group', () => {
  it('accepts a groupId that is a string or a number', () => {
    expectValid('group', groupMessage());
    expectValid('group', groupMessage({ groupId: 42 }));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['only whitespace', '  '],
    ['null', null],
    ['a boolean', true],
    ['too long', 'g'.repeat(DEFAULT_LIMITS.maxIdLength + 1)],
  ])('refuses a group whose groupId is %s', (_what, groupId) => {
    expectInvalid('group', groupMessage({ groupId }), 'groupId');
  });

  it('refuses traits that are not an object', () => {
    expectInvalid('group', groupMessage({ traits: 'acme' }), 'traits');
  });
});

describe('message schemas: alias', () => {
  it('accepts previousId and userId as strings or numbers', () => {
    expectValid('alias', aliasMessage());
    expectValid('alias', aliasMessage({ previousId: 17, userId: 18 }));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['null', null],
  ])('refuses an alias whose previousId is %s', (_what, previousId) => {
    expectInvalid('alias', aliasMessage({ previousId }), 'previousId');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['null', null],
  ])('refuses an alias whose userId is %s (an anonymousId does not replace it)', (_what, userId) => {
    expectInvalid('alias', aliasMessage({ userId, anonymousId: 'anon-1' }), 'userId');
  });
});

describe('ids are stamped on the record as strings', () => {
  const firstRecord = (prepared: PreparedIngest) =>
    decodeJson(prepared.accepted[0]?.data ?? new Uint8Array());
  const prepare = (body: JsonObject, route: CallType) =>
    prepareIngest(
      overTheWire(body),
      route,
      { source: SOURCE, receivedAtMs: RECEIVED_AT_MS },
      { schemas, limits: DEFAULT_LIMITS, newId: sequentialIds() },
    );

  it.each([
    ['track userId', 'track', trackMessage({ userId: 12345, anonymousId: undefined }), { userId: '12345' }],
    ['track anonymousId', 'track', trackMessage({ anonymousId: 0 }), { anonymousId: '0' }],
    ['identify userId', 'identify', identifyMessage({ userId: 1.5 }), { userId: '1.5' }],
    ['group groupId', 'group', groupMessage({ groupId: 42 }), { groupId: '42' }],
    [
      'alias previousId/userId',
      'alias',
      aliasMessage({ previousId: 7, userId: 8 }),
      { previousId: '7', userId: '8' },
    ],
  ] as const)('%s given as a number is a string on the record', (_what, route, message, expected) => {
    const prepared = prepare(message, route);
    expect(prepared.rejected).toEqual([]);
    expect(firstRecord(prepared)).toMatchObject(expected);
  });

  it('unknown top-level fields travel on the record unchanged', () => {
    const prepared = prepare(
      trackMessage({ channel: 'server', version: 2, custom: { a: [1, 'b'] } }),
      'track',
    );
    expect(firstRecord(prepared)).toMatchObject({
      channel: 'server',
      version: 2,
      custom: { a: [1, 'b'] },
    });
  });
});
