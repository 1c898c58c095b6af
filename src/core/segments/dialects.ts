/**
 * What differs between the two SQL dialects the segment compiler prints: Athena (Trino) and DuckDB.
 * Everything else the printer writes is SQL both engines read the same way. Each dialect lists the
 * functions it may call; a test checks every printed query against its list, so no DuckDB-only
 * function reaches Athena and no Trino-only one reaches DuckDB.
 */
export type DialectName = 'athena' | 'duckdb';

export interface Dialect {
  readonly name: DialectName;
  /** The placeholder of the `n`th parameter (1-based): `?` (Athena) or `$n` (DuckDB). */
  placeholder(n: number): string;
  /** The JSON text of a JSON value (`"pro"`, `42`, `null`, `{...}`); NULL for SQL NULL. */
  jsonText(json: string): string;
  /** The text of a JSON scalar: a string's value unquoted, a number's or boolean's JSON text. */
  scalarText(json: string): string;
  /** ISO-8601 text (already matched by a pattern) as TIMESTAMP WITH TIME ZONE, NULL if it is not one. */
  parseInstant(text: string): string;
  /** A parameter holding ISO-8601 UTC text, as TIMESTAMP WITH TIME ZONE. */
  instantParam(placeholder: string): string;
  /**
   * The resolver's message key of an event (`messageKey` in `src/core/identity/message-key.ts`): the
   * first 16 hex characters of SHA-256 over `message`, NUL, source, NUL, message id — so that writes
   * in the same millisecond are decided as the resolver decides them.
   */
  messageKey(source: string, messageId: string): string;
  /** Whether text matches a regular expression (given as a SQL string literal). */
  regexMatches(text: string, pattern: string): string;
  /**
   * Whether the engine computes a CTE used more than once only once (DuckDB materialises it). Only
   * then do the conditions of a segment share one scan of events: Trino inlines a CTE into each use,
   * so a shared scan would read the lake as often as one per condition does, with a wider filter.
   */
  readonly materialisesCtes: boolean;
  /** Every function the dialect's queries may call (lower case). */
  readonly functions: ReadonlySet<string>;
}

/** Functions both engines have with the same meaning; the printer uses only these outside the hooks above. */
export const COMMON_FUNCTIONS = [
  'coalesce',
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'row_number',
  'json_extract',
  'substr',
  'strpos',
  'starts_with',
  'trim',
  'try_cast',
  'cast',
  'concat',
  'chr',
] as const;

/** Trino functions used only by the Athena printer. */
export const ATHENA_ONLY_FUNCTIONS = [
  'to_utf8',
  'to_hex',
  'lower',
  'json_format',
  'json_extract_scalar',
  'from_iso8601_timestamp',
  'try',
  'regexp_like',
] as const;
/** DuckDB functions used only by the DuckDB printer. */
export const DUCKDB_ONLY_FUNCTIONS = ['json_extract_string', 'regexp_matches'] as const;
/**
 * Functions both engines have under the same name with different argument types (Trino's `sha256`
 * hashes varbinary into varbinary, DuckDB's hashes text into hex text): each dialect calls them only
 * from its own hooks.
 */
export const SAME_NAME_FUNCTIONS = ['sha256'] as const;

export const ATHENA: Dialect = {
  name: 'athena',
  placeholder: () => '?',
  jsonText: (json) => `json_format(${json})`,
  scalarText: (json) => `json_extract_scalar(${json}, '$')`,
  parseInstant: (text) => `try(from_iso8601_timestamp(${text}))`,
  instantParam: (placeholder) => `from_iso8601_timestamp(${placeholder})`,
  messageKey: (source, messageId) =>
    `substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), ${source}, chr(0), ${messageId}))))), 1, 16)`,
  regexMatches: (text, pattern) => `regexp_like(${text}, ${pattern})`,
  materialisesCtes: false,
  functions: new Set([...COMMON_FUNCTIONS, ...ATHENA_ONLY_FUNCTIONS, ...SAME_NAME_FUNCTIONS]),
};

export const DUCKDB: Dialect = {
  name: 'duckdb',
  placeholder: (n) => `$${n}`,
  // A JSON value cast to text is its JSON text in DuckDB (in Trino the cast unquotes strings).
  jsonText: (json) => `CAST(${json} AS VARCHAR)`,
  scalarText: (json) => `json_extract_string(${json}, '$')`,
  parseInstant: (text) => `TRY_CAST(${text} AS TIMESTAMPTZ)`,
  instantParam: (placeholder) => `CAST(${placeholder} AS TIMESTAMPTZ)`,
  // DuckDB's sha256 takes text and gives lower-case hex.
  messageKey: (source, messageId) =>
    `substr(sha256(concat('message', chr(0), ${source}, chr(0), ${messageId})), 1, 16)`,
  regexMatches: (text, pattern) => `regexp_matches(${text}, ${pattern})`,
  materialisesCtes: true,
  functions: new Set([...COMMON_FUNCTIONS, ...DUCKDB_ONLY_FUNCTIONS, ...SAME_NAME_FUNCTIONS]),
};

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = { athena: ATHENA, duckdb: DUCKDB };
