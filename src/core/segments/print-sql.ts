import { EVENT_COLUMNS, IDENTITY_LINK_COLUMNS } from '../lake/tables';
import type {
  NumberTest,
  PropertyFilter,
  SegmentAst,
  SegmentNode,
  TimePoint,
  ValueTest,
  Window,
} from './ast';
import { DIALECTS, type Dialect, type DialectName } from './dialects';
import { CONSENT_CATEGORY, MAX_PATH_SEGMENTS, PATH_SEGMENT } from './names';
import type { QueryParam } from './params';

/** Where the lake's tables are: a table name, optionally with its database (Glue) or schema. */
export interface LakeTables {
  readonly events: TableName;
  readonly identityLinks: TableName;
}
export interface TableName {
  readonly database?: string;
  readonly table: string;
}

export interface PrintOptions {
  /** Default: `events` and `identity_links`, unqualified (DuckDB views over the local lake). */
  readonly tables?: LakeTables;
}

/** SQL with positional placeholders and the parameters they take, in order. */
export interface CompiledQuery {
  readonly dialect: DialectName;
  readonly sql: string;
  readonly params: readonly QueryParam[];
}

/** How many member ids a preview shows. */
export const PREVIEW_SAMPLE_SIZE = 10;

/**
 * The members of a segment: one row per profile id (`profile_id`), ordered by id.
 *
 * Every value of the definition is a parameter; the only text taken from the definition are names
 * that matched their allow-list pattern — checked again here — printed as JSON paths (`'$.plan'`).
 * Athena accepts parameters only in WHERE clauses, so every placeholder is in one.
 */
export function printMembersQuery(
  ast: SegmentAst,
  dialect: DialectName,
  options: PrintOptions = {},
): CompiledQuery {
  const printer = new Printer(DIALECTS[dialect], options.tables ?? DEFAULT_TABLES);
  const select = printer.members(ast.root);
  return printer.finish(`WITH ${printer.withClause()}\n${select}\nORDER BY u.profile_id`);
}

/**
 * A preview: `member_count` (the number of members) on every row, and `profile_id` — the first
 * {@link PREVIEW_SAMPLE_SIZE} member ids in id order; one row with a NULL id when there are none.
 */
export function printPreviewQuery(
  ast: SegmentAst,
  dialect: DialectName,
  options: PrintOptions = {},
): CompiledQuery {
  const printer = new Printer(DIALECTS[dialect], options.tables ?? DEFAULT_TABLES);
  const select = printer.members(ast.root);
  return printer.finish(
    `WITH ${printer.withClause()},\nmembers AS (\n${select}\n)\n` +
      'SELECT c.member_count, s.profile_id\n' +
      'FROM (SELECT count(*) AS member_count FROM members) c\n' +
      `LEFT JOIN (SELECT profile_id FROM members ORDER BY profile_id LIMIT ${PREVIEW_SAMPLE_SIZE}) s ON TRUE\n` +
      'ORDER BY s.profile_id',
  );
}

/** A column of an audience beside `profile_id`: an identifier type or a top-level trait. */
export interface AudienceColumn {
  readonly kind: 'identifier' | 'trait';
  /** The identifier type (`email`) or the trait name (`plan`). */
  readonly name: string;
}

/** Audience columns are stored as `c0`, `c1`, ... (see `export-plan.ts`); at most this many. */
export const MAX_AUDIENCE_COLUMNS = 100;

/**
 * The members with one column per requested identifier type or trait: `profile_id`, then `c0`,
 * `c1`, ... in the order of `columns` — an identifier column holds the identifier of that type most
 * recently linked to the profile; a trait column the trait's latest value as text (a JSON string's
 * value, a number's or boolean's JSON text, an object's or array's JSON; NULL for JSON null or no
 * value). Ordered by profile id.
 */
export function printAudienceQuery(
  ast: SegmentAst,
  dialect: DialectName,
  columns: readonly AudienceColumn[],
  options: PrintOptions = {},
): CompiledQuery {
  if (columns.length > MAX_AUDIENCE_COLUMNS) throw new RangeError('too many audience columns');
  const printer = new Printer(DIALECTS[dialect], options.tables ?? DEFAULT_TABLES);
  return printer.finish(printer.audience(ast.root, columns));
}

const DEFAULT_TABLES: LakeTables = {
  events: { table: 'events' },
  identityLinks: { table: 'identity_links' },
};

const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A quoted identifier from a name that matches the identifier pattern (never from definition text). */
function quote(name: string): string {
  if (!SQL_IDENTIFIER.test(name))
    throw new RangeError(`not an allowed SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const EVENT_COLUMN_NAMES = new Set(EVENT_COLUMNS.map((column) => column.name).concat(['dt', 'hour']));
const LINK_COLUMN_NAMES = new Set(IDENTITY_LINK_COLUMNS.map((column) => column.name));

/** `e."timestamp"`: a column of `events`, which must exist in the lake's declaration. */
function ev(column: string): string {
  if (!EVENT_COLUMN_NAMES.has(column)) throw new RangeError(`events has no column ${column}`);
  return `e.${quote(column)}`;
}
function link(column: string): string {
  if (!LINK_COLUMN_NAMES.has(column)) throw new RangeError(`identity_links has no column ${column}`);
  return quote(column);
}

/** A JSON path literal (`'$.address.city'`) from segments that each match {@link PATH_SEGMENT}. */
function jsonPath(segments: readonly string[]): string {
  if (segments.length === 0 || segments.length > MAX_PATH_SEGMENTS + 2) throw new RangeError('bad JSON path');
  for (const segment of segments) {
    if (!PATH_SEGMENT.test(segment) && !CONSENT_CATEGORY.test(segment)) {
      throw new RangeError(`not an allowed path segment: ${JSON.stringify(segment)}`);
    }
  }
  return `'$.${segments.join('.')}'`;
}

/**
 * A cheap necessary condition for the JSON text in `column` to hold the key `key` anywhere: the key's
 * characters (letters, digits, `_`) appear in the text as they are, unless the text escapes one as
 * `\uXXXX` (no other JSON escape applies to them). Lets a scan skip the rows that cannot hold the key
 * before parsing any JSON; the JSON test that follows decides.
 */
function mayHoldKey(column: string, key: string): string {
  if (!PATH_SEGMENT.test(key) && !CONSENT_CATEGORY.test(key)) {
    throw new RangeError(`not an allowed key: ${JSON.stringify(key)}`);
  }
  return `(strpos(${column}, '${key}') > 0 OR strpos(${column}, '\\u') > 0)`;
}

/** ISO-8601 texts that the date operators read: a date, or a time with its offset. */
const ISO_PATTERN =
  "'^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$'";
const NUMBER_START = "('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')";

/** Where a parameter goes, until `finish` numbers them (private-use characters, never in printed SQL). */
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/**
 * A condition that reads `events` row by row (event, aggregate, trait, consent): what it needs from
 * the shared scan (see {@link Printer.scanCte}).
 */
type ScanReader =
  | { readonly kind: 'events'; readonly name: string; readonly window: Window | undefined }
  | { readonly kind: 'trait'; readonly top: string; readonly column: string }
  | { readonly kind: 'consent'; readonly column: string };

/** A CTE, printed when the query is finished (once every condition has said what it reads). */
interface Cte {
  readonly name: string;
  readonly body: () => string;
}

class Printer {
  private readonly params: QueryParam[] = [];
  private readonly ctes: Cte[] = [];
  /** CTE name by the condition it computes, so a condition used twice is computed once. */
  private readonly cteByKey = new Map<string, string>();
  private readonly joins: string[] = [];
  /** The conditions that read events row by row, each once; with two or more they share one scan. */
  private readonly readers: ScanReader[] = [];
  private readonly traitColumns = new Map<string, string>();

  constructor(
    private readonly dialect: Dialect,
    private readonly tables: LakeTables,
  ) {}

  /** The SELECT of the members (`SELECT u.profile_id FROM profiles u ... WHERE ...`); CTEs in {@link withClause}. */
  members(root: SegmentNode): string {
    const linksTable = this.table(this.tables.identityLinks);
    this.pushCte(
      'links',
      () =>
        `  SELECT ${link('id_type')} AS id_type, ${link('id_value')} AS id_value, ${link('profile_id')} AS profile_id, ${link('linked_at')} AS linked_at\n` +
        '  FROM (\n' +
        `    SELECT ${link('id_type')}, ${link('id_value')}, ${link('profile_id')}, ${link('linked_at')},\n` +
        `      row_number() OVER (PARTITION BY ${link('id_type')}, ${link('id_value')} ORDER BY ${link('linked_at')} DESC, ${link('profile_id')} DESC) AS rn\n` +
        `    FROM ${linksTable}\n` +
        '  ) l\n' +
        '  WHERE rn = 1',
    );
    this.pushCte('profiles', () => '  SELECT DISTINCT profile_id FROM links');
    const where = this.node(root);
    return `SELECT u.profile_id\nFROM profiles u\n${this.joins.map((join) => `${join}\n`).join('')}WHERE ${where}`;
  }

  /**
   * The CTEs (without `WITH`): `links`, `profiles`, the shared `scan` of events when two or more
   * conditions read events row by row, then one CTE per condition.
   */
  withClause(): string {
    const ctes = [...this.ctes];
    if (this.sharesScan()) ctes.splice(2, 0, { name: 'scan', body: () => this.scanCte() });
    return ctes.map((cte) => `${cte.name} AS (\n${cte.body()}\n)`).join(',\n');
  }

  private pushCte(name: string, body: () => string): void {
    this.ctes.push({ name, body });
  }

  /** Whether the conditions share one scan of events: two or more read it, and the engine computes it once. */
  private sharesScan(): boolean {
    return this.dialect.materialisesCtes && this.readers.length >= 2;
  }

  /** The members and their audience columns (see {@link printAudienceQuery}). */
  audience(root: SegmentNode, columns: readonly AudienceColumn[]): string {
    const select = this.members(root);
    this.pushCte('members', () => select);
    const values: string[] = ['m.profile_id'];
    const joins: string[] = [];
    columns.forEach((column, i) => {
      const name = `col_${i}`;
      if (column.kind === 'identifier') {
        this.pushCte(
          name,
          () =>
            '  SELECT profile_id, v\n' +
            '  FROM (\n' +
            '    SELECT profile_id, id_value AS v,\n' +
            '      row_number() OVER (PARTITION BY profile_id ORDER BY linked_at DESC, id_value DESC) AS rn\n' +
            `    FROM links\n    WHERE id_type = ${this.varchar(column.name)}\n` +
            '  ) i\n' +
            '  WHERE rn = 1',
        );
        values.push(`${name}.v AS ${quote(`c${i}`)}`);
      } else {
        if (!PATH_SEGMENT.test(column.name))
          throw new RangeError(`not an allowed trait name: ${column.name}`);
        const trait = this.traitCte(column.name);
        this.pushCte(name, trait);
        const text = this.dialect.jsonText(`${name}.v`);
        values.push(
          `CASE WHEN substr(${text}, 1, 1) IN ('{', '[') THEN ${text} ELSE ${this.dialect.scalarText(`${name}.v`)} END AS ${quote(`c${i}`)}`,
        );
      }
      joins.push(`LEFT JOIN ${name} ON ${name}.profile_id = m.profile_id`);
    });
    return (
      `WITH ${this.withClause()}\n` +
      `SELECT ${values.join(',\n  ')}\n` +
      `FROM members m\n${joins.map((join) => `${join}\n`).join('')}ORDER BY m.profile_id`
    );
  }

  /** Numbers the placeholders in text order and lists their parameters in that order. */
  finish(sql: string): CompiledQuery {
    const ordered: QueryParam[] = [];
    const text = sql.replace(PLACEHOLDER, (_, index: string) => {
      const param = this.params[Number(index)];
      if (param === undefined) throw new Error('unknown placeholder');
      ordered.push(param);
      return this.dialect.placeholder(ordered.length);
    });
    return { dialect: this.dialect.name, sql: text, params: ordered };
  }

  private table(name: TableName): string {
    return name.database === undefined ? quote(name.table) : `${quote(name.database)}.${quote(name.table)}`;
  }

  /** A placeholder (numbered in `finish`), cast to the parameter's type. */
  private param(param: QueryParam): string {
    this.params.push(param);
    const marker = `\uE000${this.params.length - 1}\uE001`;
    switch (param.type) {
      case 'varchar':
      case 'dt':
        return marker;
      case 'double':
        return `CAST(${marker} AS DOUBLE)`;
      case 'timestamp':
        return `CAST(${marker} AS TIMESTAMP)`;
      case 'timestamptz':
        return this.dialect.instantParam(marker);
    }
  }

  private varchar(value: string): string {
    return this.param({ type: 'varchar', value });
  }
  private double(value: number): string {
    return this.param({ type: 'double', value });
  }

  /**
   * A CTE for a condition, once per distinct key; joined to `profiles` by profile id. `body` runs once
   * (it says what the condition reads) and gives the printer of the CTE's text, run when the query is
   * finished — when it is known whether the conditions share a scan.
   */
  private cte(key: string, prefix: string, body: () => () => string): string {
    const existing = this.cteByKey.get(key);
    if (existing !== undefined) return existing;
    const name = `${prefix}_${this.cteByKey.size}`;
    this.cteByKey.set(key, name);
    this.pushCte(name, body());
    this.joins.push(`LEFT JOIN ${name} ON ${name}.profile_id = u.profile_id`);
    return name;
  }

  /** `FROM events e` joined to the current profile of its user id, else of its anonymous id. */
  private eventsWithProfile(): string {
    return (
      `  FROM ${this.table(this.tables.events)} e\n` +
      `  LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(${ev('user_id')})\n` +
      `  LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(${ev('anonymous_id')})`
    );
  }
  private static readonly PROFILE = 'coalesce(lu.profile_id, la.profile_id)';

  /** A boolean SQL expression, never NULL, true for the members of the node. */
  private node(node: SegmentNode): string {
    switch (node.kind) {
      case 'all':
        return `(${node.children.map((child) => this.node(child)).join('\n  AND ')})`;
      case 'any':
        return `(${node.children.map((child) => this.node(child)).join('\n  OR ')})`;
      case 'not':
        return `(NOT ${this.node(node.child)})`;
      case 'segment':
        return this.node(node.node);
      case 'trait': {
        const [top, ...rest] = node.path;
        if (top === undefined) throw new RangeError('empty trait path');
        const name = this.cte(`trait:${top}`, 'trait', () => this.traitCte(top));
        const value = rest.length === 0 ? `${name}.v` : `json_extract(${name}.v, ${jsonPath(rest)})`;
        return this.valueTest(value, node.test);
      }
      case 'consent': {
        const name = this.cte('consent', 'consent', () => this.consentCte());
        const value = `json_extract(${name}.v, ${jsonPath([node.category])})`;
        return `coalesce(${this.dialect.jsonText(value)} = 'true', FALSE)`;
      }
      case 'seen': {
        const name = this.cte('seen', 'seen', () => () => this.seenCte());
        const column = node.which === 'first' ? 'first_seen' : 'last_seen';
        const at = this.param({ type: 'timestamp', at: node.at });
        return `coalesce(${name}.${column} ${node.op === 'before' ? '<' : '>='} ${at}, FALSE)`;
      }
      case 'event': {
        const name = this.cte(`event:${JSON.stringify([node.name, node.window, node.where])}`, 'event', () =>
          this.matchingEventsCte(node.name, node.window, node.where, 'count(*)', undefined),
        );
        return this.numberTest(`coalesce(${name}.n, 0)`, node.count);
      }
      case 'aggregate': {
        const json = `json_extract(${ev('properties')}, ${jsonPath(node.path)})`;
        const value = node.fn === 'count_distinct' ? this.scalarOrNull('v') : this.numberOrNull('v');
        const aggregate = node.fn === 'count_distinct' ? `count(DISTINCT ${value})` : `${node.fn}(${value})`;
        const name = this.cte(
          `aggregate:${JSON.stringify([node.fn, node.event, node.path, node.window, node.where])}`,
          'aggregate',
          () => this.matchingEventsCte(node.event, node.window, node.where, aggregate, json),
        );
        const zeroWhenNone = node.fn === 'sum' || node.fn === 'count_distinct';
        return zeroWhenNone
          ? this.numberTest(`coalesce(${name}.n, 0)`, node.test)
          : `coalesce(${this.numberTest(`${name}.n`, node.test)}, FALSE)`;
      }
    }
  }

  /**
   * The shared scan: `events` read once for every condition that reads events row by row (two or
   * more), each row with its current profile (NULL when it has none; each condition drops those where
   * it did before). A row is kept when some condition may use it — a track event of a named event in
   * its window, or text that can hold a trait's name or `categoryPreferences` — and carries what the
   * conditions read: the event's columns under their own names, the candidate value of each trait
   * (`trait_value_n`) and the consent preferences (`consent_value`), computed only where the cheap
   * text test passes. Each condition then selects its rows from the scan with its own full test, so
   * what it computes is what it computed over `events`. When every condition has a window, the scan
   * reads only the partitions of the widest. Printed only for an engine that computes a CTE used more
   * than once only once (DuckDB): Trino inlines it into each use, so there each condition reads
   * `events` itself, as a scan of its own would.
   */
  private scanCte(): string {
    const columns = [
      `${Printer.PROFILE} AS profile_id`,
      ...['type', 'event', 'dt', 'timestamp', 'received_at', 'source', 'message_id', 'properties'].map(ev),
    ];
    const keep: string[] = [];
    for (const reader of this.readers) {
      switch (reader.kind) {
        case 'events': {
          const conditions = [`${ev('type')} = 'track'`, `${ev('event')} = ${this.varchar(reader.name)}`];
          if (reader.window !== undefined) conditions.push(...this.windowConditions(reader.window));
          keep.push(`(${conditions.join(' AND ')})`);
          break;
        }
        case 'trait': {
          const may = this.mayHoldTrait(reader.top);
          columns.push(`CASE WHEN ${may} THEN ${this.traitValue(reader.top)} END AS ${quote(reader.column)}`);
          keep.push(may);
          break;
        }
        case 'consent': {
          const may = mayHoldKey(ev('context'), 'categoryPreferences');
          columns.push(`CASE WHEN ${may} THEN ${this.consentValue()} END AS ${quote(reader.column)}`);
          keep.push(may);
          break;
        }
      }
    }
    const where = [`(${keep.join('\n    OR ')})`];
    const partitions = this.widestPartitions();
    if (partitions !== undefined) where.unshift(partitions);
    return (
      `  SELECT ${columns.join(',\n    ')}\n` +
      `${this.eventsWithProfile()}\n` +
      `  WHERE ${where.join('\n    AND ')}`
    );
  }

  /**
   * When every condition reading the scan is an event or aggregate with a window, the partitions that
   * can hold any of them: `dt >=` the earliest start (one per kind of time point — relative starts and
   * absolute starts compare only once bound).
   */
  private widestPartitions(): string | undefined {
    let ago: TimePoint | undefined;
    let absolute: TimePoint | undefined;
    for (const reader of this.readers) {
      if (reader.kind !== 'events' || reader.window === undefined) return undefined;
      const from = reader.window.from;
      if (from.kind === 'ago') {
        if (ago === undefined || from.ms > ago.ms) ago = from;
      } else if (absolute === undefined || from.ms < absolute.ms) absolute = from;
    }
    const starts = [ago, absolute].filter((at) => at !== undefined);
    if (starts.length === 0) return undefined;
    const tests = starts.map((at) => `${ev('dt')} >= ${this.param({ type: 'dt', at })}`);
    return tests.length === 1 ? (tests[0] as string) : `(${tests.join(' OR ')})`;
  }

  /**
   * Per profile, the number (or aggregate) of its track events of one name in the window that pass
   * the filters, each message counted once however often the lake holds it.
   *
   * A message is its `(source, message_id)` on one profile, as the resolver counts it (each profile
   * remembers the ids it applied): a copy of it on another profile — a `messageId` reused by another
   * person's message (a buggy client, colliding ids) — is that person's event and counts there too.
   * A redelivery or an SDK retry names the same ids, so it lands on the same profile and counts once.
   */
  private matchingEventsCte(
    name: string,
    window: Window | undefined,
    where: readonly PropertyFilter[],
    aggregate: string,
    value: string | undefined,
  ): () => string {
    this.readers.push({ kind: 'events', name, window });
    return () => {
      const conditions = [`${ev('type')} = 'track'`, `${ev('event')} = ${this.varchar(name)}`];
      if (window !== undefined) conditions.push(...this.windowConditions(window));
      for (const filter of where) {
        conditions.push(
          this.valueTest(`json_extract(${ev('properties')}, ${jsonPath(filter.path)})`, filter.test),
        );
      }
      const from = this.sharesScan()
        ? '    FROM scan e'
        : this.eventsWithProfile().replaceAll('\n  ', '\n    ').replace(/^ {2}/, '    ');
      const profile = this.sharesScan() ? 'e.profile_id' : Printer.PROFILE;
      return (
        `  SELECT profile_id, ${aggregate} AS n\n` +
        '  FROM (\n' +
        `    SELECT ${profile} AS profile_id,${value === undefined ? '' : ` ${value} AS v,`}\n` +
        `      row_number() OVER (PARTITION BY ${ev('source')}, ${ev('message_id')}, ${profile} ORDER BY ${ev('received_at')}) AS copy\n` +
        `${from}\n` +
        `    WHERE ${conditions.join('\n      AND ')}\n` +
        '  ) x\n' +
        '  WHERE copy = 1 AND profile_id IS NOT NULL\n' +
        '  GROUP BY profile_id'
      );
    };
  }

  /** The window on event time, and the partitions that can hold it (`dt` is by `received_at`). */
  private windowConditions(window: Window): string[] {
    const conditions = [
      `${ev('dt')} >= ${this.param({ type: 'dt', at: window.from })}`,
      `${ev('timestamp')} >= ${this.param({ type: 'timestamp', at: window.from })}`,
    ];
    conditions.push(`${ev('timestamp')} <= ${this.param({ type: 'timestamp', at: window.to })}`);
    return conditions;
  }

  /** An identify call's `traits` wins over `context.traits` of the same event. */
  private traitValue(top: string): string {
    const own = `CASE WHEN ${ev('type')} = 'identify' THEN json_extract(${ev('traits')}, ${jsonPath([top])}) END`;
    return `coalesce(${own}, json_extract(${ev('context')}, ${jsonPath(['traits', top])}))`;
  }
  private mayHoldTrait(top: string): string {
    return `(${mayHoldKey(ev('traits'), top)} OR ${mayHoldKey(ev('context'), top)})`;
  }
  private consentValue(): string {
    return `json_extract(${ev('context')}, ${jsonPath(['consent', 'categoryPreferences'])})`;
  }

  /**
   * Per profile, the latest write of one top-level trait (JSON, JSON null included): an identify
   * call's `traits` wins over `context.traits` of the same event; the latest event wins.
   */
  private traitCte(top: string): () => string {
    let column = this.traitColumns.get(top);
    if (column === undefined) {
      column = `trait_value_${this.traitColumns.size}`;
      this.traitColumns.set(top, column);
      this.readers.push({ kind: 'trait', top, column });
    }
    const scanColumn = column;
    return () =>
      this.latestPerProfile(this.traitValue(top), scanColumn, 'IS NOT NULL', this.mayHoldTrait(top));
  }

  /** Per profile, the latest `context.consent.categoryPreferences` object. */
  private consentCte(): () => string {
    this.readers.push({ kind: 'consent', column: 'consent_value' });
    return () =>
      this.latestPerProfile(
        this.consentValue(),
        'consent_value',
        (v) => `substr(${this.dialect.jsonText(v)}, 1, 1) = '{'`,
        mayHoldKey(ev('context'), 'categoryPreferences'),
      );
  }

  /**
   * The value `value` of each profile's latest event where `keep` holds: by event time, then by the
   * resolver's message key (as `compareVersions` orders writes). `mayKeep` — a cheap condition on the
   * event that `keep` implies — narrows the events first, before `value` is computed; the message key
   * is computed only for each profile's events at its latest time. With a shared scan, the scan has
   * narrowed the events and computed the value (its column `scanColumn`).
   */
  private latestPerProfile(
    value: string,
    scanColumn: string,
    keep: 'IS NOT NULL' | ((v: string) => string),
    mayKeep: string,
  ): string {
    const keeps = (v: string) => (keep === 'IS NOT NULL' ? `${v} IS NOT NULL` : keep(v));
    // Ordering every kept event by its message key (a SHA-256 each) can cost more than the scan; here
    // each profile's latest time is found first, and only the events at that time (usually one) are
    // ordered by message key.
    const key = this.dialect.messageKey('c.source', 'c.message_id');
    const candidates = this.sharesScan()
      ? `        SELECT e.profile_id, e.${quote(scanColumn)} AS v, ${ev('timestamp')} AS ts, ${ev('source')} AS source, ${ev('message_id')} AS message_id\n` +
        '        FROM scan e\n' +
        `        WHERE ${keeps(`e.${quote(scanColumn)}`)} AND e.profile_id IS NOT NULL\n`
      : `        SELECT ${Printer.PROFILE} AS profile_id, w.v, w.ts, w.source, w.message_id\n` +
        '        FROM (\n' +
        `          SELECT ${ev('user_id')} AS user_id, ${ev('anonymous_id')} AS anonymous_id, ${ev('timestamp')} AS ts,\n` +
        `            ${ev('source')} AS source, ${ev('message_id')} AS message_id, ${value} AS v\n` +
        `          FROM ${this.table(this.tables.events)} e\n` +
        `          WHERE ${mayKeep}\n` +
        '        ) w\n' +
        "        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)\n" +
        "        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)\n" +
        `        WHERE ${keeps('w.v')} AND ${Printer.PROFILE} IS NOT NULL\n`;
    return (
      '  SELECT profile_id, v\n' +
      '  FROM (\n' +
      `    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY ${key} DESC) AS rn\n` +
      '    FROM (\n' +
      '      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest\n' +
      '      FROM (\n' +
      candidates +
      '      ) p\n' +
      '    ) c\n' +
      // NULL only when none of the profile's events has a time: then all are candidates (NULLs sort
      // last when descending, so the one-stage form would order them by key too).
      '    WHERE c.ts = c.latest OR c.latest IS NULL\n' +
      '  ) r\n' +
      '  WHERE rn = 1'
    );
  }

  /** Per profile, the earliest and latest event `timestamp`, any call type. */
  private seenCte(): string {
    // The identifiers of an event decide its profile, so the times are first reduced per pair of
    // identifiers (far fewer than events) and only the pairs are joined to their profiles.
    return (
      `  SELECT ${Printer.PROFILE} AS profile_id, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen\n` +
      '  FROM (\n' +
      `    SELECT ${ev('user_id')} AS user_id, ${ev('anonymous_id')} AS anonymous_id,\n` +
      `      min(${ev('timestamp')}) AS first_seen, max(${ev('timestamp')}) AS last_seen\n` +
      `    FROM ${this.table(this.tables.events)} e\n` +
      `    GROUP BY ${ev('user_id')}, ${ev('anonymous_id')}\n` +
      '  ) s\n' +
      "  LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(s.user_id)\n" +
      "  LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(s.anonymous_id)\n" +
      `  WHERE ${Printer.PROFILE} IS NOT NULL\n` +
      `  GROUP BY ${Printer.PROFILE}`
    );
  }

  private numberTest(value: string, test: NumberTest): string {
    switch (test.op) {
      case 'between':
        return `(${value} BETWEEN ${this.double(test.min)} AND ${this.double(test.max)})`;
      default:
        return `(${value} ${COMPARE[test.op]} ${this.double(test.value)})`;
    }
  }

  /** The number a JSON value holds, NULL for anything but a JSON number. */
  private numberOrNull(json: string): string {
    return `CASE WHEN ${this.isNumber(json)} THEN try_cast(${this.dialect.scalarText(json)} AS DOUBLE) END`;
  }
  /** The text of a JSON string, number or boolean; NULL for null, objects and arrays. */
  private scalarOrNull(json: string): string {
    return `CASE WHEN substr(${this.dialect.jsonText(json)}, 1, 1) NOT IN ('{', '[', 'n') THEN ${this.dialect.scalarText(json)} END`;
  }
  private isNumber(json: string): string {
    return `substr(${this.dialect.jsonText(json)}, 1, 1) IN ${NUMBER_START}`;
  }
  private isString(json: string): string {
    return `substr(${this.dialect.jsonText(json)}, 1, 1) = '"'`;
  }
  private exists(json: string): string {
    return `coalesce(${this.dialect.jsonText(json)} <> 'null', FALSE)`;
  }

  /** A test of a JSON value (see `ValueTest`): a boolean, never NULL. */
  private valueTest(json: string, test: ValueTest): string {
    const text = this.dialect.scalarText(json);
    const number = `try_cast(${text} AS DOUBLE)`;
    switch (test.op) {
      case 'exists':
        return this.exists(json);
      case 'not_exists':
        return `(NOT ${this.exists(json)})`;
      case 'eq':
        return this.equals(json, test.value);
      case 'neq':
        return `(${this.exists(json)} AND NOT ${this.equals(json, test.value)})`;
      case 'in':
        return this.isIn(json, test.values);
      case 'not_in':
        return `(${this.exists(json)} AND NOT ${this.isIn(json, test.values)})`;
      case 'contains':
        return `coalesce(${this.isString(json)} AND strpos(${text}, ${this.varchar(test.value)}) > 0, FALSE)`;
      case 'starts_with':
        return `coalesce(${this.isString(json)} AND starts_with(${text}, ${this.varchar(test.value)}), FALSE)`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return `coalesce(${this.isNumber(json)} AND ${number} ${COMPARE[test.op]} ${this.double(test.value)}, FALSE)`;
      case 'between':
        return `coalesce(${this.isNumber(json)} AND ${number} BETWEEN ${this.double(test.min)} AND ${this.double(test.max)}, FALSE)`;
      case 'before':
      case 'after': {
        const instant = this.dialect.parseInstant(text);
        const at = this.param({ type: 'timestamptz', at: test.at });
        return (
          `coalesce(${this.isString(json)} AND ${this.dialect.regexMatches(text, ISO_PATTERN)}` +
          ` AND ${instant} ${test.op === 'before' ? '<' : '>='} ${at}, FALSE)`
        );
      }
    }
  }

  private equals(json: string, value: string | number | boolean): string {
    if (typeof value === 'string') {
      return `coalesce(${this.isString(json)} AND ${this.dialect.scalarText(json)} = ${this.varchar(value)}, FALSE)`;
    }
    if (typeof value === 'number') {
      return `coalesce(${this.isNumber(json)} AND try_cast(${this.dialect.scalarText(json)} AS DOUBLE) = ${this.double(value)}, FALSE)`;
    }
    return `coalesce(${this.dialect.jsonText(json)} = ${this.varchar(String(value))}, FALSE)`;
  }

  private isIn(json: string, values: readonly string[] | readonly number[]): string {
    const first = values[0];
    if (typeof first === 'number') {
      const list = (values as readonly number[]).map((value) => this.double(value)).join(', ');
      return `coalesce(${this.isNumber(json)} AND try_cast(${this.dialect.scalarText(json)} AS DOUBLE) IN (${list}), FALSE)`;
    }
    const list = (values as readonly string[]).map((value) => this.varchar(value)).join(', ');
    return `coalesce(${this.isString(json)} AND ${this.dialect.scalarText(json)} IN (${list}), FALSE)`;
  }
}

const COMPARE = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
