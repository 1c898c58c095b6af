import { memberValue } from './delivery-plan';
import type { CsvColumn } from './destination-config';
import type { OutboundMember } from './pii';

/**
 * The CSV file of an S3 file drop (direct mail, print): a header row of the configured column headers,
 * then one row per member with each column's value (`profileId`, `identifiers.<type>`,
 * `traits.<name>`, after the PII policy). RFC 4180: comma-separated, CRLF line ends, fields quoted when
 * they hold a comma, quote or line break (quotes doubled). A missing value is an empty field; several
 * identifier values are joined by `;`; objects are JSON text.
 *
 * Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
 * return) get a leading `'` (OWASP "CSV injection"), so an opened file never computes anything — except
 * numbers written as numbers (`-12.5`), which stay as they are.
 */
export function renderCsv(columns: readonly CsvColumn[], members: readonly OutboundMember[]): string {
  const rows = [columns.map((c) => csvField(c.header))];
  for (const member of members) {
    rows.push(columns.map((c) => csvField(cellText(memberValue(member, c.value)))));
  }
  return rows.map((row) => `${row.join(',')}\r\n`).join('');
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return neutralise(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return neutralise(value.join(';'));
  }
  return neutralise(JSON.stringify(value));
}

const FORMULA_START = /^[=+\-@\t\r]/;

function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The object key (S3) or relative path (locally) of one batch's file of an S3 file drop:
 * `<prefix><exportId>/batch-<index>.csv` — fixed by (export, batch), so a retry replaces the same file.
 */
export function fileDropKey(prefix: string, exportId: string, batchIndex: number): string {
  if (!Number.isInteger(batchIndex) || batchIndex < 0)
    throw new RangeError('a batch index is a whole number');
  return `${prefix}${exportId}/batch-${batchIndex}.csv`;
}
