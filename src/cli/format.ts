import type { Identifier } from '../core/identity/identifier';
import type { LedgerEntry } from '../core/identity/merge-plan';
import type { EventsView, MergesView, ProfileView } from '../core/profile/profile-view';

/**
 * The `mosaic` CLI's human output: pure functions from the API's views to text (every line ends with
 * `\n`). Everything shown comes from events that anybody with a write key could send, so every value
 * passes through {@link clean}: a trait cannot move the cursor, recolour or clear the reader's terminal.
 */

/** Control characters (C0, DEL, C1) and bidirectional overrides, shown escaped instead of obeyed. */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Text safe to print on a terminal: controls and bidi overrides escaped (`\n`, `\u001b`, ...). */
export function clean(text: string): string {
  return text.replace(UNSAFE, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\t') return '\\t';
    if (char === '\r') return '\\r';
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Longest value shown in a table cell; `--json` shows everything whole. */
export const MAX_VALUE_LENGTH = 100;

/** A cell: cleaned, and cut to `max` characters (code points) with `…`. */
export function cell(text: string, max = MAX_VALUE_LENGTH): string {
  const safe = clean(text);
  const chars = [...safe];
  return chars.length <= max ? safe : `${chars.slice(0, max - 1).join('')}…`;
}

/** A JSON value for a reader: strings as they are, everything else as compact JSON. */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') return cell(value);
  return cell(JSON.stringify(value) ?? String(value));
}

export const identifierText = (id: Identifier): string => `${id.type}:${id.value}`;

const width = (text: string) => [...text].length;

/**
 * Aligned columns, two spaces apart, indented; `headers` (when given) form the first row. Cells must
 * already be clean. The last column is not padded, so no line ends in spaces.
 */
export function table(
  rows: readonly (readonly string[])[],
  options: { readonly headers?: readonly string[]; readonly indent?: string } = {},
): string {
  const all = options.headers === undefined ? rows : [options.headers, ...rows];
  if (all.length === 0) return '';
  const columns = Math.max(...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...all.map((row) => width(row[i] ?? ''))),
  );
  const indent = options.indent ?? '  ';
  return all
    .map((row) => {
      const cells = row.map((text, i) =>
        i === row.length - 1 ? text : text + ' '.repeat((widths[i] ?? 0) - width(text)),
      );
      return `${indent}${cells.join('  ')}`.trimEnd();
    })
    .map((line) => `${line}\n`)
    .join('');
}

const orDash = (value: string | null | undefined) => (value === null || value === undefined ? '—' : value);

/** A profile: identities, traits, counters, groups, consent, segments, first/last seen. */
export function formatProfile(view: ProfileView): string {
  const out: string[] = [];
  out.push(`Profile ${cell(view.profileId)}\n`);
  const facts: [string, string][] = [
    ['first seen', orDash(view.firstSeen)],
    ['last seen', orDash(view.lastSeen)],
    ['created', orDash(view.createdAt)],
  ];
  const mergedFrom = view.mergedFrom ?? [];
  if (mergedFrom.length > 0) facts.push(['merged from', mergedFrom.map((id) => cell(id)).join(', ')]);
  out.push(table(facts.map(([name, value]) => [name, cell(value)])));

  const identities = view.identities ?? [];
  out.push(`\nIdentities (${identities.length})\n`);
  out.push(
    identities.length === 0
      ? '  none\n'
      : table(
          identities.map((id) => [cell(id.type), cell(id.value)]),
          { headers: ['TYPE', 'VALUE'] },
        ),
  );

  const traits = Object.entries(view.traits ?? {});
  out.push(`\nTraits (${traits.length})\n`);
  out.push(
    traits.length === 0
      ? '  none\n'
      : table(traits.map(([name, value]) => [cell(name), displayValue(value)])),
  );

  out.push('\nCounters\n');
  out.push(formatCounters(view));

  const groups = view.computed?.groups ?? [];
  if (groups.length > 0) {
    out.push(`\nGroups (${groups.length})\n`);
    out.push(
      table(
        groups.map((group) => [cell(group.groupId), cell(group.lastSeen)]),
        { headers: ['GROUP', 'LAST SEEN'] },
      ),
    );
  }

  const consent = Object.entries(view.consent ?? {});
  out.push('\nConsent\n');
  out.push(
    consent.length === 0
      ? '  none stated\n'
      : table(consent.map(([category, granted]) => [cell(category), granted ? 'granted' : 'denied'])),
  );

  const segments = view.segments ?? [];
  out.push(`\nSegments (${segments.length})\n`);
  out.push(segments.length === 0 ? '  none\n' : table(segments.map((id) => [cell(id)])));
  return out.join('');
}

function formatCounters(view: ProfileView): string {
  const computed = view.computed;
  if (computed === undefined) return '  none\n';
  const byType = Object.entries(computed.typeCounts ?? {})
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
    .map(([type, count]) => `${cell(type)} ${count}`);
  const rows: string[][] = [
    ['events', `${computed.eventCount}${byType.length === 0 ? '' : ` (${byType.join(', ')})`}`],
  ];
  const names = Object.entries(computed.eventCounts ?? {}).sort(
    ([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0),
  );
  const counted = names.map(([name, count]) => [`  ${cell(name)}`, String(count)]);
  if (computed.otherEventCount > 0) counted.push(['  (other names)', String(computed.otherEventCount)]);
  if (counted.length > 0) rows.push(['track events by name', ''], ...counted);
  return table(rows);
}

/** The last events as a table, newest first. */
export function formatEvents(view: EventsView): string {
  const events = view.events ?? [];
  const head = `Last ${events.length} event${events.length === 1 ? '' : 's'} of profile ${cell(view.profileId)}, newest first\n`;
  if (events.length === 0) return `${head}  none\n`;
  return (
    head +
    table(
      events.map((event) => [
        cell(event.timestamp),
        cell(event.type),
        event.event === undefined ? '—' : cell(event.event, 60),
        cell(event.source, 40),
        cell(event.messageId),
      ]),
      { headers: ['TIME', 'TYPE', 'EVENT', 'SOURCE', 'MESSAGE ID'] },
    )
  );
}

/**
 * The merge ledger as a timeline, oldest first: when and what happened on one line, the message that
 * did it on the next.
 */
export function formatMerges(view: MergesView): string {
  const merges = view.merges ?? [];
  const head = `Merge ledger of profile ${cell(view.profileId)}: ${merges.length} entr${merges.length === 1 ? 'y' : 'ies'}, oldest first\n`;
  if (merges.length === 0) return `${head}  none\n`;
  const rows = merges.map((entry) => ({
    at: cell(entry.at),
    label: cell(REASON_LABELS[entry.reason] ?? entry.reason),
    what: describeEntry(entry),
    message: `message ${cell(entry.messageId)} from ${cell(entry.source, 40)}`,
  }));
  const atWidth = Math.max(...rows.map((row) => width(row.at)));
  const labelWidth = Math.max(...rows.map((row) => width(row.label)));
  const pad = (text: string, to: number) => text + ' '.repeat(to - width(text));
  const under = ' '.repeat(2 + atWidth + 2 + labelWidth + 2);
  return (
    head +
    rows
      .map(
        (row) =>
          `  ${pad(row.at, atWidth)}  ${pad(row.label, labelWidth)}  ${row.what}\n${under}${row.message}\n`,
      )
      .join('')
  );
}

const REASON_LABELS: Readonly<Record<string, string>> = {
  linked: 'linked',
  merged: 'merged',
  dropped_by_limit: 'dropped',
};

/** One ledger entry in words (reasons this version does not know are shown with their fields). */
export function describeEntry(entry: LedgerEntry): string {
  const id = cell(identifierText(entry.identifier));
  const to = cell(entry.to);
  const from = entry.from === null ? null : cell(entry.from);
  switch (entry.reason) {
    case 'linked':
      return from === null ? `${id} → ${to}` : `${id} moved ${from} → ${to}`;
    case 'merged':
      return `${from ?? '—'} → ${to}, joined by ${id}`;
    case 'dropped_by_limit':
      return `${id} kept off ${to}${entry.detail === undefined ? '' : `: ${cell(entry.detail)}`}`;
    default:
      return `${id} ${from ?? '—'} → ${to}${entry.detail === undefined ? '' : `: ${cell(entry.detail)}`}`;
  }
}
