import type { ReferenceEventRow } from '../../src/core/segments';
import type { LakeEvent } from './segments-lake';

/**
 * The `events` rows the reference evaluator reads for the events a test writes with `writeTestLake`,
 * with that helper's defaults (`source` "test", `receivedAt` = `timestamp`, `context` {}): JSON
 * columns as their text, absent values as null — the shape `toEventRow` gives.
 */
export function referenceEventRow(event: LakeEvent): ReferenceEventRow {
  const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
  return {
    message_id: event.messageId,
    type: event.type,
    event: event.event ?? null,
    user_id: event.userId ?? null,
    anonymous_id: event.anonymousId ?? null,
    timestamp: event.timestamp,
    received_at: event.receivedAt ?? event.timestamp,
    source: event.source ?? 'test',
    properties: json(event.properties),
    traits: json(event.traits),
    context: json(event.context ?? {}),
  };
}
