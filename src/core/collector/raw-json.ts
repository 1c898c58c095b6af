/**
 * A one-pass reading of a request's JSON text that finds where each message and each of its top-level
 * members are, without building the objects `JSON.parse` builds. The collector's fast path uses it to
 * write stream records from the text as received instead of serialising every message again.
 *
 * It is strict where it answers and modest about when it answers: a text it reads is valid JSON that
 * `JSON.parse` reads to the same values, and every message in it has been measured against the depth
 * and key limits with no duplicate, `__proto__` or object-holding `constructor`/`prototype` key.
 * Anything else — invalid JSON, raw control characters or tabs and line breaks between tokens,
 * escaped keys, exponents and numbers of more than 15 digits, a message past a limit — gets
 * `undefined`, and the caller takes the general path (`JSON.parse` and the checks that word reasons).
 *
 * The same scanner is written again in AssemblyScript (wasm/raw-json.ts, loaded by raw-json-wasm.ts),
 * which reads ASCII text; `scanBody` (scan-body.ts) picks. A change to what this one reads, to
 * {@link RawKind} or to {@link FIELDS} is made there too, then `npm run build:wasm`: every scanner test
 * runs against both, and a property test holds them to the same answers.
 */

/** What a member's value is, as far as the fast path needs to know. */
export const RawKind = {
  /** A string without escapes: its value is the text between the quotes. */
  String: 0,
  /** A string with escapes. */
  EscapedString: 1,
  Number: 2,
  True: 3,
  False: 4,
  Null: 5,
  Object: 6,
  Array: 7,
} as const;
export type RawKind = (typeof RawKind)[keyof typeof RawKind];

/**
 * The member names the collector reads or stamps, numbered. The scanner recognises them in the text
 * (no string is made for any key), and gives every other name {@link OTHER_FIELD}. The WebAssembly
 * scanner has the same list, in the same order (`NAMES` in wasm/raw-json.ts).
 */
export const FIELDS = [
  // Those stamping may add, in the order `normalizeMessage` adds them (the fast path appends them so).
  'type',
  'messageId',
  'context',
  'integrations',
  'sentAt',
  'originalTimestamp',
  'timestamp',
  'receivedAt',
  'source',
  // Those it reads or changes in place.
  'userId',
  'anonymousId',
  'previousId',
  'groupId',
  'writeKey',
  'event',
  'name',
  'category',
  'properties',
  'traits',
  // A message's `context.ip`, and a batch body's `batch`.
  'ip',
  'batch',
] as const;
export type FieldName = (typeof FIELDS)[number];
/** A field's number: its index in {@link FIELDS}. */
export const FIELD: { readonly [name in FieldName]: number } = Object.fromEntries(
  FIELDS.map((name, i) => [name, i]),
) as { [name in FieldName]: number };
/** The number of a member whose name is not in {@link FIELDS}. */
export const OTHER_FIELD = -1;

/** One `"key": value` of an object, by position in the text. */
export interface RawMember {
  /** The key's number in {@link FIELDS}, or {@link OTHER_FIELD}. */
  readonly field: number;
  /** Index of the key's opening quote. */
  readonly start: number;
  /** Index of the value's first character. */
  readonly valueStart: number;
  /** Index just past the value. */
  readonly end: number;
  readonly kind: RawKind;
  /** For a message's `context` object: its `ip` member, if it has one (the only one recorded). */
  readonly members?: readonly RawMember[];
}

/** One message: its span and its top-level members in the order they were written. */
export interface RawMessage {
  readonly start: number;
  readonly end: number;
  readonly members: readonly RawMember[];
}

export interface RawBody {
  /** The body's top-level members (for a single call, the message's own). */
  readonly members: readonly RawMember[];
  /** The messages: the `batch` array's elements, or the body itself for a single call. */
  readonly messages: readonly RawMessage[];
}

export interface RawLimits {
  readonly maxDepth: number;
  readonly maxKeys: number;
}

/** Objects with more keys than this check a key for duplicates against a set, not pairwise. */
const PAIRWISE_KEYS = 16;
/** Numbers longer than this many digits are left to `JSON.parse`, so their text is their value. */
const MAX_NUMBER_DIGITS = 15;

/** A raw control character: invalid in a string, and (as tab or line break) between tokens. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding raw control characters is its purpose
const CONTROL = /[\u0000-\u001f]/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LETTER_T = 0x74;
const LETTER_F = 0x66;
const LETTER_N = 0x6e;
const LETTER_U = 0x75;

/** Thrown inside the scanner when the text is not one it answers for; never escapes this module. */
const DECLINED = new Error('not a text the fast path reads');

/**
 * Reads a batch body (`{"batch": [...], ...}`) or, with `single`, one message as the whole body.
 * `undefined` when the text is not one this reads (the caller parses it instead).
 */
export function scanRawBody(text: string, single: boolean, limits: RawLimits): RawBody | undefined {
  if (CONTROL.test(text)) return undefined;
  const scanner = new Scanner(text, limits);
  try {
    return single ? scanner.single() : scanner.batch();
  } catch (error) {
    if (error === DECLINED) return undefined;
    throw error;
  }
}

/** How {@link Scanner.object} treats an object's members. */
const Members = {
  /** Only an `ip` member recorded: a message's `context`. */
  Ip: 1,
  /** Recorded, and an object under `context` recorded too: a message. */
  Message: 2,
  /** Recorded, and the array under `batch` read as messages: a batch body. */
  Body: 3,
} as const;
type Members = (typeof Members)[keyof typeof Members];

class Scanner {
  private pos = 0;
  /** Keys counted in the current message. */
  private keys = 0;
  /** Index of the next backslash at or after the position strings are read from (-1: none left). */
  private nextBackslash: number;
  /** Whether the string just read had an escape. */
  private escaped = false;
  /** Key spans (start, length) of the objects being read, innermost last, for duplicate checks. */
  private spans = new Int32Array(256);
  private spanTop = 0;
  /** The keys of the large objects being read (by where their spans start), for duplicate checks. */
  private readonly keySets = new Map<number, { readonly keys: Set<string>; through: number }>();
  /** A batch body's messages, once read. */
  private batchMessages: RawMessage[] | undefined;

  constructor(
    private readonly text: string,
    private readonly limits: RawLimits,
  ) {
    this.nextBackslash = text.indexOf('\\');
  }

  single(): RawBody {
    this.space();
    const message = this.message();
    this.end();
    return { members: message.members, messages: [message] };
  }

  batch(): RawBody {
    this.space();
    if (this.text.charCodeAt(this.pos) !== OPEN_BRACE) throw DECLINED;
    const members: RawMember[] = [];
    // The body's own members are not a message: bounds are per message.
    this.object(0, Members.Body, members);
    this.end();
    const messages = this.batchMessages;
    if (messages === undefined) throw DECLINED;
    return { members, messages };
  }

  private end(): void {
    this.space();
    if (this.pos !== this.text.length) throw DECLINED;
  }

  private messages(): RawMessage[] {
    const text = this.text;
    const out: RawMessage[] = [];
    this.pos++;
    this.space();
    if (text.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      out.push(this.message());
      this.space();
      const c = text.charCodeAt(this.pos++);
      if (c === CLOSE_BRACKET) return out;
      if (c !== COMMA) throw DECLINED;
    }
  }

  /** The message object at the position. */
  private message(): RawMessage {
    const start = this.pos;
    if (this.text.charCodeAt(start) !== OPEN_BRACE) throw DECLINED;
    this.keys = 0;
    const members: RawMember[] = [];
    this.object(0, Members.Message, members);
    if (this.keys > this.limits.maxKeys) throw DECLINED;
    return { start, end: this.pos, members };
  }

  /**
   * Reads the object at the position (the message is depth 0), recording its members into `members`
   * as `mode` says. Objects nothing is recorded of are read by {@link skipObject}.
   */
  private object(depth: number, mode: Members, members: RawMember[]): void {
    if (depth >= this.limits.maxDepth) throw DECLINED;
    const text = this.text;
    const base = this.spanTop;
    // One bit per key hash: a key whose bit is already set is compared with the others in earnest.
    let seen = 0;
    let pos = this.pos + 1;
    while (text.charCodeAt(pos) === SPACE) pos++;
    if (text.charCodeAt(pos) === CLOSE_BRACE) {
      this.pos = pos + 1;
      return;
    }
    for (;;) {
      while (text.charCodeAt(pos) === SPACE) pos++;
      const keyStart = pos;
      if (text.charCodeAt(keyStart) !== QUOTE) throw DECLINED;
      this.pos = pos;
      this.string();
      if (this.escaped) throw DECLINED;
      pos = this.pos;
      const keyLength = pos - keyStart - 2;
      this.keys++;
      const bit = 1 << ((keyLength + text.charCodeAt(keyStart + 1) + 3 * text.charCodeAt(pos - 2)) & 31);
      if ((seen & bit) !== 0) this.checkDuplicate(base, keyStart + 1, keyLength);
      seen |= bit;
      this.pushSpan(keyStart + 1, keyLength);
      while (text.charCodeAt(pos) === SPACE) pos++;
      if (text.charCodeAt(pos++) !== COLON) throw DECLINED;
      while (text.charCodeAt(pos) === SPACE) pos++;
      const valueStart = pos;
      const first = text.charCodeAt(valueStart);
      if (keyLength === 9 || keyLength === 11) this.checkKey(keyStart + 1, keyLength, first);
      this.pos = pos;
      const field = fieldOf(text, keyStart + 1, keyLength);
      if (mode === Members.Message && first === OPEN_BRACE && field === FIELD.context) {
        const own: RawMember[] = [];
        this.object(depth + 1, Members.Ip, own);
        members.push({
          field,
          start: keyStart,
          valueStart,
          end: this.pos,
          kind: RawKind.Object,
          members: own,
        });
      } else if (mode === Members.Body && field === FIELD.batch) {
        if (first !== OPEN_BRACKET) throw DECLINED;
        this.batchMessages = this.messages();
        members.push({ field, start: keyStart, valueStart, end: this.pos, kind: RawKind.Array });
      } else {
        const kind = this.value(depth + 1);
        if (mode !== Members.Ip || field === FIELD.ip)
          members.push({ field, start: keyStart, valueStart, end: this.pos, kind });
      }
      pos = this.pos;
      while (text.charCodeAt(pos) === SPACE) pos++;
      const c = text.charCodeAt(pos++);
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw DECLINED;
    }
    this.pos = pos;
    this.endObject(base);
  }

  /** Forgets the keys of the object whose spans start at `base`. */
  private endObject(base: number): void {
    if (this.spanTop - base >= 2 * PAIRWISE_KEYS) this.keySets.delete(base);
    this.spanTop = base;
  }

  private pushSpan(start: number, length: number): void {
    if (this.spanTop + 2 > this.spans.length) {
      const grown = new Int32Array(this.spans.length * 2);
      grown.set(this.spans);
      this.spans = grown;
    }
    this.spans[this.spanTop++] = start;
    this.spans[this.spanTop++] = length;
  }

  /**
   * Refuses a key already in the object whose keys start at `base` of the span stack. Pairwise for a
   * small object; past {@link PAIRWISE_KEYS} keys, against a set of them (kept up to date as the
   * object grows), so an object of thousands of keys costs linear time, not quadratic.
   */
  private checkDuplicate(base: number, start: number, length: number): void {
    const { spans, text } = this;
    if (this.spanTop - base >= 2 * PAIRWISE_KEYS) {
      let known = this.keySets.get(base);
      if (known === undefined) {
        known = { keys: new Set(), through: base };
        this.keySets.set(base, known);
      }
      for (let i = known.through; i < this.spanTop; i += 2) {
        known.keys.add(text.slice(spans[i], (spans[i] as number) + (spans[i + 1] as number)));
      }
      known.through = this.spanTop;
      if (known.keys.has(text.slice(start, start + length))) throw DECLINED;
      return;
    }
    for (let i = base; i < this.spanTop; i += 2) {
      if (spans[i + 1] !== length) continue;
      const other = spans[i] as number;
      let j = 0;
      while (j < length && text.charCodeAt(other + j) === text.charCodeAt(start + j)) j++;
      if (j === length) throw DECLINED;
    }
  }

  /** `__proto__` anywhere, and `constructor` or `prototype` holding an object or array. */
  private checkKey(start: number, length: number, first: number): void {
    const text = this.text;
    const container = first === OPEN_BRACE || first === OPEN_BRACKET;
    if (length === 9) {
      if (named(text, start, '__proto__')) throw DECLINED;
      if (container && named(text, start, 'prototype')) throw DECLINED;
    } else if (container && named(text, start, 'constructor')) {
      throw DECLINED;
    }
  }

  /** Reads any value at the position; returns its kind. */
  private value(depth: number): RawKind {
    const text = this.text;
    const c = text.charCodeAt(this.pos);
    if (c === QUOTE) {
      this.string();
      return this.escaped ? RawKind.EscapedString : RawKind.String;
    }
    if (c === OPEN_BRACE) {
      this.pos = this.skipObject(this.pos, depth);
      return RawKind.Object;
    }
    if (c === OPEN_BRACKET) {
      this.pos = this.skipArray(this.pos, depth);
      return RawKind.Array;
    }
    if (c === MINUS || (c >= ZERO && c <= NINE)) {
      this.number();
      return RawKind.Number;
    }
    if (c === LETTER_T && text.startsWith('true', this.pos)) {
      this.pos += 4;
      return RawKind.True;
    }
    if (c === LETTER_F && text.startsWith('false', this.pos)) {
      this.pos += 5;
      return RawKind.False;
    }
    if (c === LETTER_N && text.startsWith('null', this.pos)) {
      this.pos += 4;
      return RawKind.Null;
    }
    throw DECLINED;
  }

  /**
   * The object at `pos` when its members need no recording (most of a message): the same checks as
   * {@link object}, written for speed. Returns the index just past it.
   */
  private skipObject(at: number, depth: number): number {
    if (depth >= this.limits.maxDepth) throw DECLINED;
    const text = this.text;
    const base = this.spanTop;
    let seen = 0;
    let pos = at + 1;
    while (text.charCodeAt(pos) === SPACE) pos++;
    if (text.charCodeAt(pos) === CLOSE_BRACE) return pos + 1;
    for (;;) {
      while (text.charCodeAt(pos) === SPACE) pos++;
      if (text.charCodeAt(pos) !== QUOTE) throw DECLINED;
      const keyStart = pos + 1;
      pos = text.indexOf('"', keyStart);
      // An escaped key is left to the general path, so a key's text is its name.
      if (pos === -1 || (this.nextBackslash !== -1 && this.nextBackslash < pos)) throw DECLINED;
      const keyLength = pos - keyStart;
      pos++;
      this.keys++;
      const bit = 1 << ((keyLength + text.charCodeAt(keyStart) + 3 * text.charCodeAt(pos - 2)) & 31);
      if ((seen & bit) !== 0) this.checkDuplicate(base, keyStart, keyLength);
      seen |= bit;
      this.pushSpan(keyStart, keyLength);
      while (text.charCodeAt(pos) === SPACE) pos++;
      if (text.charCodeAt(pos++) !== COLON) throw DECLINED;
      while (text.charCodeAt(pos) === SPACE) pos++;
      const c = text.charCodeAt(pos);
      if (keyLength === 9 || keyLength === 11) this.checkKey(keyStart, keyLength, c);
      pos = this.skipValue(pos, c, depth + 1);
      while (text.charCodeAt(pos) === SPACE) pos++;
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) throw DECLINED;
    }
    this.endObject(base);
    return pos;
  }

  private skipArray(at: number, depth: number): number {
    if (depth >= this.limits.maxDepth) throw DECLINED;
    const text = this.text;
    let pos = at + 1;
    while (text.charCodeAt(pos) === SPACE) pos++;
    if (text.charCodeAt(pos) === CLOSE_BRACKET) return pos + 1;
    for (;;) {
      while (text.charCodeAt(pos) === SPACE) pos++;
      pos = this.skipValue(pos, text.charCodeAt(pos), depth + 1);
      while (text.charCodeAt(pos) === SPACE) pos++;
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACKET) return pos;
      if (next !== COMMA) throw DECLINED;
    }
  }

  /** The value at `pos`, whose first character is `c`; returns the index just past it. */
  private skipValue(pos: number, c: number, depth: number): number {
    if (c === QUOTE) {
      const quote = this.text.indexOf('"', pos + 1);
      if (quote !== -1 && (this.nextBackslash === -1 || this.nextBackslash > quote)) return quote + 1;
      this.pos = pos;
      this.string();
      return this.pos;
    }
    if (c === OPEN_BRACE) return this.skipObject(pos, depth);
    if (c === OPEN_BRACKET) return this.skipArray(pos, depth);
    this.pos = pos;
    this.value(depth);
    return this.pos;
  }

  /**
   * Reads the string whose opening quote is at the position. Raw control characters were ruled out
   * for the whole text up front, so only escapes need reading: each must be one JSON allows.
   */
  private string(): void {
    const text = this.text;
    let from = this.pos + 1;
    this.escaped = false;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) throw DECLINED;
      let backslash = this.nextBackslash;
      if (backslash === -1 || backslash > quote) {
        this.pos = quote + 1;
        return;
      }
      this.escaped = true;
      // Read every escape before the quote; an escape that ends past it means the quote was escaped.
      let after = from;
      while (backslash !== -1 && backslash < quote) {
        after = backslash + escapeLength(text, backslash);
        backslash = text.indexOf('\\', after);
      }
      this.nextBackslash = backslash;
      if (after <= quote) {
        this.pos = quote + 1;
        return;
      }
      from = after;
    }
  }

  /** A JSON number of at most {@link MAX_NUMBER_DIGITS} digits and no exponent. */
  private number(): void {
    const text = this.text;
    let pos = this.pos;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const intStart = pos;
    while (isDigit(text.charCodeAt(pos))) pos++;
    let digits = pos - intStart;
    if (digits === 0 || (digits > 1 && text.charCodeAt(intStart) === ZERO)) throw DECLINED;
    if (text.charCodeAt(pos) === DOT) {
      const fracStart = ++pos;
      while (isDigit(text.charCodeAt(pos))) pos++;
      if (pos === fracStart) throw DECLINED;
      digits += pos - fracStart;
    }
    // An exponent (or anything else glued on) is left to the general path.
    if (digits > MAX_NUMBER_DIGITS || isWordChar(text.charCodeAt(pos))) throw DECLINED;
    this.pos = pos;
  }

  /** Skips spaces (tabs and line breaks were ruled out up front). */
  private space(): void {
    const text = this.text;
    let pos = this.pos;
    while (text.charCodeAt(pos) === SPACE) pos++;
    this.pos = pos;
  }
}

/**
 * The {@link FIELDS} number of the key of `length` characters at `start`, without making a string:
 * its length and first character (second or third where two names share them) pick the one name it
 * can be, which is then compared.
 */
function fieldOf(text: string, start: number, length: number): number {
  const first = text.charCodeAt(start);
  let field: number;
  switch (length) {
    case 2:
      field = FIELD.ip;
      break;
    case 4:
      field = first === 0x74 ? FIELD.type : FIELD.name;
      break;
    case 5:
      field = first === 0x65 ? FIELD.event : FIELD.batch;
      break;
    case 6:
      field =
        first === 0x75
          ? FIELD.userId
          : first === 0x74
            ? FIELD.traits
            : text.charCodeAt(start + 1) === 0x65
              ? FIELD.sentAt
              : FIELD.source;
      break;
    case 7:
      field = first === 0x63 ? FIELD.context : FIELD.groupId;
      break;
    case 8:
      field = first === 0x77 ? FIELD.writeKey : FIELD.category;
      break;
    case 9:
      field = first === 0x6d ? FIELD.messageId : FIELD.timestamp;
      break;
    case 10:
      field =
        first === 0x72
          ? FIELD.receivedAt
          : text.charCodeAt(start + 2) === 0x6f
            ? FIELD.properties
            : FIELD.previousId;
      break;
    case 11:
      field = FIELD.anonymousId;
      break;
    case 12:
      field = FIELD.integrations;
      break;
    case 17:
      field = FIELD.originalTimestamp;
      break;
    default:
      return OTHER_FIELD;
  }
  return named(text, start, FIELDS[field] as string) ? field : OTHER_FIELD;
}

/** Whether `name` is written at `start` (the caller knows the lengths match). */
function named(text: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (text.charCodeAt(start + i) !== name.charCodeAt(i)) return false;
  return true;
}

const isDigit = (c: number) => c >= ZERO && c <= NINE;

/** Letters, digits, `.`, `+`, `-`: what may not directly follow a number the scanner reads. */
const isWordChar = (c: number) =>
  isDigit(c) ||
  c === DOT ||
  c === MINUS ||
  c === 0x2b ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a);

/** Length of the escape at `at` (a backslash), or DECLINED when JSON does not allow it. */
function escapeLength(text: string, at: number): number {
  const c = text.charCodeAt(at + 1);
  if (c === LETTER_U) {
    for (let i = at + 2; i < at + 6; i++) if (!isHex(text.charCodeAt(i))) throw DECLINED;
    return 6;
  }
  // " \ / b f n r t
  if (
    c === QUOTE ||
    c === BACKSLASH ||
    c === 0x2f ||
    c === 0x62 ||
    c === LETTER_F ||
    c === LETTER_N ||
    c === 0x72 ||
    c === LETTER_T
  ) {
    return 2;
  }
  throw DECLINED;
}

const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
