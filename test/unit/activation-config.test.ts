import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_DELIVERY_RETRY,
  type DestinationInput,
  exportColumnsOf,
  MAX_BATCH_SIZE,
  parseDestinationsConfig,
  retryPolicyOf,
} from '../../src/core/activation/destination-config';
import { ConfigError } from '../../src/core/errors';

const webhook = {
  kind: 'webhook',
  name: 'esp-newsletter',
  url: 'https://api.esp.example/v1/lists/42/members',
  auth: { type: 'api_key', header: 'X-Api-Key', secretRef: 'mosaic/esp/api-key' },
  segments: ['pro-buyers'],
  fields: {
    identifiers: [{ type: 'email', pii: 'raw' }],
    traits: [{ name: 'first_name', pii: 'raw' }],
  },
  consent: { category: 'Email' },
} satisfies DestinationInput;

/** The ConfigError message of parsing `destinations`, or '' when it parses. */
function problemsOf(destinations: unknown[], context?: { identifierTypes?: string[] }): string {
  try {
    parseDestinationsConfig({ destinations }, context);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

describe('destinations config: defaults', () => {
  it('fills batch size 1000, rate limit, POST, concurrency, opt-in consent, not ad-type, US phones', () => {
    const config = parseDestinationsConfig({ destinations: [webhook] });
    const [destination] = config.destinations;
    expect(config.defaultPhoneCountry).toBe('US');
    expect(destination).toMatchObject({
      kind: 'webhook',
      batchSize: DEFAULT_BATCH_SIZE,
      rateLimitPerSecond: 10,
      method: 'POST',
      reservedConcurrency: 2,
      enabled: true,
      adType: false,
      consent: { category: 'Email', required: true },
    });
    expect(DEFAULT_BATCH_SIZE).toBe(1000);
  });

  it('an empty configuration has no destinations', () => {
    expect(parseDestinationsConfig({}).destinations).toEqual([]);
  });

  it('accepts each kind', () => {
    const common = { segments: ['pro-buyers'], consent: { category: null } };
    const config = parseDestinationsConfig({
      destinations: [
        { ...common, kind: 'sqs', name: 'q-arn', queue: 'arn:aws:sqs:eu-west-1:111122223333:audiences' },
        {
          ...common,
          kind: 'sqs',
          name: 'q-url',
          queue: 'https://sqs.eu-west-1.amazonaws.com/111122223333/a.fifo',
        },
        {
          ...common,
          kind: 'lambda',
          name: 'fn',
          functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:personalise:live',
        },
        {
          ...common,
          kind: 's3',
          name: 'print',
          bucket: 'acme-direct-mail',
          prefix: 'mosaic/drops/',
          fields: { traits: [{ name: 'address', pii: 'raw' }] },
          csv: { columns: [{ header: 'Address', value: 'traits.address' }] },
        },
        {
          ...common,
          kind: 'webhook',
          name: 'local',
          url: 'http://localhost:9999/hook',
          auth: { type: 'none' },
        },
        {
          ...common,
          kind: 'webhook',
          name: 'local-ip',
          url: 'http://127.0.0.1:9999/hook',
          auth: { type: 'none' },
        },
      ],
    });
    expect(config.destinations.map((d) => d.kind)).toEqual([
      'sqs',
      'sqs',
      'lambda',
      's3',
      'webhook',
      'webhook',
    ]);
  });

  it('accepts each webhook auth as a secret reference', () => {
    for (const auth of [
      { type: 'none' },
      { type: 'basic', username: 'mosaic', secretRef: 'esp-basic' },
      {
        type: 'oauth_client_credentials',
        tokenUrl: 'https://auth.example/oauth/token',
        clientId: 'mosaic',
        secretRef: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:esp-AbCdEf',
        scope: 'audiences:write',
      },
    ]) {
      expect(problemsOf([{ ...webhook, auth }])).toBe('');
    }
  });
});

describe('destinations config: refusals name the path', () => {
  it.each([
    [
      'plain http to a remote host',
      { url: 'http://api.esp.example/hook' },
      'destinations.0.url: must be https',
    ],
    [
      'credentials in the URL',
      { url: 'https://u:p@api.esp.example/hook' },
      'destinations.0.url: must not hold credentials',
    ],
    ['not a URL', { url: 'api.esp.example' }, 'destinations.0.url: not a URL'],
    ['ftp', { url: 'ftp://api.esp.example' }, 'destinations.0.url: must be https'],
    ['a bad name', { name: 'esp newsletter' }, 'destinations.0.name: a destination name'],
    ['batch size over 10,000', { batchSize: MAX_BATCH_SIZE + 1 }, 'destinations.0.batchSize'],
    ['no segments', { segments: [] }, 'destinations.0.segments'],
    ['a bad segment id', { segments: ['pro buyers'] }, 'destinations.0.segments.0: a segment id'],
    ['a segment twice', { segments: ['a', 'a'] }, 'destinations.0.segments.1: "a" is listed twice'],
    ['no consent at all', { consent: undefined }, 'destinations.0.consent'],
    [
      'a bad PII policy',
      { fields: { identifiers: [{ type: 'email', pii: 'md5' }] } },
      'destinations.0.fields.identifiers.0.pii',
    ],
    [
      'a field twice',
      {
        fields: {
          traits: [
            { name: 'plan', pii: 'raw' },
            { name: 'plan', pii: 'omit' },
          ],
        },
      },
      'destinations.0.fields.traits.1.name: "plan" is listed twice',
    ],
    [
      'a secret value instead of a reference',
      { auth: { type: 'api_key', header: 'X-Api-Key', secretRef: 'sk live 123' } },
      'destinations.0.auth.secretRef',
    ],
    [
      'a password written inline',
      { auth: { type: 'basic', username: 'u', secretRef: 's', password: 'hunter2' } },
      'destinations.0.auth',
    ],
    [
      'an api key header the delivery sets',
      { auth: { type: 'api_key', header: 'Mosaic-Signature', secretRef: 's' } },
      'destinations.0.auth.header',
    ],
    [
      'an ad-type destination without a category',
      { adType: true, consent: { category: null } },
      'destinations.0.consent.category: an ad-type destination needs a consent category',
    ],
    [
      'auth over plain http',
      { url: 'http://localhost:1/h' },
      'destinations.0.auth: credentials are only sent over https',
    ],
    ['an unknown key', { retries: 3 }, 'destinations.0'],
    [
      'retry base above max',
      { retry: { baseDelayMs: 10_000, maxDelayMs: 1000 } },
      'destinations.0.retry.baseDelayMs',
    ],
    ['zero reserved concurrency', { reservedConcurrency: 0 }, 'destinations.0.reservedConcurrency'],
    [
      'more segment ids than one EventBridge rule can name',
      { segments: Array.from({ length: 20 }, (_, i) => `segment-with-a-descriptive-name-${i}`) },
      'destinations.0.segments: too many segment ids for one EventBridge rule: its pattern would have 2',
    ],
  ])('%s', (_, change, expected) => {
    expect(problemsOf([{ ...webhook, ...change }])).toContain(expected);
  });

  it('refuses a name used twice, case-insensitively', () => {
    expect(problemsOf([webhook, { ...webhook, name: 'ESP-Newsletter' }])).toContain(
      'destinations.1.name: "ESP-Newsletter" is already the name of destinations.0',
    );
  });

  it('refuses identifier types the identity configuration does not have, when told them', () => {
    expect(problemsOf([webhook], { identifierTypes: ['user_id', 'email'] })).toBe('');
    expect(problemsOf([webhook], { identifierTypes: ['user_id'] })).toContain(
      'destinations.0.fields.identifiers.0.type: "email" is not a configured identifier type',
    );
  });

  it('refuses an unknown kind and names kind', () => {
    expect(problemsOf([{ ...webhook, kind: 'ftp' }])).toContain('destinations.0.kind');
  });

  it('refuses SQS, Lambda and S3 targets that are not ARNs/URLs/bucket names', () => {
    const common = { segments: ['a'], consent: { category: null } };
    expect(problemsOf([{ ...common, kind: 'sqs', name: 'q', queue: 'audiences' }])).toContain(
      'destinations.0.queue',
    );
    expect(
      problemsOf([
        { ...common, kind: 'lambda', name: 'f', functionArn: 'arn:aws:sqs:eu-west-1:111122223333:x' },
      ]),
    ).toContain('destinations.0.functionArn');
    const s3 = {
      ...common,
      kind: 's3',
      name: 's',
      bucket: 'acme',
      csv: { columns: [{ header: 'Id', value: 'profileId' }] },
    };
    expect(problemsOf([s3])).toBe('');
    expect(problemsOf([{ ...s3, bucket: 'Acme_Bucket' }])).toContain('destinations.0.bucket');
    expect(problemsOf([{ ...s3, prefix: '../up/' }])).toContain('destinations.0.prefix');
    expect(problemsOf([{ ...s3, prefix: 'no-slash' }])).toContain('destinations.0.prefix');
  });

  it('refuses CSV columns of fields the destination does not receive (or omits)', () => {
    const s3 = {
      kind: 's3',
      name: 'print',
      segments: ['a'],
      consent: { category: null },
      bucket: 'acme',
      fields: { identifiers: [{ type: 'email', pii: 'omit' }], traits: [{ name: 'city', pii: 'raw' }] },
      csv: {
        columns: [
          { header: 'City', value: 'traits.city' },
          { header: 'Email', value: 'identifiers.email' },
          { header: 'City', value: 'traits.zip' },
        ],
      },
    };
    const message = problemsOf([s3]);
    expect(message).toContain('destinations.0.csv.columns.1.value: "identifiers.email" is not a field');
    expect(message).toContain('destinations.0.csv.columns.2.value: "traits.zip" is not a field');
    expect(message).toContain('destinations.0.csv.columns.2.header: "City" is listed twice');
  });
});

describe('destinations config: payload templates', () => {
  const withTemplate = (payload: unknown) => problemsOf([{ ...webhook, payload }]);

  it('accepts a template that places the members once and uses known placeholders', () => {
    expect(
      withTemplate({
        body: { list: '{{segmentId}}', ref: 'mosaic-{{exportId}}-{{batch.index}}', users: '{{members}}' },
        member: { id: '{{profileId}}', em: '{{identifiers.email}}', name: 'Dear {{traits.first_name}}' },
      }),
    ).toBe('');
  });

  it('names the path of an unknown placeholder, in the body and in the member template', () => {
    const message = withTemplate({
      body: { users: '{{members}}', meta: { list: '{{segment}}' } },
      member: { em: '{{identifiers.phone}}' },
    });
    expect(message).toContain('destinations.0.payload.body.meta.list: unknown placeholder {{segment}}');
    expect(message).toContain('destinations.0.payload.member.em: unknown placeholder {{identifiers.phone}}');
  });

  it('requires {{members}} exactly once, standing alone', () => {
    expect(withTemplate({ body: { list: 'x' } })).toContain('must use {{members}} exactly once');
    expect(withTemplate({ body: { a: '{{members}}', b: '{{members}}' } })).toContain('(found 2)');
    expect(withTemplate({ body: { a: 'people: {{members}}' } })).toContain(
      'destinations.0.payload.body.a: {{members}} is not text',
    );
  });

  it('refuses placeholders in keys and malformed placeholders', () => {
    expect(withTemplate({ body: { '{{segmentId}}': '{{members}}' } })).toContain('keys are literal');
    expect(withTemplate({ body: { m: '{{members}}', x: '{{ segmentId' } })).toContain(
      'malformed placeholder',
    );
  });

  it('omitted fields are not placeholders', () => {
    const message = problemsOf([
      {
        ...webhook,
        fields: { identifiers: [{ type: 'email', pii: 'omit' }] },
        payload: { body: '{{members}}', member: { e: '{{identifiers.email}}' } },
      },
    ]);
    expect(message).toContain('unknown placeholder {{identifiers.email}}');
  });
});

describe('retry policy and export columns', () => {
  it('a destination without overrides uses the default retry policy; overrides replace one field each', () => {
    expect(retryPolicyOf({})).toEqual(DEFAULT_DELIVERY_RETRY);
    expect(retryPolicyOf({ retry: { maxAttempts: 3 } })).toEqual({
      ...DEFAULT_DELIVERY_RETRY,
      maxAttempts: 3,
    });
    expect(retryPolicyOf({ retry: { baseDelayMs: 600_000 } }).maxDelayMs).toBe(600_000);
  });

  it('an export for a destination holds only the fields it receives', () => {
    expect(
      exportColumnsOf({
        fields: {
          identifiers: [
            { type: 'email', pii: 'sha256' },
            { type: 'user_id', pii: 'omit' },
          ],
          traits: [
            { name: 'plan', pii: 'raw' },
            { name: 'ssn', pii: 'omit' },
          ],
        },
      }),
    ).toEqual({ identifiers: ['email'], traits: ['plan'] });
  });
});
