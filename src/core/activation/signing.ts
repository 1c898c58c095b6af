import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures. Every webhook request carries
 *
 *     Mosaic-Signature: t=1732291512,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
 *
 * where `t` is the time of signing (Unix seconds) and `v1` the HMAC-SHA256, lowercase hex, keyed by the
 * destination's signing secret, over `${t}.${body}` — the exact bytes of the request body. During a
 * secret rotation a request carries one `v1` per secret.
 *
 * Receivers (see {@link verifySignature}):
 * 1. compute the HMAC over the *raw* body as received (before any JSON parsing) and compare it in
 *    constant time with each `v1`;
 * 2. refuse a `t` further than the tolerance (default 5 minutes) from their clock, either way: a
 *    captured request cannot be replayed later, since changing `t` breaks the signature;
 * 3. within the tolerance, dedupe on the `Idempotency-Key` header (stable per export, destination and
 *    batch): Mosaic's own retries and replays of the same export reuse the key.
 */

export const SIGNATURE_HEADER = 'Mosaic-Signature';
/** The scheme's version tag in the header. */
export const SIGNATURE_SCHEME = 'v1';
/** How far a signature's time may be from the receiver's clock by default. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Bodies are signed as bytes; text is UTF-8. */
export type SignedBody = string | Uint8Array;

/** The `v1` signature (lowercase hex) of a body at a time (Unix seconds). */
export function computeSignature(body: SignedBody, secret: string, timestampSeconds: number): string {
  assertSecret(secret);
  assertTimestamp(timestampSeconds);
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestampSeconds}.`, 'utf8');
  if (typeof body === 'string') hmac.update(body, 'utf8');
  else hmac.update(body);
  return hmac.digest('hex');
}

/**
 * The `Mosaic-Signature` header value for a body, signed at `timestampSeconds` with each secret
 * (several during a rotation: the new one first).
 */
export function signatureHeader(
  body: SignedBody,
  secrets: string | readonly string[],
  timestampSeconds: number,
): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new TypeError('at least one signing secret');
  return [
    `t=${timestampSeconds}`,
    ...list.map((s) => `${SIGNATURE_SCHEME}=${computeSignature(body, s, timestampSeconds)}`),
  ].join(',');
}

/** A parsed `Mosaic-Signature` header. */
export interface ParsedSignature {
  readonly timestampSeconds: number;
  /** The `v1` signatures (other schemes are ignored, for forward compatibility). */
  readonly signatures: readonly string[];
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Parses a header value; `undefined` when it has no valid `t` or no well-formed `v1`. */
export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  if (header.length > 4096) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === SIGNATURE_SCHEME && HEX_SHA256.test(value)) {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestampSeconds: timestamp, signatures };
}

export type VerifyResult =
  | { readonly ok: true; readonly timestampSeconds: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'timestamp_out_of_tolerance' | 'mismatch' };

/**
 * Verifies a signed request for a receiver: the header is well formed, its time is within
 * `toleranceSeconds` of `now` (replay protection) and one of its `v1` signatures matches one of the
 * secrets (compared in constant time). `now` is a `Date` or ms since the epoch.
 */
export function verifySignature(
  body: SignedBody,
  header: string | undefined,
  secrets: string | readonly string[],
  now: Date | number,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): VerifyResult {
  if (header === undefined) return { ok: false, reason: 'malformed' };
  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) return { ok: false, reason: 'malformed' };
  const nowSeconds = Math.floor((typeof now === 'number' ? now : now.getTime()) / 1000);
  if (!(toleranceSeconds >= 0) || Math.abs(nowSeconds - parsed.timestampSeconds) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  let matched = false;
  for (const secret of list) {
    const expected = Buffer.from(computeSignature(body, secret, parsed.timestampSeconds), 'hex');
    for (const signature of parsed.signatures) {
      // Every pair is compared (no early exit), each in constant time; lengths are equal (32 bytes).
      if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
    }
  }
  return matched
    ? { ok: true, timestampSeconds: parsed.timestampSeconds }
    : { ok: false, reason: 'mismatch' };
}

function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new TypeError('a signing secret must not be empty');
}

function assertTimestamp(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new TypeError('a signature timestamp is whole Unix seconds');
  }
}
