import { type RawBody, type RawLimits, scanRawBody } from './raw-json';
import { NOT_READ_HERE, scanAsciiBody } from './raw-json-wasm';

/**
 * Reads a request's text for the collector's fast path ({@link scanRawBody}): in WebAssembly when
 * the text is all ASCII, as nearly every SDK's is, else with the TypeScript scanner. Both give the
 * same answer; `undefined` when the text is not one the fast path reads.
 */
export function scanBody(text: string, single: boolean, limits: RawLimits): RawBody | undefined {
  const raw = scanAsciiBody(text, single, limits);
  return raw === NOT_READ_HERE ? scanRawBody(text, single, limits) : raw;
}
