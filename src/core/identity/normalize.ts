import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * How an identifier type's values are normalised before they are compared, stored or looked up:
 * - `email`: trimmed and lowercased, nothing else (no removal of dots or `+tags`: those can be
 *   different mailboxes); it must then look like an address (one `@`, text on both sides, no spaces).
 * - `phone`: E.164 (`+14155552671`). A number without a country code needs the configured default
 *   country; an extension is not part of E.164 and is left out. Numbers that are not valid for their
 *   country (`+10000000000`) are refused.
 * - `trim`: surrounding whitespace removed, the rest kept exactly (ids are case-sensitive).
 */
export const NORMALIZERS = ['email', 'phone', 'trim'] as const;
export type Normalizer = (typeof NORMALIZERS)[number];

export type Normalized = { readonly ok: true; readonly value: string } | { readonly ok: false };

export interface NormalizeOptions {
  /** ISO 3166-1 alpha-2 country for phone numbers written without `+` and a country code. */
  readonly defaultPhoneCountry?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/u;

/** Normalises an already trimmed, non-empty value; `ok: false` when it is not a valid value. */
export function normalizeValue(
  normalizer: Normalizer,
  trimmed: string,
  options: NormalizeOptions,
): Normalized {
  switch (normalizer) {
    case 'trim':
      return { ok: true, value: trimmed };
    case 'email': {
      const value = trimmed.toLowerCase();
      return EMAIL.test(value) ? { ok: true, value } : { ok: false };
    }
    case 'phone':
      return normalizePhone(trimmed, options.defaultPhoneCountry);
  }
}

function normalizePhone(trimmed: string, defaultCountry: string | undefined): Normalized {
  // Far longer than any number with its formatting: not a phone number, and not worth parsing.
  if (trimmed.length > 64) return { ok: false };
  const parsed =
    defaultCountry === undefined
      ? parsePhoneNumberFromString(trimmed, { extract: false })
      : parsePhoneNumberFromString(trimmed, {
          defaultCountry: defaultCountry as CountryCode,
          extract: false,
        });
  if (parsed === undefined || !parsed.isValid()) return { ok: false };
  return { ok: true, value: parsed.number };
}

/** Whether the phone library has numbering metadata for an ISO 3166-1 alpha-2 country code. */
export function isKnownPhoneCountry(code: string): boolean {
  return isSupportedCountry(code);
}
