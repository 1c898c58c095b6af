import type { JsonObject } from '../../src/core/events/stream-record';

/**
 * Segment messages as SDKs send them, one factory per call type. Overrides replace fields; pass
 * `undefined` to leave a field out.
 */
type Overrides = Readonly<Record<string, unknown>>;

function build(base: JsonObject, overrides: Overrides): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

export const trackMessage = (overrides: Overrides = {}): JsonObject =>
  build(
    {
      type: 'track',
      event: 'Order Completed',
      anonymousId: 'anon-1',
      properties: { orderId: 'o-1', revenue: 42.5, currency: 'EUR' },
    },
    overrides,
  );

export const identifyMessage = (overrides: Overrides = {}): JsonObject =>
  build(
    { type: 'identify', userId: 'user-1', traits: { email: 'jane@example.com', plan: 'pro' } },
    overrides,
  );

export const pageMessage = (overrides: Overrides = {}): JsonObject =>
  build(
    {
      type: 'page',
      anonymousId: 'anon-1',
      name: 'Pricing',
      category: 'Docs',
      properties: { path: '/pricing', url: 'https://example.com/pricing' },
    },
    overrides,
  );

export const screenMessage = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'screen', userId: 'user-1', name: 'Home', properties: { variation: 'blue' } }, overrides);

export const groupMessage = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'group', userId: 'user-1', groupId: 'acme', traits: { name: 'Acme Inc' } }, overrides);

export const aliasMessage = (overrides: Overrides = {}): JsonObject =>
  build({ type: 'alias', previousId: 'anon-1', userId: 'user-1' }, overrides);

export const MESSAGE_FACTORIES = {
  track: trackMessage,
  identify: identifyMessage,
  page: pageMessage,
  screen: screenMessage,
  group: groupMessage,
  alias: aliasMessage,
} as const;

/** `count` small track messages with distinct message ids `m-0`, `m-1`, ... and anonymous ids. */
export function trackBatch(count: number, overrides: (i: number) => Overrides = () => ({})): JsonObject[] {
  return Array.from({ length: count }, (_, i) =>
    trackMessage({ messageId: `m-${i}`, anonymousId: `anon-${i}`, properties: { i }, ...overrides(i) }),
  );
}

/** The value as the collector sees it: JSON text parsed back, exactly as a request body arrives. */
export function overTheWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A string of exactly `bytes` UTF-8 bytes (ASCII). */
export const padding = (bytes: number): string => 'x'.repeat(bytes);

/** Size of a value as JSON text in UTF-8 bytes. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
