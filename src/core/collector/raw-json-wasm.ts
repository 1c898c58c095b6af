import { FIELD, type RawBody, RawKind, type RawLimits, type RawMember, type RawMessage } from './raw-json';
import { WASM_BASE64 } from './raw-json-wasm.generated';

// The scanner of raw-json.ts (`scanRawBody`) compiled to WebAssembly (source: wasm/raw-json.ts), for
// text that is all ASCII: the text is copied into the module's memory as bytes, which are its
// characters, and read there — strings 16 bytes at a time — in about a fifth of the time the
// TypeScript scanner takes. Its answers are that scanner's, member for member (the tests hold them
// to it). `scanBody` (scan-body.ts) picks between the two.

/** What the module exports (wasm/raw-json.ts says what each does). */
interface ScannerExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  reserve(length: number): number;
  scan(length: number, single: number, maxDepth: number, maxKeys: number): number;
  messagesAt(): number;
  messagesEnd(): number;
  bodyMembersAt(): number;
  bodyMembersEnd(): number;
}

/** What {@link scanAsciiBody} answers for text it leaves to the TypeScript scanner. */
export const NOT_READ_HERE = Symbol('left to the TypeScript scanner');

/** Longest text read here; longer (never within the collector's limits) is left to the TypeScript scanner. */
const MAX_TEXT = 4 * 1024 * 1024;
/**
 * Deepest nesting read here: the module recurses as the TypeScript scanner does, on the same stack;
 * limits past this are left to that scanner.
 */
const MAX_DEPTH = 1000;
/** Int32s a member takes in the output (see the source). */
const MEMBER_INTS = 9;

/**
 * The WebAssembly API this uses. TypeScript declares it with the DOM's types, which this project's
 * libraries leave out: Node's runtime has it all the same.
 */
const Wasm = (
  globalThis as unknown as {
    readonly WebAssembly: {
      readonly Module: new (bytes: Uint8Array) => object;
      readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
      readonly RuntimeError: new () => Error;
    };
  }
).WebAssembly;

/** The module's instance once made; `null` when it cannot be (see {@link instance}). */
let scanner: ScannerExports | null | undefined;
const encoder = new TextEncoder();

/**
 * The module's instance, made on first use; `null` where WebAssembly (or its SIMD, which V8 runs
 * only on processors that have it) is not available: the TypeScript scanner then reads every text.
 */
function instance(): ScannerExports | null {
  if (scanner !== undefined) return scanner;
  try {
    const module = new Wasm.Module(Buffer.from(WASM_BASE64, 'base64'));
    scanner = new Wasm.Instance(module, {
      env: {
        // Called only by an assertion, and the module is compiled without them.
        abort: () => {
          throw new Error('raw-json scanner aborted');
        },
      },
    }).exports as unknown as ScannerExports;
  } catch {
    scanner = null;
  }
  return scanner;
}

/**
 * Reads a batch body or, with `single`, one message, as `scanRawBody` does — `undefined` for
 * the texts it does not read — or answers {@link NOT_READ_HERE} for text with a character past ASCII
 * or past this module's bounds, and for every text where the module cannot run; the caller gives
 * those to the TypeScript scanner.
 */
export function scanAsciiBody(
  text: string,
  single: boolean,
  limits: RawLimits,
): RawBody | undefined | typeof NOT_READ_HERE {
  if (text.length > MAX_TEXT || limits.maxDepth > MAX_DEPTH) return NOT_READ_HERE;
  const wasm = instance();
  if (wasm === null) return NOT_READ_HERE;
  const at = wasm.reserve(text.length);
  // Past ASCII a character takes more than one byte, and the copy stops short of the text's end.
  const { read, written } = encoder.encodeInto(text, new Uint8Array(wasm.memory.buffer, at, text.length));
  if (read !== text.length || written !== text.length) return NOT_READ_HERE;
  try {
    wasm.scan(text.length, single ? 1 : 0, limits.maxDepth, limits.maxKeys);
  } catch (error) {
    // A trap is the module declining the text.
    if (error instanceof Wasm.RuntimeError) return undefined;
    throw error;
  }
  const out = new Int32Array(wasm.memory.buffer);
  const messages: RawMessage[] = [];
  const messagesEnd = wasm.messagesEnd() >> 2;
  for (let i = wasm.messagesAt() >> 2; i < messagesEnd; ) {
    const start = out[i] as number;
    const end = out[i + 1] as number;
    const count = out[i + 2] as number;
    i += 3;
    const members: RawMember[] = new Array(count);
    for (let m = 0; m < count; m++, i += MEMBER_INTS) members[m] = memberAt(out, i, true);
    messages.push({ start, end, members });
  }
  if (single) return { members: (messages[0] as RawMessage).members, messages };
  const members: RawMember[] = [];
  const bodyEnd = wasm.bodyMembersEnd() >> 2;
  for (let i = wasm.bodyMembersAt() >> 2; i < bodyEnd; i += MEMBER_INTS)
    members.push(memberAt(out, i, false));
  return { members, messages };
}

/** The member at `out[i]`; `ofMessage` when it is a message's (whose `context` has its `ip` recorded). */
function memberAt(out: Int32Array, i: number, ofMessage: boolean): RawMember {
  const field = out[i] as number;
  const start = out[i + 1] as number;
  const valueStart = out[i + 2] as number;
  const end = out[i + 3] as number;
  const kind = out[i + 4] as RawKind;
  if (!ofMessage || field !== FIELD.context || kind !== RawKind.Object)
    return { field, start, valueStart, end, kind };
  // A message's context object: its `ip` member, if it has one, is all that is recorded of it.
  const ipStart = out[i + 5] as number;
  const members: RawMember[] =
    ipStart < 0
      ? []
      : [
          {
            field: FIELD.ip,
            start: ipStart,
            valueStart: out[i + 6] as number,
            end: out[i + 7] as number,
            kind: out[i + 8] as RawKind,
          },
        ];
  return { field, start, valueStart, end, kind, members };
}
