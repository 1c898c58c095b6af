/**
 * One identifier of a person: a configured type and its normalised value, e.g.
 * `{ type: 'email', value: 'jane@example.com' }`.
 */
export interface Identifier {
  readonly type: string;
  readonly value: string;
}

/**
 * The identifier as one string, `type:value` — the form the Profile API takes in its path
 * (`/v1/profiles/email:jane@example.com`) and a natural key for the identity graph. Type names never
 * contain `:` (the configuration refuses them), so the first `:` separates type and value.
 */
export function identifierKey(id: Identifier): string {
  return `${id.type}:${id.value}`;
}

/** The inverse of {@link identifierKey}; `undefined` when there is no `:` or either side is empty. */
export function parseIdentifierKey(key: string): Identifier | undefined {
  const colon = key.indexOf(':');
  if (colon <= 0 || colon === key.length - 1) return undefined;
  return { type: key.slice(0, colon), value: key.slice(colon + 1) };
}

/** Orders identifiers by type, then value (UTF-16 code units, never locale-dependent). */
export function compareIdentifiers(a: Identifier, b: Identifier): number {
  return compareStrings(a.type, b.type) || compareStrings(a.value, b.value);
}

/** Locale-independent string order, so every resolver sorts the same way. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
