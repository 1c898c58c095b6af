import type { MemberRecord } from '../core/activation/pii';

/** Which export's members to read, and what its member columns are called. */
export interface AudienceSource {
  /** The export's `members/` folder (`membersLocation` of `Audience Export Completed`). */
  readonly membersLocation: string;
  /**
   * The export's identifier types then trait names (`ExportRecord.identifiers`, `.traits`): the member
   * files hold them as `c0`, `c1`, ... in this order.
   */
  readonly identifiers: readonly string[];
  readonly traits: readonly string[];
}

/**
 * Reads an audience export's members for delivery (issue #5): DuckDB over the export's Parquet files
 * locally, Athena/S3 in AWS. Members come in profile-id order (code units, as `compareStrings`), each
 * profile once, in pages, so a 100,000-member export is never one array in memory.
 *
 * Values are as the export wrote them: an identifier column holds the identifier of that type most
 * recently linked to the profile; a trait column the trait's value as text (`"42"`, `"true"`, JSON text
 * for objects); a missing value is left out of the member.
 */
export interface AudienceReader {
  /** Distinct members of the export. */
  count(source: AudienceSource): Promise<number>;
  /** The members in pages of at most `pageSize` (the last may be shorter), in profile-id order. */
  pages(source: AudienceSource, pageSize: number): AsyncIterable<readonly MemberRecord[]>;
}
