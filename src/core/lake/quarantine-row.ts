/** A rejected message as the `quarantine` table stores it (see QUARANTINE_COLUMNS). */
export interface QuarantineRow {
  readonly source: string;
  readonly received_at: string;
  readonly code: string;
  readonly reason: string;
  readonly message_id: string | null;
  readonly index: number;
  readonly raw: string;
}

/** The row for a quarantined message; one JSON line each in the lake's `quarantine/` prefix. */
export function toQuarantineRow(m: {
  readonly source: string;
  readonly receivedAt: string;
  readonly code: string;
  readonly reason: string;
  readonly messageId?: string;
  readonly index: number;
  readonly raw: string;
}): QuarantineRow {
  return {
    source: m.source,
    received_at: m.receivedAt,
    code: m.code,
    reason: m.reason,
    message_id: m.messageId ?? null,
    index: m.index,
    raw: m.raw,
  };
}
