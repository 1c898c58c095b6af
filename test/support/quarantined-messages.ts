import type { QuarantinedMessage } from '../../src/ports/quarantine-sink';

/** A rejected message as the collector hands it to a quarantine sink; override what a test needs. */
export function quarantinedMessage(overrides: Partial<QuarantinedMessage> = {}): QuarantinedMessage {
  return {
    source: 'web',
    receivedAt: '2026-11-22T16:05:12.345Z',
    reason: 'userId or anonymousId is required',
    code: 'invalid_message',
    messageId: 'm-1',
    index: 0,
    raw: '{"type":"track","event":"Signed Up"}',
    route: 'batch',
    batch: '{"sentAt":"2026-11-22T16:05:11.000Z"}',
    ...overrides,
  };
}
