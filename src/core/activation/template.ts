import type { JsonValue } from '../profile/profile';

/**
 * Payload templates: a JSON value whose strings may hold placeholders `{{name}}`. Rendering walks the
 * JSON and substitutes values looked up by name — nothing is evaluated, so a template cannot run code,
 * reach other data or change the payload's structure beyond swapping values in.
 *
 * - A string that is exactly one placeholder (`"{{members}}"`, spaces inside the braces allowed) is
 *   replaced by the value itself, whatever its JSON type (an array of members, a number, an object).
 *   Where the value is missing, an object property is left out and an array element becomes `null`.
 * - Placeholders inside a longer string (`"Audience {{segmentId}}"`) are replaced by the value as text:
 *   strings as they are, numbers and booleans in JSON form, a missing value or `null` as the empty
 *   string; an object or array there is refused when checking (the names are known in advance).
 * - Keys are literal: a key holding `{{` is refused.
 *
 * Templates are checked once, with the configuration ({@link checkTemplate}), against the names that
 * the place they are used offers.
 */

/** A placeholder name: a dot path of identifier-like segments (`batch.index`, `traits.first_name`). */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}$/;

/** Deepest nesting of objects and arrays a template may have. */
export const MAX_TEMPLATE_DEPTH = 12;
/** Most characters of a template as JSON text. */
export const MAX_TEMPLATE_CHARS = 16 * 1024;

/** What a placeholder may stand for: `scalar` ones may be embedded in text; `any` only stand alone. */
export type PlaceholderKind = 'scalar' | 'any';

/** A problem with a template, at a path below it (keys and array indices). */
export interface TemplateProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Checks a template against the placeholders it may use (`name → kind`) and returns every problem
 * (empty when it is fine). `required` names must each appear exactly once, standing alone.
 */
export function checkTemplate(
  template: unknown,
  placeholders: ReadonlyMap<string, PlaceholderKind>,
  required: readonly string[] = [],
): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const uses = new Map<string, number>();
  let text: string | undefined;
  try {
    text = JSON.stringify(template);
  } catch {
    text = undefined;
  }
  if (text === undefined) return [{ path: [], message: 'a template must be JSON' }];
  if (text.length > MAX_TEMPLATE_CHARS) {
    return [{ path: [], message: `a template holds at most ${MAX_TEMPLATE_CHARS} characters as JSON` }];
  }
  const walk = (value: unknown, path: (string | number)[], depth: number): void => {
    if (depth > MAX_TEMPLATE_DEPTH) {
      problems.push({ path, message: `nested deeper than ${MAX_TEMPLATE_DEPTH} levels` });
      return;
    }
    if (typeof value === 'string') {
      const whole = WHOLE_PLACEHOLDER.exec(value);
      if (whole) {
        const name = whole[1] as string;
        if (!placeholders.has(name)) problems.push({ path, message: unknownPlaceholder(name, placeholders) });
        uses.set(name, (uses.get(name) ?? 0) + 1);
        return;
      }
      for (const match of value.matchAll(PLACEHOLDER)) {
        const name = match[1] as string;
        const kind = placeholders.get(name);
        if (kind === undefined) problems.push({ path, message: unknownPlaceholder(name, placeholders) });
        else if (kind === 'any') {
          problems.push({ path, message: `{{${name}}} is not text: it must be the whole string` });
        }
        uses.set(name, (uses.get(name) ?? 0) + 1);
      }
      if (value.replace(PLACEHOLDER, '').includes('{{')) {
        problems.push({ path, message: 'an unclosed or malformed placeholder ("{{name}}")' });
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((element, i) => {
        walk(element, [...path, i], depth + 1);
      });
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [key, element] of Object.entries(value)) {
        if (key.includes('{{'))
          problems.push({ path: [...path, key], message: 'keys are literal: no placeholders' });
        walk(element, [...path, key], depth + 1);
      }
      return;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) problems.push({ path, message: 'not JSON' });
  };
  walk(template, [], 0);
  for (const name of required) {
    const count = uses.get(name) ?? 0;
    if (count !== 1) {
      problems.push({
        path: [],
        message: `must use {{${name}}} exactly once, as a whole string (found ${count})`,
      });
    }
  }
  return problems;
}

/**
 * Renders a checked template: placeholders replaced by `lookup(name)` (see the module comment). The
 * template itself is never changed.
 */
export function renderTemplate(
  template: JsonValue,
  lookup: (name: string) => JsonValue | undefined,
): JsonValue {
  const render = (value: JsonValue): JsonValue | undefined => {
    if (typeof value === 'string') {
      const whole = WHOLE_PLACEHOLDER.exec(value);
      if (whole) return lookup(whole[1] as string);
      if (!value.includes('{{')) return value;
      return value.replace(PLACEHOLDER, (_, name: string) => asText(lookup(name)));
    }
    if (Array.isArray(value)) return value.map((element) => render(element) ?? null);
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, JsonValue> = {};
      for (const [key, element] of Object.entries(value)) {
        const rendered = render(element);
        if (rendered !== undefined) out[key] = rendered;
      }
      return out;
    }
    return value;
  };
  return render(template) ?? null;
}

function asText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  // Checked templates embed only scalar placeholders; JSON text keeps a surprise visible, not
  // "[object Object]".
  return JSON.stringify(value);
}

function unknownPlaceholder(name: string, placeholders: ReadonlyMap<string, PlaceholderKind>): string {
  const known = [...placeholders.keys()].sort().join(', ');
  return `unknown placeholder {{${name}}} (known: ${known})`;
}
