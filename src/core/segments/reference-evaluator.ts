import { compareStrings } from '../identity/identifier';
import { messageKey } from '../identity/message-key';
import type {
  NumberTest,
  PropertyFilter,
  SegmentAst,
  SegmentNode,
  TimePoint,
  ValueTest,
  Window,
} from './ast';
import { resolveTime } from './params';

/**
 * An `events` row as the lake holds it: the columns the segment semantics read, JSON columns as their
 * JSON text, timestamps as ISO-8601 text (UTC), absent values as `null` (`toEventRow` gives this shape).
 */
export interface ReferenceEventRow {
  readonly message_id: string | null;
  readonly type: string | null;
  readonly event: string | null;
  readonly user_id: string | null;
  readonly anonymous_id: string | null;
  readonly timestamp: string | null;
  readonly received_at: string | null;
  readonly source: string | null;
  readonly properties: string | null;
  readonly traits: string | null;
  readonly context: string | null;
}

/** An `identity_links` row: the columns the identity mapping reads. */
export interface ReferenceLinkRow {
  readonly id_type: string;
  readonly id_value: string;
  readonly profile_id: string;
  readonly linked_at: string;
}

export interface ReferenceInput {
  /** The compiled segment (`compileSegment`): referenced segments are already inlined in it. */
  readonly ast: SegmentAst;
  /** The time the segment is evaluated at (ms since the epoch): relative times count back from it. */
  readonly now: number;
  readonly events: readonly ReferenceEventRow[];
  readonly links: readonly ReferenceLinkRow[];
}

/**
 * The members of a segment, computed in memory straight from the semantics written on the AST nodes
 * (`ast.ts`) and in docs/segments.md — the oracle the SQL printers are tested against, and the seed of
 * streaming segments. Simple rather than fast: every condition looks at every row of the profile.
 * Returns the member profile ids in id order, as the members query does.
 */
export function evaluateMembers(input: ReferenceInput): string[] {
  const lake = new Lake(input.events, input.links, input.now);
  return [...lake.profiles].filter((profile) => lake.holds(input.ast.root, profile)).sort(compareStrings);
}

/** The latest time both engines can hold; bound times are clamped to it as `bindParams` does. */
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ISO_TEXT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

type Json = unknown;

interface Row {
  readonly raw: ReferenceEventRow;
  readonly profile: string | undefined;
  /** Event time in ms (NaN when the row has none). */
  readonly t: number;
  readonly received: number;
  readonly properties: Json;
  readonly traits: Json;
  readonly context: Json;
}

class Lake {
  readonly profiles = new Set<string>();
  private readonly rows: Row[];
  private readonly byProfile = new Map<string, Row[]>();
  /** Matching events per condition node: the kept copy of each message, by profile. */
  private readonly matches = new Map<SegmentNode, Map<string, Row[]>>();

  constructor(
    events: readonly ReferenceEventRow[],
    links: readonly ReferenceLinkRow[],
    private readonly now: number,
  ) {
    // The latest link per identifier: latest `linked_at`, then the greatest profile id.
    const latest = new Map<string, ReferenceLinkRow>();
    for (const link of links) {
      const key = `${link.id_type}\u0000${link.id_value}`;
      const current = latest.get(key);
      if (current === undefined || compareLinks(link, current) > 0) {
        latest.set(key, link);
      }
    }
    const current = new Map<string, string>();
    for (const [key, link] of latest) {
      current.set(key, link.profile_id);
      this.profiles.add(link.profile_id);
    }
    const profileOf = (type: string, id: string | null): string | undefined =>
      id === null ? undefined : current.get(`${type}\u0000${trimSpaces(id)}`);

    this.rows = events.map((raw) => ({
      raw,
      profile: profileOf('user_id', raw.user_id) ?? profileOf('anonymous_id', raw.anonymous_id),
      t: instant(raw.timestamp),
      received: instant(raw.received_at),
      properties: parseJson(raw.properties),
      traits: parseJson(raw.traits),
      context: parseJson(raw.context),
    }));
    for (const row of this.rows) {
      if (row.profile === undefined) continue;
      const list = this.byProfile.get(row.profile) ?? [];
      list.push(row);
      this.byProfile.set(row.profile, list);
    }
  }

  holds(node: SegmentNode, profile: string): boolean {
    switch (node.kind) {
      case 'all':
        return node.children.every((child) => this.holds(child, profile));
      case 'any':
        return node.children.some((child) => this.holds(child, profile));
      case 'not':
        return !this.holds(node.child, profile);
      case 'segment':
        return this.holds(node.node, profile);
      case 'trait': {
        const [top, ...rest] = node.path;
        if (top === undefined) return false;
        return valueTest(read(this.trait(profile, top), rest), node.test, this.now);
      }
      case 'consent': {
        const preferences = this.latest(profile, (row) => {
          const value = read(row.context, ['consent', 'categoryPreferences']);
          return isObject(value) ? value : undefined;
        });
        return read(preferences, [node.category]) === true;
      }
      case 'seen': {
        const times = (this.byProfile.get(profile) ?? []).map((row) => row.t).filter((t) => !Number.isNaN(t));
        if (times.length === 0) return false;
        const seen = node.which === 'first' ? Math.min(...times) : Math.max(...times);
        const at = this.time(node.at);
        return node.op === 'before' ? seen < at : seen >= at;
      }
      case 'event': {
        const rows = this.matching(node, node.name, node.window, node.where).get(profile) ?? [];
        return numberTest(rows.length, node.count);
      }
      case 'aggregate': {
        const rows = this.matching(node, node.event, node.window, node.where).get(profile) ?? [];
        const values = rows.map((row) => read(row.properties, node.path));
        return numberTest(aggregate(node.fn, values), node.test);
      }
    }
  }

  /** A time point at `now`, clamped as bound parameters are. */
  private time(at: TimePoint): number {
    return Math.min(Math.max(resolveTime(at, this.now), 0), MAX_INSTANT);
  }

  /**
   * The track events of one name in the window passing every filter, by profile: each message
   * (`source`, `message_id`) once per profile — its earliest received copy there. A copy on another
   * profile (a `messageId` reused by another person's message) counts there too, as the resolver's
   * per-profile dedupe counts it.
   */
  private matching(
    node: SegmentNode,
    name: string,
    window: Window | undefined,
    where: readonly PropertyFilter[],
  ): Map<string, Row[]> {
    const cached = this.matches.get(node);
    if (cached !== undefined) return cached;
    const from = window === undefined ? undefined : this.time(window.from);
    const to = window === undefined ? undefined : this.time(window.to);
    // Per profile, the kept copy of each message.
    const kept = new Map<string, Map<string, Row>>();
    for (const row of this.rows) {
      if (row.profile === undefined) continue;
      if (row.raw.type !== 'track' || row.raw.event !== name) continue;
      if (from !== undefined && to !== undefined && !(row.t >= from && row.t <= to)) continue;
      if (!where.every((filter) => valueTest(read(row.properties, filter.path), filter.test, this.now)))
        continue;
      const copies = kept.get(row.profile) ?? new Map<string, Row>();
      kept.set(row.profile, copies);
      const key = `${row.raw.source}\u0000${row.raw.message_id}`;
      const copy = copies.get(key);
      if (copy === undefined || row.received < copy.received) copies.set(key, row);
    }
    const byProfile = new Map([...kept].map(([profile, copies]) => [profile, [...copies.values()]]));
    this.matches.set(node, byProfile);
    return byProfile;
  }

  /**
   * A top-level trait: the write of the profile's latest event that writes it (an identify call's
   * `traits` before `context.traits` of the same event); `undefined` when none does. JSON null is a write.
   */
  private trait(profile: string, top: string): Json {
    return this.latest(profile, (row) => {
      if (row.raw.type === 'identify' && isObject(row.traits) && Object.hasOwn(row.traits, top)) {
        return row.traits[top];
      }
      const traits = read(row.context, ['traits']);
      return isObject(traits) && Object.hasOwn(traits, top) ? traits[top] : undefined;
    });
  }

  /** What `pick` gives for the profile's latest event that gives something: by time, then message key. */
  private latest(profile: string, pick: (row: Row) => Json): Json {
    let best: { row: Row; key: string; value: Json } | undefined;
    for (const row of this.byProfile.get(profile) ?? []) {
      const value = pick(row);
      if (value === undefined) continue;
      const key = messageKey({ source: row.raw.source ?? '', messageId: row.raw.message_id ?? '' });
      if (
        best === undefined ||
        compareTimes(row.t, best.row.t) > 0 ||
        (row.t === best.row.t && key > best.key)
      ) {
        best = { row, key, value };
      }
    }
    return best?.value;
  }
}

function compareLinks(a: ReferenceLinkRow, b: ReferenceLinkRow): number {
  return (
    compareTimes(instant(a.linked_at), instant(b.linked_at)) || compareStrings(a.profile_id, b.profile_id)
  );
}

/** Orders times, a missing time (NaN) before every other (SQL sorts NULLs last when descending). */
function compareTimes(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}

/** SQL `trim`: spaces only, at both ends. */
function trimSpaces(text: string): string {
  return text.replace(/^ +| +$/g, '');
}

function instant(text: string | null): number {
  return text === null ? Number.NaN : Date.parse(text);
}

function parseJson(text: string | null): Json {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a path of object keys (`undefined` when absent); an empty path is the value itself. */
function read(value: Json, path: readonly string[]): Json {
  let current = value;
  for (const key of path) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

function numberTest(value: number | undefined, test: NumberTest): boolean {
  if (value === undefined) return false;
  switch (test.op) {
    case 'eq':
      return value === test.value;
    case 'neq':
      return value !== test.value;
    case 'gt':
      return value > test.value;
    case 'gte':
      return value >= test.value;
    case 'lt':
      return value < test.value;
    case 'lte':
      return value <= test.value;
    case 'between':
      return value >= test.min && value <= test.max;
  }
}

/** `sum` and `count_distinct` of nothing are 0; `avg`, `min`, `max` of nothing are undefined. */
function aggregate(
  fn: 'sum' | 'avg' | 'min' | 'max' | 'count_distinct',
  values: readonly Json[],
): number | undefined {
  if (fn === 'count_distinct') {
    const texts = new Set<string>();
    for (const value of values) {
      if (typeof value === 'string') texts.add(value);
      else if (typeof value === 'number' || typeof value === 'boolean') texts.add(JSON.stringify(value));
    }
    return texts.size;
  }
  const numbers = values.filter((value): value is number => typeof value === 'number');
  const sum = numbers.reduce((total, n) => total + n, 0);
  if (fn === 'sum') return sum;
  if (numbers.length === 0) return undefined;
  if (fn === 'avg') return sum / numbers.length;
  return fn === 'min' ? Math.min(...numbers) : Math.max(...numbers);
}

/** A value test (`ValueTest`): type-strict, false for absent and null but for `not_exists`. */
function valueTest(value: Json, test: ValueTest, now: number): boolean {
  const present = value !== undefined && value !== null;
  switch (test.op) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'eq':
      return equals(value, test.value);
    case 'neq':
      return present && !equals(value, test.value);
    case 'in':
      return isIn(value, test.values);
    case 'not_in':
      return present && !isIn(value, test.values);
    case 'contains':
      return typeof value === 'string' && value.includes(test.value);
    case 'starts_with':
      return typeof value === 'string' && value.startsWith(test.value);
    case 'gt':
      return typeof value === 'number' && value > test.value;
    case 'gte':
      return typeof value === 'number' && value >= test.value;
    case 'lt':
      return typeof value === 'number' && value < test.value;
    case 'lte':
      return typeof value === 'number' && value <= test.value;
    case 'between':
      return typeof value === 'number' && value >= test.min && value <= test.max;
    case 'before':
    case 'after': {
      if (typeof value !== 'string' || !ISO_TEXT.test(value)) return false;
      const t = Date.parse(value);
      if (Number.isNaN(t)) return false;
      const at = Math.min(Math.max(resolveTime(test.at, now), 0), MAX_INSTANT);
      return test.op === 'before' ? t < at : t >= at;
    }
  }
}

function equals(value: Json, operand: string | number | boolean): boolean {
  return typeof value === typeof operand && value === operand;
}

function isIn(value: Json, values: readonly string[] | readonly number[]): boolean {
  return (values as readonly unknown[]).some((candidate) => equals(value, candidate as string | number));
}
