import { compareStrings } from '../identity/identifier';
import { MAX_AUDIENCE_COLUMNS } from '../segments/print-sql';
import type { MemberRecord } from './pii';

/**
 * An export's members as the audience readers give them (DuckDB locally, Athena in AWS): the export
 * writes `profile_id` and one column per identifier type then per trait, `c0`, `c1`, ... in that order.
 */

/** The identifier types and traits an export holds, in column order (`ExportRecord.identifiers`, `.traits`). */
export interface MemberColumns {
  readonly identifiers: readonly string[];
  readonly traits: readonly string[];
}

/** The names of columns `c0`, `c1`, ...: identifier types, then traits. */
export function memberColumnNames(columns: MemberColumns): string[] {
  const names = [...columns.identifiers, ...columns.traits];
  if (names.length > MAX_AUDIENCE_COLUMNS) throw new RangeError('too many audience columns');
  return names;
}

/**
 * A member from its profile id and the values of `c0`, `c1`, ... (further values are ignored). A
 * missing value (`null`, `undefined`) is left out of the member; the others are kept as text, as the
 * export wrote them.
 */
export function memberOf(
  profileId: string,
  values: readonly unknown[],
  columns: MemberColumns,
): MemberRecord {
  const identifiers: Record<string, string> = {};
  const traits: Record<string, string> = {};
  columns.identifiers.forEach((name, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) identifiers[name] = String(value);
  });
  columns.traits.forEach((name, i) => {
    const value = values[columns.identifiers.length + i];
    if (value !== null && value !== undefined) traits[name] = String(value);
  });
  return { profileId, identifiers, traits };
}

/**
 * Members cut into pages of `pageSize` (the last may be shorter). Engines order `VARCHAR` by bytes and
 * delivery keys need code-unit order (`compareStrings`); they agree for every id Mosaic makes — should
 * they ever not, or a profile come twice, this throws rather than let batches go under unstable keys.
 */
export async function* memberPages(
  members: AsyncIterable<MemberRecord>,
  pageSize: number,
): AsyncGenerator<MemberRecord[]> {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize is a positive integer');
  let page: MemberRecord[] = [];
  let last: string | undefined;
  for await (const member of members) {
    if (last !== undefined && compareStrings(last, member.profileId) >= 0) {
      throw new Error('export members are not in profile-id order (code units)');
    }
    last = member.profileId;
    page.push(member);
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
