import type { DestinationsConfigInput } from '../../src/core/activation/destination-config';

export const SIGNING_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mosaic/crm-signing-AbCdEf';
export const WAREHOUSE_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/audiences';
export const PERSONALIZE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:personalize-sync';

/**
 * Destinations of every kind and one disabled, as an operator would configure them: for the
 * activation construct tests and for the whole app's cdk-nag check.
 */
export const SAMPLE_DESTINATIONS: DestinationsConfigInput = {
  defaultPhoneCountry: 'GB',
  destinations: [
    {
      kind: 'webhook',
      name: 'crm',
      segments: ['vip', 'churn-risk'],
      consent: { category: 'marketing' },
      fields: {
        identifiers: [{ type: 'email', pii: 'sha256' }],
        traits: [{ name: 'firstName', pii: 'raw' }],
      },
      url: 'https://crm.example.com/hooks/mosaic',
      auth: { type: 'api_key', header: 'X-Api-Key', secretRef: 'mosaic/crm-api-key' },
      signingSecretRef: SIGNING_SECRET_ARN,
      reservedConcurrency: 3,
    },
    {
      kind: 's3',
      name: 'direct-mail',
      segments: ['vip'],
      consent: { category: 'direct_mail' },
      fields: { identifiers: [{ type: 'email', pii: 'raw' }] },
      bucket: 'print-vendor-drop',
      prefix: 'mosaic/audiences/',
      csv: { columns: [{ header: 'email', value: 'identifiers.email' }] },
    },
    {
      kind: 'sqs',
      name: 'warehouse',
      segments: ['vip'],
      consent: { category: null },
      queue: WAREHOUSE_QUEUE_URL,
      reservedConcurrency: 3,
    },
    {
      kind: 'lambda',
      name: 'personalize',
      segments: ['returning'],
      consent: { category: 'personalization' },
      functionArn: PERSONALIZE_ARN,
    },
    {
      kind: 'webhook',
      name: 'legacy-esp',
      enabled: false,
      segments: ['vip'],
      consent: { category: 'marketing' },
      url: 'https://legacy-esp.example.com/import',
      auth: { type: 'basic', username: 'mosaic', secretRef: 'mosaic/legacy-esp' },
    },
  ],
};
