import { InvalidArgumentError } from 'commander';
import type { ProfileIdentifier } from './api-client';

/**
 * Parsers of the CLI's arguments and option values (commander `argParser`s): pure, and failing with
 * commander's `InvalidArgumentError`, which it reports as a usage error naming the argument.
 */

/**
 * `type:value`, split at the first `:` (type names never hold one; values may: `custom:a:b`). Only the
 * shape is checked here; the API says which types exist and which values are valid.
 */
export function parseIdentifier(text: string): ProfileIdentifier {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError('Expected type:value, e.g. email:jane@example.com.');
  const type = text.slice(0, colon);
  const value = text.slice(colon + 1);
  if (!/^[A-Za-z0-9_.-]+$/.test(type))
    throw new InvalidArgumentError(
      `"${type.slice(0, 40)}" is not an identifier type, e.g. email or user_id.`,
    );
  if (value === '') throw new InvalidArgumentError(`The ${type} value is empty.`);
  return { type, value };
}

/** `--limit N`: a whole number from 1 (the API checks the maximum, 50 today). */
export function parseLimit(text: string): number {
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError('Expected a whole number from 1.');
  return Number(text);
}

/** Longest `--timeout`, in seconds. */
export const MAX_TIMEOUT_SECONDS = 600;

/** `--timeout SECONDS` → milliseconds: a number above 0 and at most {@link MAX_TIMEOUT_SECONDS}. */
export function parseTimeout(text: string): number {
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS))
    throw new InvalidArgumentError(`Expected seconds, above 0 and at most ${MAX_TIMEOUT_SECONDS}.`);
  return Math.max(1, Math.round(seconds * 1000));
}
