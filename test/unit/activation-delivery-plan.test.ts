import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderCsv } from '../../src/core/activation/csv-file';
import {
  type AudienceMember,
  buildPayload,
  emptySummary,
  idempotencyKey,
  isS3PayloadPointer,
  MAX_INLINE_PAYLOAD_BYTES,
  needsS3Pointer,
  planBatches,
  planPayloadTransport,
  prepareBatch,
  recordBatch,
} from '../../src/core/activation/delivery-plan';
import { type Destination, parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { type OutboundMember, resolveFieldPolicy, sha256Hex } from '../../src/core/activation/pii';

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ profileId: `p-${String(i).padStart(6, '0')}` }));

describe('batches', () => {
  it('cuts 2,500 members into 1,000 + 1,000 + 500, in profile-id order', () => {
    const batches = planBatches(ids(2500).reverse(), 1000);
    expect(batches.map((b) => [b.index, b.total, b.members.length])).toEqual([
      [0, 3, 1000],
      [1, 3, 1000],
      [2, 3, 500],
    ]);
    expect(batches[0]?.members[0]?.profileId).toBe('p-000000');
    expect(batches[2]?.members.at(-1)?.profileId).toBe('p-002499');
  });

  it('an empty audience has no batches; a batch size must be a positive integer', () => {
    expect(planBatches([], 10)).toEqual([]);
    expect(() => planBatches(ids(3), 0)).toThrow(RangeError);
    expect(() => planBatches(ids(3), 1.5)).toThrow(RangeError);
  });

  it('property: every member lands in exactly one batch, batches are full but the last, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer(),
        (profileIds, size, seed) => {
          const members = profileIds.map((profileId) => ({ profileId }));
          const batches = planBatches(members, size);
          const seen = batches.flatMap((b) => b.members.map((m) => m.profileId));
          expect(seen.slice().sort()).toEqual(profileIds.slice().sort());
          expect(new Set(seen).size).toBe(seen.length);
          batches.forEach((b, i) => {
            expect(b.index).toBe(i);
            expect(b.total).toBe(batches.length);
            if (i < batches.length - 1) expect(b.members).toHaveLength(size);
            else expect(b.members.length).toBeGreaterThan(0);
          });
          // Any order of the same members gives the same batches (replays cut the same way).
          const shuffled = fc.sample(
            fc.shuffledSubarray(members, { minLength: members.length, maxLength: members.length }),
            {
              numRuns: 1,
              seed,
            },
          )[0] as typeof members;
          expect(planBatches(shuffled, size)).toEqual(batches);
        },
      ),
    );
  });

  it('a profile listed twice is delivered once', () => {
    const batches = planBatches([{ profileId: 'a' }, { profileId: 'b' }, { profileId: 'a' }], 10);
    expect(batches[0]?.members.map((m) => m.profileId)).toEqual(['a', 'b']);
  });
});

describe('idempotency keys', () => {
  it('are stable across calls (retries, replays): fixed by export, destination and batch index', () => {
    const key = idempotencyKey('x01jdg7k2m4n6p8q', 'esp', 3);
    expect(key).toBe(idempotencyKey('x01jdg7k2m4n6p8q', 'esp', 3));
    expect(key).toBe(sha256Hex(JSON.stringify(['mosaic-delivery-v1', 'x01jdg7k2m4n6p8q', 'esp', 3])));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('property: distinct (export, destination, batch) tuples give distinct keys — no separator ambiguity', () => {
    const tuple = fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), fc.nat({ max: 20 }));
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(idempotencyKey(...a)).not.toBe(idempotencyKey(...b));
      }),
    );
    expect(idempotencyKey('a-b', 'c', 1)).not.toBe(idempotencyKey('a', 'b-c', 1));
  });

  it('every batch of a delivery has its own key', () => {
    const keys = planBatches(ids(50), 5).map((b) => idempotencyKey('x1', 'esp', b.index));
    expect(new Set(keys).size).toBe(10);
  });
});

const config = parseDestinationsConfig({
  destinations: [
    {
      kind: 'webhook',
      name: 'esp',
      url: 'https://api.esp.example/lists/1',
      auth: { type: 'none' },
      segments: ['pro-buyers'],
      batchSize: 2,
      fields: {
        identifiers: [
          { type: 'email', pii: 'sha256' },
          { type: 'user_id', pii: 'omit' },
        ],
        traits: [{ name: 'first_name', pii: 'raw' }],
      },
      consent: { category: 'Email' },
    },
    {
      kind: 'webhook',
      name: 'braze-like',
      url: 'https://api.crm.example/users/track',
      auth: { type: 'api_key', header: 'Authorization', secretRef: 'crm-key' },
      segments: ['pro-buyers'],
      fields: { identifiers: [{ type: 'email', pii: 'raw' }], traits: [{ name: 'first_name', pii: 'raw' }] },
      consent: { category: null },
      payload: {
        body: {
          audience: 'mosaic-{{segmentId}}',
          part: '{{batch.index}}',
          of: '{{batch.total}}',
          users: '{{members}}',
        },
        member: {
          external_id: '{{profileId}}',
          email: '{{identifiers.email}}',
          greeting: 'Hi {{traits.first_name}}',
        },
      },
    },
  ],
});
const esp = config.destinations[0] as Destination;
const templated = config.destinations[1] as Destination;

const audience: AudienceMember[] = [
  {
    profileId: 'p-1',
    identifiers: { email: 'jane@example.com', user_id: 'u-1' },
    traits: { first_name: 'Jane' },
    consent: { Email: true },
  },
  {
    profileId: 'p-2',
    identifiers: { email: 'joe@example.com' },
    traits: { first_name: 'Joe' },
    consent: { Email: false },
  },
  { profileId: 'p-3', identifiers: { email: 'ann@example.com' }, traits: {}, consent: { email: true } },
  { profileId: 'p-4', identifiers: { email: 'max@example.com' }, traits: { first_name: 'Max' } },
];

describe('preparing a batch', () => {
  const batches = planBatches(audience, esp.batchSize);
  const prepared = batches.map((batch) =>
    prepareBatch({
      exportId: 'x1',
      segmentId: 'pro-buyers',
      destination: esp,
      batch,
      fields: resolveFieldPolicy(esp.fields),
    }),
  );

  it('applies consent before PII: denied and unknown members never leave, and are counted', () => {
    expect(prepared.map((p) => p.members.map((m) => m.profileId))).toEqual([['p-1'], ['p-3']]);
    expect(prepared.map((p) => p.suppressedByConsent)).toEqual([1, 1]);
  });

  it('builds the default payload: ids, batch with its key, members with hashed emails and no omitted field', () => {
    expect(prepared[0]?.payload).toEqual({
      exportId: 'x1',
      segmentId: 'pro-buyers',
      destination: 'esp',
      batch: { index: 0, total: 2, size: 1, idempotencyKey: idempotencyKey('x1', 'esp', 0) },
      members: [
        {
          profileId: 'p-1',
          identifiers: { email: sha256Hex('jane@example.com') },
          traits: { first_name: 'Jane' },
        },
      ],
    });
    const text = JSON.stringify(prepared);
    for (const raw of ['jane@example.com', 'ann@example.com', 'u-1']) expect(text).not.toContain(raw);
  });

  it('a batch left empty by consent has no payload (nothing is sent) but keeps its key', () => {
    const batch = planBatches([audience[1] as AudienceMember], 10)[0];
    if (batch === undefined) throw new Error('a batch');
    const only = prepareBatch({
      exportId: 'x1',
      segmentId: 's',
      destination: esp,
      batch,
      fields: resolveFieldPolicy(esp.fields),
    });
    expect(only.payload).toBeUndefined();
    expect(only.suppressedByConsent).toBe(1);
    expect(only.context.idempotencyKey).toBe(idempotencyKey('x1', 'esp', 0));
  });

  it('renders the destination’s template, per batch and per member', () => {
    const batch = planBatches(audience, templated.batchSize)[0];
    if (batch === undefined) throw new Error('a batch');
    const p = prepareBatch({
      exportId: 'x1',
      segmentId: 'pro-buyers',
      destination: templated,
      batch,
      fields: resolveFieldPolicy(templated.fields),
    });
    expect(p.payload).toEqual({
      audience: 'mosaic-pro-buyers',
      part: 0,
      of: 1,
      users: [
        { external_id: 'p-1', email: 'jane@example.com', greeting: 'Hi Jane' },
        { external_id: 'p-2', email: 'joe@example.com', greeting: 'Hi Joe' },
        { external_id: 'p-3', email: 'ann@example.com', greeting: 'Hi ' },
        { external_id: 'p-4', email: 'max@example.com', greeting: 'Hi Max' },
      ],
    });
  });

  it('a missing value leaves its property out; template text is never evaluated', () => {
    const member: OutboundMember = {
      profileId: 'p-9',
      identifiers: {},
      traits: { first_name: '{{exportId}} {{ members }}' },
    };
    const payload = buildPayload(
      {
        exportId: 'x1',
        segmentId: 's',
        destination: 'd',
        idempotencyKey: 'k',
        batch: { index: 0, total: 1, size: 1 },
      },
      [member],
      {
        body: { users: '{{members}}' },
        member: { id: '{{profileId}}', email: '{{identifiers.email}}', n: '{{traits.first_name}}' },
      },
    );
    expect(payload).toEqual({ users: [{ id: 'p-9', n: '{{exportId}} {{ members }}' }] });
  });
});

describe('S3 pointers for payloads over 256 KiB', () => {
  const context = {
    exportId: 'x1',
    segmentId: 's',
    destination: 'queue-dest',
    idempotencyKey: idempotencyKey('x1', 'queue-dest', 7),
    batch: { index: 7, total: 9, size: 1000 },
  };
  const bucket = { bucket: 'mosaic-payloads', prefix: 'activation/' };

  it('only SQS and Lambda targets, only above 256 KiB', () => {
    expect(MAX_INLINE_PAYLOAD_BYTES).toBe(262_144);
    expect(needsS3Pointer('sqs', 262_144)).toBe(false);
    expect(needsS3Pointer('sqs', 262_145)).toBe(true);
    expect(needsS3Pointer('lambda', 262_145)).toBe(true);
    expect(needsS3Pointer('webhook', 10_000_000)).toBe(false);
    expect(needsS3Pointer('s3', 10_000_000)).toBe(false);
  });

  it('a small payload goes inline', () => {
    expect(planPayloadTransport('sqs', '{"a":1}', context, bucket)).toEqual({
      transport: 'inline',
      body: '{"a":1}',
      bytes: 7,
    });
  });

  it('a large one is written to S3 under a key fixed by (export, destination, batch); a pointer goes instead', () => {
    const body = JSON.stringify({ members: 'é'.repeat(140_000) }); // 280,000+ bytes in UTF-8, fewer characters
    const plan = planPayloadTransport('sqs', body, context, bucket);
    if (plan.transport !== 's3_pointer') throw new Error('a pointer');
    expect(plan.object).toEqual({
      bucket: 'mosaic-payloads',
      key: 'activation/payloads/x1/queue-dest/000007.json',
      body,
    });
    const pointer = JSON.parse(plan.body);
    expect(isS3PayloadPointer(pointer)).toBe(true);
    expect(pointer).toEqual({
      mosaicPayloadPointer: {
        version: 1,
        bucket: 'mosaic-payloads',
        key: 'activation/payloads/x1/queue-dest/000007.json',
        bytes: new TextEncoder().encode(body).byteLength,
        sha256: sha256Hex(body),
        contentType: 'application/json',
      },
      exportId: 'x1',
      segmentId: 's',
      destination: 'queue-dest',
      idempotencyKey: context.idempotencyKey,
      batch: context.batch,
    });
    expect(plan.bytes).toBeLessThan(1024);
    expect(isS3PayloadPointer({ members: [] })).toBe(false);
  });
});

describe('delivery summary', () => {
  it('counts sent, suppressed by consent and failed members, and batches', () => {
    let summary = emptySummary({ exportId: 'x1', segmentId: 's', destination: 'esp' });
    const member = (profileId: string): OutboundMember => ({ profileId, identifiers: {}, traits: {} });
    summary = recordBatch(
      summary,
      { members: [member('a'), member('b')], suppressedByConsent: 1, unhashableFields: 0 },
      'sent',
    );
    summary = recordBatch(
      summary,
      { members: [member('c')], suppressedByConsent: 2, unhashableFields: 1 },
      'failed',
    );
    summary = recordBatch(summary, { members: [], suppressedByConsent: 3, unhashableFields: 0 }, 'sent');
    expect(summary).toEqual({
      exportId: 'x1',
      segmentId: 's',
      destination: 'esp',
      sent: 2,
      suppressedByConsent: 6,
      failed: 1,
      unhashableFields: 1,
      batches: { total: 3, sent: 1, failed: 1, empty: 1 },
    });
  });
});

describe('CSV file drop', () => {
  it('writes the configured headers and values, RFC 4180 quoting, CRLF, formula cells neutralised', () => {
    const csv = renderCsv(
      [
        { header: 'Id', value: 'profileId' },
        { header: 'Name', value: 'traits.name' },
        { header: 'Emails', value: 'identifiers.email' },
        { header: 'Balance', value: 'traits.balance' },
        { header: 'Address', value: 'traits.address' },
      ],
      [
        {
          profileId: 'p-1',
          identifiers: { email: ['a@x.io', 'b@x.io'] },
          traits: { name: 'Smith, "Jo"', balance: -12.5, address: { city: 'Oslo' } },
        },
        { profileId: 'p-2', identifiers: {}, traits: { name: '=HYPERLINK("http://evil")', balance: '-1+1' } },
      ],
    );
    expect(csv).toBe(
      'Id,Name,Emails,Balance,Address\r\n' +
        'p-1,"Smith, ""Jo""",a@x.io;b@x.io,-12.5,"{""city"":""Oslo""}"\r\n' +
        `p-2,"'=HYPERLINK(""http://evil"")",,'-1+1,\r\n`,
    );
  });
});
