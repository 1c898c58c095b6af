// AssemblyScript: the collector's scanner of request text (src/core/collector/raw-json.ts), compiled to
// WebAssembly for text that is all ASCII. It reads exactly as the TypeScript scanner does — the same
// grammar, limits and refusals, the same members recorded — and the tests hold the two to the same
// answers. Built by `npm run build:wasm` into src/core/collector/raw-json-wasm.generated.ts.
//
// What it gains: a string's bytes are searched 16 at a time for the quote, backslash or control
// character that ends the run (SIMD), and no character is read through a JavaScript string.
//
// How it answers: `scan` returns the number of messages and leaves their members in memory; a text it
// does not read (invalid JSON, an escaped key, a duplicate key, a limit passed...) traps with
// `unreachable`, which the caller takes as "not a text the fast path reads".
//
// Memory, from `__heap_base` (nothing here allocates): the text, 16 zero bytes after it so that reads
// past its end see a character nothing accepts, then the output of messages, the output of the batch
// body's own members, the key spans of the objects being read, and the hash table of a large object.

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const SPACE: u32 = 0x20;
const COMMA: u32 = 0x2c;
const COLON: u32 = 0x3a;
const MINUS: u32 = 0x2d;
const DOT: u32 = 0x2e;
const ZERO: u32 = 0x30;
const OPEN_BRACE: u32 = 0x7b;
const CLOSE_BRACE: u32 = 0x7d;
const OPEN_BRACKET: u32 = 0x5b;
const CLOSE_BRACKET: u32 = 0x5d;

// RawKind in raw-json.ts.
const KIND_STRING: i32 = 0;
const KIND_ESCAPED_STRING: i32 = 1;
const KIND_NUMBER: i32 = 2;
const KIND_TRUE: i32 = 3;
const KIND_FALSE: i32 = 4;
const KIND_NULL: i32 = 5;
const KIND_OBJECT: i32 = 6;
const KIND_ARRAY: i32 = 7;

// How `object` treats an object's members (Members in raw-json.ts).
const MODE_IP: i32 = 1;
const MODE_MESSAGE: i32 = 2;
const MODE_BODY: i32 = 3;

// FIELDS in raw-json.ts, by number; OTHER_FIELD for any other name.
const OTHER_FIELD: i32 = -1;
const F_TYPE: i32 = 0;
const F_MESSAGE_ID: i32 = 1;
const F_CONTEXT: i32 = 2;
const F_INTEGRATIONS: i32 = 3;
const F_SENT_AT: i32 = 4;
const F_ORIGINAL_TIMESTAMP: i32 = 5;
const F_TIMESTAMP: i32 = 6;
const F_RECEIVED_AT: i32 = 7;
const F_SOURCE: i32 = 8;
const F_USER_ID: i32 = 9;
const F_ANONYMOUS_ID: i32 = 10;
const F_PREVIOUS_ID: i32 = 11;
const F_GROUP_ID: i32 = 12;
const F_WRITE_KEY: i32 = 13;
const F_EVENT: i32 = 14;
const F_NAME: i32 = 15;
const F_CATEGORY: i32 = 16;
const F_PROPERTIES: i32 = 17;
const F_TRAITS: i32 = 18;
const F_IP: i32 = 19;
const F_BATCH: i32 = 20;
/** The names of the fields, then the three keys `checkKey` refuses. */
const NAMES: StaticArray<string> = [
  'type',
  'messageId',
  'context',
  'integrations',
  'sentAt',
  'originalTimestamp',
  'timestamp',
  'receivedAt',
  'source',
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
  'ip',
  'batch',
  '__proto__',
  'prototype',
  'constructor',
];
const PROTO: i32 = 21;
const PROTOTYPE: i32 = 22;
const CONSTRUCTOR: i32 = 23;

/** Objects with more keys than this check their keys for duplicates in a hash table, not pairwise. */
const PAIRWISE_KEYS: i32 = 16;
/** Numbers longer than this many digits are left to `JSON.parse`, so their text is their value. */
const MAX_NUMBER_DIGITS: i32 = 15;

/**
 * A recorded member in the output, as nine i32: field, start, valueStart, end, kind, and for a
 * message's `context` object its `ip` member's start, valueStart, end and kind (start -1: none).
 */
const MEMBER_BYTES: usize = 36;
/** A message in the output: start, end, member count, then its members. */
const MESSAGE_HEAD_BYTES: usize = 12;
/**
 * Output bytes per byte of text, at most: a member (36 bytes) takes at least 5 bytes of text
 * (`"":0,`), a message head (12) at least 3 (`{},`).
 */
const OUTPUT_PER_BYTE: usize = 8;
/** Key span bytes per byte of text, at most: a span (8 bytes) for a key of at least 5. */
const SPANS_PER_BYTE: usize = 2;
/** Hash table bytes per byte of text, at most: fewer than 4 slots of 4 bytes a key of at least 5. */
const TABLE_PER_BYTE: usize = 4;

let capacity: usize = 0;
let inBase: usize = 0;
let inEnd: usize = 0;
let outBase: usize = 0;
let out: usize = 0;
let bodyBase: usize = 0;
let body: usize = 0;
let spanBase: usize = 0;
let spanTop: usize = 0;
let tableBase: usize = 0;

let pos: usize = 0;
/** Keys counted in the current message. */
let keys: i32 = 0;
let maxDepth: i32 = 0;
let maxKeys: i32 = 0;
/** Whether the string just read had an escape. */
let escaped: bool = false;
let hasBatch: bool = false;
let messageCount: i32 = 0;
/** The `ip` member of the `context` being read, if any. */
let ipStart: i32 = -1;
let ipValueStart: i32 = -1;
let ipEnd: i32 = -1;
let ipKind: i32 = -1;

/** Makes room for a text of `length` bytes; returns where to write it. */
export function reserve(length: i32): usize {
  const needed = <usize>max(length, 64 * 1024);
  if (needed > capacity) {
    inBase = (__heap_base + 15) & ~15;
    const end = inBase + needed * (1 + OUTPUT_PER_BYTE * 2 + SPANS_PER_BYTE + TABLE_PER_BYTE) + 1024;
    const have = (<usize>memory.size()) << 16;
    if (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) unreachable();
    capacity = needed;
  }
  return inBase;
}

/**
 * Reads the `length` bytes of text written at {@link reserve}'s address: a batch body or, with
 * `single`, one message. Returns the number of messages; traps when the text is not one it reads.
 */
export function scan(length: i32, single: bool, depthLimit: i32, keyLimit: i32): i32 {
  if (<usize>length > capacity) unreachable();
  inEnd = inBase + <usize>length;
  memory.fill(inEnd, 0, 16);
  outBase = (inBase + capacity + 16 + 15) & ~15;
  bodyBase = outBase + capacity * OUTPUT_PER_BYTE + 64;
  spanBase = bodyBase + capacity * OUTPUT_PER_BYTE + 64;
  tableBase = spanBase + capacity * SPANS_PER_BYTE + 64;
  out = outBase;
  body = bodyBase;
  spanTop = spanBase;
  pos = inBase;
  keys = 0;
  maxDepth = depthLimit;
  maxKeys = keyLimit;
  hasBatch = false;
  messageCount = 0;
  space();
  if (single) {
    message();
  } else {
    if (at(pos) != OPEN_BRACE) unreachable();
    // The body's own members are not a message: bounds are per message.
    object(0, MODE_BODY);
    if (!hasBatch) unreachable();
  }
  space();
  if (pos != inEnd) unreachable();
  return messageCount;
}

/** Where the messages are (each a head and its members), and where they end. */
export function messagesAt(): usize {
  return outBase;
}
export function messagesEnd(): usize {
  return out;
}
/** Where a batch body's own members are, and where they end. */
export function bodyMembersAt(): usize {
  return bodyBase;
}
export function bodyMembersEnd(): usize {
  return body;
}

@inline
function at(p: usize): u32 {
  return <u32>load<u8>(p);
}

@inline
function space(): void {
  let p = pos;
  while (at(p) == SPACE) p++;
  pos = p;
}

function messages(): void {
  pos++;
  space();
  if (at(pos) == CLOSE_BRACKET) {
    pos++;
    return;
  }
  for (;;) {
    space();
    message();
    space();
    const c = at(pos++);
    if (c == CLOSE_BRACKET) return;
    if (c != COMMA) unreachable();
  }
}

/** The message object at the position. */
function message(): void {
  const start = pos;
  if (at(start) != OPEN_BRACE) unreachable();
  keys = 0;
  const head = out;
  out += MESSAGE_HEAD_BYTES;
  object(0, MODE_MESSAGE);
  if (keys > maxKeys) unreachable();
  store<i32>(head, <i32>(start - inBase));
  store<i32>(head, <i32>(pos - inBase), 4);
  store<i32>(head, <i32>((out - head - MESSAGE_HEAD_BYTES) / MEMBER_BYTES), 8);
  messageCount++;
}

@inline
function record(at: usize, field: i32, start: usize, valueStart: usize, end: usize, kind: i32): void {
  store<i32>(at, field);
  store<i32>(at, <i32>(start - inBase), 4);
  store<i32>(at, <i32>(valueStart - inBase), 8);
  store<i32>(at, <i32>(end - inBase), 12);
  store<i32>(at, kind, 16);
  store<i32>(at, -1, 20);
}

/**
 * Reads the object at the position (the message is depth 0), recording its members as `mode` says:
 * a message's in the output after its head, a batch body's in the body's list, a `context`'s `ip`
 * in the globals `ip*`. Objects nothing is recorded of are read by {@link skipObject}.
 */
function object(depth: i32, mode: i32): void {
  if (depth >= maxDepth) unreachable();
  const base = spanTop;
  // One bit per key hash: a key whose bit is already set is compared with the others in earnest.
  let seen: u32 = 0;
  let large = false;
  let p = pos + 1;
  while (at(p) == SPACE) p++;
  if (at(p) == CLOSE_BRACE) {
    pos = p + 1;
    return;
  }
  for (;;) {
    while (at(p) == SPACE) p++;
    const keyStart = p;
    if (at(keyStart) != QUOTE) unreachable();
    p = stringEnd(p);
    if (escaped) unreachable();
    const keyLength = <i32>(p - keyStart - 2);
    keys++;
    const bit: u32 = 1 << ((<u32>keyLength + at(keyStart + 1) + 3 * at(p - 2)) & 31);
    if ((seen & bit) != 0) large = duplicateCheck(base, keyStart + 1, keyLength) || large;
    seen |= bit;
    pushSpan(keyStart + 1, keyLength);
    while (at(p) == SPACE) p++;
    if (at(p++) != COLON) unreachable();
    while (at(p) == SPACE) p++;
    const valueStart = p;
    const first = at(valueStart);
    if (keyLength == 9 || keyLength == 11) checkKey(keyStart + 1, keyLength, first);
    pos = p;
    const field = fieldOf(keyStart + 1, keyLength);
    if (mode == MODE_MESSAGE && first == OPEN_BRACE && field == F_CONTEXT) {
      ipStart = -1;
      ipValueStart = -1;
      ipEnd = -1;
      ipKind = -1;
      object(depth + 1, MODE_IP);
      const member = out;
      out += MEMBER_BYTES;
      record(member, field, keyStart, valueStart, pos, KIND_OBJECT);
      store<i32>(member, ipStart, 20);
      store<i32>(member, ipValueStart, 24);
      store<i32>(member, ipEnd, 28);
      store<i32>(member, ipKind, 32);
    } else if (mode == MODE_BODY && field == F_BATCH) {
      if (first != OPEN_BRACKET) unreachable();
      messages();
      hasBatch = true;
      record(body, field, keyStart, valueStart, pos, KIND_ARRAY);
      body += MEMBER_BYTES;
    } else {
      const kind = value(depth + 1);
      if (mode == MODE_MESSAGE) {
        record(out, field, keyStart, valueStart, pos, kind);
        out += MEMBER_BYTES;
      } else if (mode == MODE_BODY) {
        record(body, field, keyStart, valueStart, pos, kind);
        body += MEMBER_BYTES;
      } else if (field == F_IP) {
        ipStart = <i32>(keyStart - inBase);
        ipValueStart = <i32>(valueStart - inBase);
        ipEnd = <i32>(pos - inBase);
        ipKind = kind;
      }
    }
    p = pos;
    while (at(p) == SPACE) p++;
    const c = at(p++);
    if (c == CLOSE_BRACE) break;
    if (c != COMMA) unreachable();
  }
  pos = p;
  if (large) checkTable(base);
  spanTop = base;
}

@inline
function pushSpan(start: usize, length: i32): void {
  store<i32>(spanTop, <i32>start);
  store<i32>(spanTop, length, 4);
  spanTop += 8;
}

/**
 * A key whose hash bit was already set in its object (keys from `base`): compared with the others
 * now in a small object (trapping on a duplicate); in a large one, returns true to have all its keys
 * checked in a hash table when it ends, so an object of thousands of keys costs linear time.
 */
function duplicateCheck(base: usize, start: usize, length: i32): bool {
  if (<i32>((spanTop - base) >> 3) >= PAIRWISE_KEYS) return true;
  for (let s = base; s < spanTop; s += 8) {
    if (load<i32>(s, 4) == length && memory.compare(<usize>load<i32>(s), start, <usize>length) == 0) unreachable();
  }
  return false;
}

/** Traps when two of the keys from `base` are the same. */
function checkTable(base: usize): void {
  const n = <i32>((spanTop - base) >> 3);
  let size = 64;
  while (size < n * 2) size <<= 1;
  const mask = <u32>(size - 1);
  memory.fill(tableBase, 0, (<usize>size) << 2);
  for (let s = base; s < spanTop; s += 8) {
    const start = <usize>load<i32>(s);
    const length = load<i32>(s, 4);
    // FNV-1a
    let h: u32 = 2166136261;
    for (let i = 0; i < length; i++) h = (h ^ at(start + <usize>i)) * 16777619;
    let slot = h & mask;
    for (;;) {
      const entry = tableBase + ((<usize>slot) << 2);
      const held = load<i32>(entry);
      if (held == 0) {
        store<i32>(entry, <i32>(s - base) + 1);
        break;
      }
      const other = base + <usize>(held - 1);
      if (load<i32>(other, 4) == length && memory.compare(<usize>load<i32>(other), start, <usize>length) == 0)
        unreachable();
      slot = (slot + 1) & mask;
    }
  }
}

/** Whether the key at `start` is `NAMES[index]` (the caller knows the lengths match). */
function named(start: usize, index: i32): bool {
  const name = unchecked(NAMES[index]);
  for (let i = 0; i < name.length; i++) if (at(start + <usize>i) != <u32>name.charCodeAt(i)) return false;
  return true;
}

/** `__proto__` anywhere, and `constructor` or `prototype` holding an object or array. */
function checkKey(start: usize, length: i32, first: u32): void {
  const container = first == OPEN_BRACE || first == OPEN_BRACKET;
  if (length == 9) {
    if (named(start, PROTO)) unreachable();
    if (container && named(start, PROTOTYPE)) unreachable();
  } else if (container && named(start, CONSTRUCTOR)) {
    unreachable();
  }
}

/** Reads any value at the position; returns its kind. */
function value(depth: i32): i32 {
  const c = at(pos);
  if (c == QUOTE) {
    pos = stringEnd(pos);
    return escaped ? KIND_ESCAPED_STRING : KIND_STRING;
  }
  if (c == OPEN_BRACE) {
    pos = skipObject(pos, depth);
    return KIND_OBJECT;
  }
  if (c == OPEN_BRACKET) {
    pos = skipArray(pos, depth);
    return KIND_ARRAY;
  }
  if (c == MINUS || isDigit(c)) {
    pos = numberEnd(pos);
    return KIND_NUMBER;
  }
  // `true`, `alse` and `null` as little-endian words.
  if (c == 0x74 && load<u32>(pos) == 0x65757274) {
    pos += 4;
    return KIND_TRUE;
  }
  if (c == 0x66 && load<u32>(pos + 1) == 0x65736c61) {
    pos += 5;
    return KIND_FALSE;
  }
  if (c == 0x6e && load<u32>(pos) == 0x6c6c756e) {
    pos += 4;
    return KIND_NULL;
  }
  unreachable();
  return 0;
}

/** The object at `start` when its members need no recording; returns the index just past it. */
function skipObject(start: usize, depth: i32): usize {
  if (depth >= maxDepth) unreachable();
  const base = spanTop;
  let seen: u32 = 0;
  let large = false;
  let p = start + 1;
  while (at(p) == SPACE) p++;
  if (at(p) == CLOSE_BRACE) return p + 1;
  for (;;) {
    while (at(p) == SPACE) p++;
    if (at(p) != QUOTE) unreachable();
    const keyStart = p + 1;
    p = stringEnd(p);
    // An escaped key is left to the general path, so a key's text is its name.
    if (escaped) unreachable();
    const keyLength = <i32>(p - keyStart - 1);
    keys++;
    const bit: u32 = 1 << ((<u32>keyLength + at(keyStart) + 3 * at(p - 2)) & 31);
    if ((seen & bit) != 0) large = duplicateCheck(base, keyStart, keyLength) || large;
    seen |= bit;
    pushSpan(keyStart, keyLength);
    while (at(p) == SPACE) p++;
    if (at(p++) != COLON) unreachable();
    while (at(p) == SPACE) p++;
    const c = at(p);
    if (keyLength == 9 || keyLength == 11) checkKey(keyStart, keyLength, c);
    p = skipValue(p, c, depth + 1);
    while (at(p) == SPACE) p++;
    const next = at(p++);
    if (next == CLOSE_BRACE) break;
    if (next != COMMA) unreachable();
  }
  if (large) checkTable(base);
  spanTop = base;
  return p;
}

function skipArray(start: usize, depth: i32): usize {
  if (depth >= maxDepth) unreachable();
  let p = start + 1;
  while (at(p) == SPACE) p++;
  if (at(p) == CLOSE_BRACKET) return p + 1;
  for (;;) {
    while (at(p) == SPACE) p++;
    p = skipValue(p, at(p), depth + 1);
    while (at(p) == SPACE) p++;
    const next = at(p++);
    if (next == CLOSE_BRACKET) break;
    if (next != COMMA) unreachable();
  }
  return p;
}

/** The value at `p`, whose first character is `c`; returns the index just past it. */
function skipValue(p: usize, c: u32, depth: i32): usize {
  if (c == QUOTE) return stringEnd(p);
  if (c == OPEN_BRACE) return skipObject(p, depth);
  if (c == OPEN_BRACKET) return skipArray(p, depth);
  pos = p;
  value(depth);
  return pos;
}

/**
 * The index past the closing quote of the string whose opening quote is at `p`; sets `escaped`.
 * Traps on a raw control character (the text's zero bytes past its end among them) or an escape JSON
 * does not allow.
 */
function stringEnd(p: usize): usize {
  escaped = false;
  p++;
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const space = i8x16.splat(<i8>SPACE);
  for (;;) {
    const chunk = v128.load(p);
    const stops = v128.or(
      v128.or(i8x16.eq(chunk, quote), i8x16.eq(chunk, backslash)),
      i8x16.lt_u(chunk, space),
    );
    const mask = i8x16.bitmask(stops);
    if (mask == 0) {
      p += 16;
      continue;
    }
    p += <usize>ctz<u32>(mask);
    const c = at(p);
    if (c == QUOTE) return p + 1;
    if (c != BACKSLASH) unreachable();
    escaped = true;
    p += escapeLength(p);
  }
  return p;
}

/** Length of the escape at `p` (a backslash); traps when JSON does not allow it. */
function escapeLength(p: usize): usize {
  const c = at(p + 1);
  if (c == 0x75) {
    for (let i: usize = 2; i < 6; i++) if (!isHex(at(p + i))) unreachable();
    return 6;
  }
  // " \ / b f n r t
  if (c == QUOTE || c == BACKSLASH || c == 0x2f || c == 0x62 || c == 0x66 || c == 0x6e || c == 0x72 || c == 0x74)
    return 2;
  unreachable();
  return 0;
}

@inline
function isDigit(c: u32): bool {
  return c - ZERO <= 9;
}

@inline
function isHex(c: u32): bool {
  return isDigit(c) || (c | 0x20) - 0x61 <= 5;
}

/** Letters, digits, `.`, `+`, `-`: what may not directly follow a number the scanner reads. */
@inline
function isWordChar(c: u32): bool {
  return isDigit(c) || c == DOT || c == MINUS || c == 0x2b || (c | 0x20) - 0x61 <= 25;
}

/** The index past the JSON number at `p`: at most {@link MAX_NUMBER_DIGITS} digits, no exponent. */
function numberEnd(p: usize): usize {
  if (at(p) == MINUS) p++;
  const intStart = p;
  while (isDigit(at(p))) p++;
  let digits = <i32>(p - intStart);
  if (digits == 0 || (digits > 1 && at(intStart) == ZERO)) unreachable();
  if (at(p) == DOT) {
    const fracStart = ++p;
    while (isDigit(at(p))) p++;
    if (p == fracStart) unreachable();
    digits += <i32>(p - fracStart);
  }
  // An exponent (or anything else glued on) is left to the general path.
  if (digits > MAX_NUMBER_DIGITS || isWordChar(at(p))) unreachable();
  return p;
}

/**
 * The field number of the key of `length` bytes at `start`: its length and first byte (second or
 * third where two names share them) pick the one name it can be, which is then compared.
 */
function fieldOf(start: usize, length: i32): i32 {
  const first = at(start);
  let field: i32;
  switch (length) {
    case 2:
      field = F_IP;
      break;
    case 4:
      field = first == 0x74 ? F_TYPE : F_NAME;
      break;
    case 5:
      field = first == 0x65 ? F_EVENT : F_BATCH;
      break;
    case 6:
      field = first == 0x75 ? F_USER_ID : first == 0x74 ? F_TRAITS : at(start + 1) == 0x65 ? F_SENT_AT : F_SOURCE;
      break;
    case 7:
      field = first == 0x63 ? F_CONTEXT : F_GROUP_ID;
      break;
    case 8:
      field = first == 0x77 ? F_WRITE_KEY : F_CATEGORY;
      break;
    case 9:
      field = first == 0x6d ? F_MESSAGE_ID : F_TIMESTAMP;
      break;
    case 10:
      field = first == 0x72 ? F_RECEIVED_AT : at(start + 2) == 0x6f ? F_PROPERTIES : F_PREVIOUS_ID;
      break;
    case 11:
      field = F_ANONYMOUS_ID;
      break;
    case 12:
      field = F_INTEGRATIONS;
      break;
    case 17:
      field = F_ORIGINAL_TIMESTAMP;
      break;
    default:
      return OTHER_FIELD;
  }
  return named(start, field) ? field : OTHER_FIELD;
}
