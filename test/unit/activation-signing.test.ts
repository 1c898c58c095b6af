import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  parseSignatureHeader,
  SIGNATURE_HEADER,
  signatureHeader,
  verifySignature,
} from '../../src/core/activation/signing';

const secret = 'whsec_test_4f1c2b';
const body = '{"exportId":"x01","members":[{"profileId":"p-1"}]}';
const t = 1_795_000_000;
const nowMs = t * 1000;
const hmac = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('hex');

describe('signing webhook requests', () => {
  it('signs HMAC-SHA256 over "timestamp.body" as t=…,v1=… in Mosaic-Signature', () => {
    expect(SIGNATURE_HEADER).toBe('Mosaic-Signature');
    expect(computeSignature(body, secret, t)).toBe(hmac(secret, `${t}.${body}`));
    expect(signatureHeader(body, secret, t)).toBe(`t=${t},v1=${hmac(secret, `${t}.${body}`)}`);
  });

  it('signs the bytes: a Uint8Array body signs like its UTF-8 text', () => {
    const text = '{"name":"Zoë 👋"}';
    expect(computeSignature(new TextEncoder().encode(text), secret, t)).toBe(
      computeSignature(text, secret, t),
    );
  });

  it('during a rotation carries one v1 per secret, and either verifies', () => {
    const header = signatureHeader(body, ['new-secret', 'old-secret'], t);
    expect(parseSignatureHeader(header)?.signatures).toHaveLength(2);
    expect(verifySignature(body, header, 'old-secret', nowMs).ok).toBe(true);
    expect(verifySignature(body, header, ['other', 'new-secret'], nowMs).ok).toBe(true);
    expect(verifySignature(body, header, 'neither', nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses an empty secret and a timestamp that is not whole seconds', () => {
    expect(() => computeSignature(body, '', t)).toThrow(TypeError);
    expect(() => computeSignature(body, secret, 1.5)).toThrow(TypeError);
    expect(() => signatureHeader(body, [], t)).toThrow(TypeError);
  });
});

describe('verifying (receivers)', () => {
  const header = signatureHeader(body, secret, t);

  it('accepts the exact body within the tolerance', () => {
    expect(verifySignature(body, header, secret, nowMs)).toEqual({ ok: true, timestampSeconds: t });
    expect(verifySignature(body, header, secret, new Date(nowMs + 299_000), 300).ok).toBe(true);
    expect(verifySignature(body, header, secret, new Date(nowMs - 299_000), 300).ok).toBe(true);
  });

  it('refuses a replay outside the tolerance, either way (replay protection)', () => {
    expect(verifySignature(body, header, secret, nowMs + 301_000, 300)).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(verifySignature(body, header, secret, nowMs - 301_000, 300).ok).toBe(false);
    expect(verifySignature(body, header, secret, nowMs + 61_000, 60).ok).toBe(false);
  });

  it('refuses a moved timestamp: the signature covers it', () => {
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifySignature(body, moved, secret, nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a changed body, a wrong secret', () => {
    expect(verifySignature(`${body} `, header, secret, nowMs)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(body, header, `${secret}x`, nowMs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['no signature', `t=${t}`],
    ['a short signature', `t=${t},v1=abc`],
    ['uppercase hex', `t=${t},v1=${computeSignature(body, secret, t).toUpperCase()}`],
    ['two timestamps', `${header},t=${t}`],
    ['a negative timestamp', `t=-${t},v1=${'a'.repeat(64)}`],
    ['another scheme only', `t=${t},v0=${computeSignature(body, secret, t)}`],
  ])('refuses a malformed header: %s', (_, bad) => {
    expect(verifySignature(body, bad, secret, nowMs)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('ignores unknown schemes beside v1 and spaces after commas', () => {
    const spaced = `t=${t}, v0=zzz, v1=${computeSignature(body, secret, t)}`;
    expect(verifySignature(body, spaced, secret, nowMs).ok).toBe(true);
  });

  it('property: any body and secret verify after signing; any change to the body does not', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (text, key, extra) => {
          const signed = signatureHeader(text, key, t);
          expect(verifySignature(text, signed, key, nowMs).ok).toBe(true);
          expect(verifySignature(text + extra, signed, key, nowMs).ok).toBe(false);
        },
      ),
    );
  });
});
