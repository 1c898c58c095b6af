import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { parseIdentityConfig } from '../../src/core/identity/identity-config';

/** Minute 0 of the scenarios' day. */
export const T0 = Date.parse('2026-11-01T08:00:00.000Z');

/** The ISO time `minute` minutes after {@link T0}. */
export const minute = (m: number): string => new Date(T0 + m * 60_000).toISOString();

let sequence = 0;

/**
 * A stream record as the collector writes it. `at` is the event time in minutes after {@link T0};
 * the collector received it half a second later (`receivedAt`), unless `receivedAt` is given.
 */
export function msg(
  fields: JsonObject & { type?: CallType; at?: number; id?: string; context?: JsonObject },
): StreamRecord {
  const { type = 'track', at = 0, id = `msg-${++sequence}`, context = {}, ...rest } = fields;
  const timestamp = T0 + at * 60_000;
  return {
    messageId: id,
    source: 'web',
    type,
    timestamp: new Date(timestamp).toISOString(),
    originalTimestamp: new Date(timestamp).toISOString(),
    receivedAt: new Date(timestamp + 500).toISOString(),
    context,
    ...(type === 'track' && rest.event === undefined ? { event: 'Viewed' } : {}),
    ...rest,
  } as StreamRecord;
}

/** The default identifier types, with `test@test.com` blocked on top of the default placeholders. */
export const BLOCKING_CONFIG = parseIdentityConfig({ blocked: { values: ['test@test.com'] } });

/** `type:value` keys of a profile's identities. */
export const keysOf = (profile: { identities: readonly { type: string; value: string }[] } | undefined) =>
  (profile?.identities ?? []).map((id) => `${id.type}:${id.value}`);
