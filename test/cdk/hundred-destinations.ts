import {
  type DestinationInput,
  type DestinationsConfigInput,
  MAX_DESTINATIONS,
} from '../../src/core/activation/destination-config';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1'];
const SEGMENTS = [
  'vip',
  'churn-risk',
  'new-signups',
  'cart-abandoners',
  'win-back',
  'pro-buyers',
  'loyal-30d',
];
const CATEGORIES = ['email_marketing', 'advertising', 'personalization', 'analytics', 'direct_mail'];
const VENDORS = [
  'braze',
  'iterable',
  'klaviyo',
  'customerio',
  'hubspot',
  'salesforce',
  'zendesk',
  'intercom',
];

/** `n` segments of the catalogue, starting at `i`. */
const segmentsFrom = (i: number, n: number) =>
  Array.from({ length: n }, (_, k) => SEGMENTS[(i + k) % SEGMENTS.length] as string);

/** A webhook to an ESP or CRM, as operators write them: auth, signing, fields, often a template. */
function webhook(i: number): DestinationInput {
  const vendor = VENDORS[i % VENDORS.length] as string;
  const name = `${vendor}-${String(i).padStart(3, '0')}`;
  const auth =
    i % 3 === 0
      ? { type: 'api_key' as const, header: 'X-Api-Key', secretRef: `mosaic/destinations/${name}/api-key` }
      : i % 3 === 1
        ? {
            type: 'oauth_client_credentials' as const,
            tokenUrl: `https://auth.${vendor}.example.com/oauth2/token`,
            clientId: `mosaic-${name}-client`,
            secretRef: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mosaic/destinations/${name}/oauth-Ab12Cd`,
            scope: 'audiences.write contacts.write',
          }
        : {
            type: 'basic' as const,
            username: `mosaic-${vendor}`,
            secretRef: `mosaic/destinations/${name}/basic`,
          };
  return {
    kind: 'webhook',
    name,
    description: `${vendor} audience sync for the ${SEGMENTS[i % SEGMENTS.length]} programme (owner: lifecycle marketing team)`,
    segments: segmentsFrom(i, 2 + (i % 4)),
    consent: { category: CATEGORIES[i % CATEGORIES.length] as string, required: i % 4 !== 0 },
    adType: i % 5 === 1,
    fields: {
      identifiers: [
        { type: 'email', pii: 'sha256' },
        { type: 'phone', pii: i % 2 === 0 ? 'sha256' : 'omit' },
        { type: 'user_id', pii: 'raw' },
      ],
      traits: [
        { name: 'firstName', pii: 'raw' },
        { name: 'lastName', pii: 'raw' },
        { name: 'plan', pii: 'raw' },
        { name: 'lifetimeValue', pii: 'raw' },
        { name: 'preferredLanguage', pii: 'raw' },
      ],
    },
    url: `https://api.${vendor}.example.com/v2/accounts/acct-${1000 + i}/audiences/mosaic-${name}/members`,
    method: i % 2 === 0 ? 'POST' : 'PUT',
    auth,
    signingSecretRef: `mosaic/destinations/${name}/signing`,
    rateLimitPerSecond: 5 + (i % 20),
    timeoutMs: 15_000,
    batchSize: 500,
    reservedConcurrency: 2,
    retry: { maxAttempts: 10, baseDelayMs: 2_000, maxDelayMs: 120_000 },
    ...(i % 2 === 0
      ? {
          payload: {
            body: {
              audience: `mosaic-${name}`,
              export: '{{exportId}}',
              segment: '{{segmentId}}',
              batch: { index: '{{batch.index}}', total: '{{batch.total}}', size: '{{batch.size}}' },
              idempotencyKey: '{{idempotencyKey}}',
              members: '{{members}}',
            },
            member: {
              external_id: '{{identifiers.user_id}}',
              email_sha256: '{{identifiers.email}}',
              first_name: '{{traits.firstName}}',
              last_name: '{{traits.lastName}}',
              plan: '{{traits.plan}}',
              ltv: '{{traits.lifetimeValue}}',
              locale: '{{traits.preferredLanguage}}',
            },
          },
        }
      : {}),
  };
}

function sqs(i: number): DestinationInput {
  const name = `warehouse-queue-${String(i).padStart(3, '0')}`;
  const region = REGIONS[i % REGIONS.length] as string;
  return {
    kind: 'sqs',
    name,
    description: 'Audience changes for the data warehouse loader',
    segments: segmentsFrom(i, 3),
    consent: { category: 'analytics' },
    fields: {
      identifiers: [
        { type: 'user_id', pii: 'raw' },
        { type: 'email', pii: 'sha256' },
      ],
      traits: [{ name: 'plan', pii: 'raw' }],
    },
    queue:
      i % 2 === 0
        ? `https://sqs.${region}.amazonaws.com/${ACCOUNT}/mosaic-audiences-${i}`
        : `arn:aws:sqs:${region}:${ACCOUNT}:mosaic-audiences-${i}`,
    batchSize: 1000,
  };
}

function lambda(i: number): DestinationInput {
  const name = `personalize-sync-${String(i).padStart(3, '0')}`;
  return {
    kind: 'lambda',
    name,
    segments: segmentsFrom(i, 2),
    consent: { category: 'personalization' },
    fields: { identifiers: [{ type: 'user_id', pii: 'raw' }], traits: [{ name: 'plan', pii: 'raw' }] },
    functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:personalize-sync-${i}:live`,
    payload: { body: { exportId: '{{exportId}}', users: '{{members}}' } },
  };
}

function s3(i: number): DestinationInput {
  const name = `direct-mail-${String(i).padStart(3, '0')}`;
  return {
    kind: 's3',
    name,
    description: 'Weekly CSV drop for the print vendor',
    segments: segmentsFrom(i, 1),
    consent: { category: 'direct_mail' },
    fields: {
      identifiers: [{ type: 'email', pii: 'omit' }],
      traits: [
        { name: 'firstName', pii: 'raw' },
        { name: 'lastName', pii: 'raw' },
        { name: 'postalAddress', pii: 'raw' },
        { name: 'postalCode', pii: 'raw' },
      ],
    },
    bucket: `print-vendor-drop-${ACCOUNT}`,
    prefix: `mosaic/${name}/`,
    csv: {
      columns: [
        { header: 'first_name', value: 'traits.firstName' },
        { header: 'last_name', value: 'traits.lastName' },
        { header: 'address', value: 'traits.postalAddress' },
        { header: 'postal_code', value: 'traits.postalCode' },
      ],
    },
  };
}

/**
 * {@link MAX_DESTINATIONS} destinations as a large deployment writes them — webhooks to ESPs and CRMs
 * (each kind of auth, signing secrets, payload templates, field lists), warehouse queues, Lambda
 * functions and file drops — every one enabled.
 */
export const HUNDRED_DESTINATIONS: DestinationsConfigInput = {
  defaultPhoneCountry: 'GB',
  destinations: Array.from({ length: MAX_DESTINATIONS }, (_, i) =>
    i % 10 < 7 ? webhook(i) : i % 10 === 7 ? sqs(i) : i % 10 === 8 ? lambda(i) : s3(i),
  ),
};
