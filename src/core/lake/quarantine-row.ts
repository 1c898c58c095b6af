/** A rejected message as the `quarantine` table stores it (see QUARANTINE_COLUMNS). */
export interface QuarantineRow {
  readonly source: string;
  readonly received_at: string;
  readonly code: string;
  readonly reason: string;
  readonly message_id: string | null;
  readonly index: number;
  readonly raw: string;
  /** The call the request was sent to (`track`, ..., `batch`). */
  readonly route: string;
  /** JSON text of the batch-level `context`, `integrations` and `sentAt` of its batch, if it had any. */
  readonly batch: string | null;
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
  readonly route: string;
  readonly batch?: string;
}): QuarantineRow {
  return {
    source: m.source,
    received_at: m.receivedAt,
    code: m.code,
    reason: m.reason,
    message_id: m.messageId ?? null,
    index: m.index,
    raw: m.raw,
    route: m.route,
    batch: m.batch ?? null,
  };
}

const encoder = new TextEncoder();

/**
 * The row as one NDJSON line of at most `maxBytes` (a Firehose record holds at most 1,000 KiB). Only
 * a rejected message near the request limit whose text is rich in escapes (or whose batch-level
 * fields are as large) can exceed it: the batch's fields are dropped first (every row of the batch
 * has them), then `raw` is cut to fit, and the reason says so, so the rejection is still recorded and
 * never blocks the request.
 */
export function quarantineLine(row: QuarantineRow, maxBytes: number): Uint8Array<ArrayBuffer> {
  let line = encoder.encode(`${JSON.stringify(row)}\n`);
  if (line.byteLength <= maxBytes) return line as Uint8Array<ArrayBuffer>;
  const base: QuarantineRow =
    row.batch === null
      ? row
      : {
          ...row,
          batch: null,
          reason: `${row.reason} (batch fields not kept: too large for the quarantine)`,
        };
  let current = base;
  line = encoder.encode(`${JSON.stringify(current)}\n`);
  while (line.byteLength > maxBytes && current.raw.length > 0) {
    const keep = Math.floor(current.raw.length * Math.min(0.9, maxBytes / line.byteLength));
    current = {
      ...base,
      raw: base.raw.slice(0, keep),
      reason: `${base.reason} (raw text cut to ${keep} of ${base.raw.length} characters to fit the quarantine)`,
    };
    line = encoder.encode(`${JSON.stringify(current)}\n`);
  }
  return line as Uint8Array<ArrayBuffer>;
}
