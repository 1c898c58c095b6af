import type { CollectorLimits } from '../config/limits';

/**
 * Keys that can reach an object's prototype when a later consumer merges objects naively.
 * `__proto__` has no legitimate use in event data and is always refused; `constructor` and `prototype`
 * are refused only when they hold an object (a plain `"constructor": "Ferrari"` is inert).
 */
const PROTO_KEY = '__proto__';

/**
 * Checks the structure of one message in a single pass: nesting depth, total key count and
 * prototype-polluting keys. Returns the reason it is refused, or `undefined` if it is within bounds.
 */
export function checkBounds(
  message: unknown,
  limits: Pick<CollectorLimits, 'maxDepth' | 'maxKeys'>,
): string | undefined {
  return measureBounds(message, limits).violation;
}

/**
 * {@link checkBounds} that also says how many keys it counted, for parts merged into messages (a
 * batch's `context`): their keys count against each message's budget.
 */
export function measureBounds(
  value: unknown,
  limits: Pick<CollectorLimits, 'maxDepth' | 'maxKeys'>,
): { violation?: string; keys: number } {
  const state = { keys: 0 };
  const violation = walk(value, 0, limits, state);
  return violation === undefined ? { keys: state.keys } : { violation, keys: state.keys };
}

function walk(
  value: unknown,
  depth: number,
  limits: Pick<CollectorLimits, 'maxDepth' | 'maxKeys'>,
  state: { keys: number },
): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= limits.maxDepth) return `nesting deeper than ${limits.maxDepth} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const reason = walk(value[i], depth + 1, limits, state);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (key === PROTO_KEY) return 'the key "__proto__" is not allowed';
    if ((key === 'constructor' || key === 'prototype') && typeof child === 'object' && child !== null) {
      return `the key "${key}" may not hold an object`;
    }
    if (++state.keys > limits.maxKeys) return `more than ${limits.maxKeys} keys`;
    const reason = walk(child, depth + 1, limits, state);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
