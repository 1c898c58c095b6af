import { compareStrings } from './identifier';
import {
  DEFAULT_BLOCKED_PATTERNS,
  DEFAULT_BLOCKED_VALUES,
  type IdentifierTypeConfig,
  type IdentityConfig,
} from './identity-config';

/** A blocklist ready to test values against. */
export interface CompiledBlocklist {
  /** Lowercased blocked value → the entry as configured (reported as the rule that matched). */
  readonly exact: ReadonlyMap<string, string>;
  readonly patterns: readonly { readonly source: string; readonly regex: RegExp }[];
}

/** One identifier type with its paths split and its blocklist (global + own) compiled. */
export interface CompiledType {
  readonly config: IdentifierTypeConfig;
  /** Position in {@link IdentityRules.types}: 0 is the highest priority. */
  readonly rank: number;
  readonly paths: readonly { readonly source: string; readonly segments: readonly string[] }[];
  readonly blocklist: CompiledBlocklist;
}

/** Identity configuration compiled once for the hot path (extraction and planning). */
export interface IdentityRules {
  readonly config: IdentityConfig;
  /** Types by priority, highest first; equal priorities by name. */
  readonly types: readonly CompiledType[];
  readonly byName: ReadonlyMap<string, CompiledType>;
  /** `context.externalIds[].type` → the identifier type it gives. */
  readonly byExternalIdType: ReadonlyMap<string, CompiledType>;
}

const cache = new WeakMap<IdentityConfig, IdentityRules>();

/**
 * Compiles a parsed configuration (cached per configuration object, so callers may pass the config
 * on every call). Regular expressions were checked when the configuration was parsed.
 */
export function identityRules(config: IdentityConfig): IdentityRules {
  const cached = cache.get(config);
  if (cached !== undefined) return cached;
  const globalValues = [
    ...(config.blocked.includeDefaults ? DEFAULT_BLOCKED_VALUES : []),
    ...config.blocked.values,
  ];
  const globalPatterns = [
    ...(config.blocked.includeDefaults ? DEFAULT_BLOCKED_PATTERNS : []),
    ...config.blocked.patterns,
  ];
  const ordered = [...config.types].sort((a, b) => b.priority - a.priority || compareStrings(a.name, b.name));
  const types = ordered.map(
    (type, rank): CompiledType => ({
      config: type,
      rank,
      paths: type.paths.map((source) => ({ source, segments: source.split('.') })),
      blocklist: compileBlocklist(
        [...globalValues, ...type.blocked.values],
        [...globalPatterns, ...type.blocked.patterns],
      ),
    }),
  );
  const byExternalIdType = new Map<string, CompiledType>();
  for (const type of types) {
    for (const external of type.config.externalIdTypes) byExternalIdType.set(external, type);
  }
  const rules: IdentityRules = {
    config,
    types,
    byName: new Map(types.map((type) => [type.config.name, type])),
    byExternalIdType,
  };
  cache.set(config, rules);
  return rules;
}

function compileBlocklist(values: readonly string[], patterns: readonly string[]): CompiledBlocklist {
  const exact = new Map<string, string>();
  for (const value of values) {
    const key = value.trim().toLowerCase();
    if (!exact.has(key)) exact.set(key, value);
  }
  const unique = [...new Set(patterns)];
  return { exact, patterns: unique.map((source) => ({ source, regex: new RegExp(source, 'iu') })) };
}

/** The blocklist entry a value matches (`value:null`, `pattern:^[0-]*$`), or `undefined`. */
export function matchBlocklist(blocklist: CompiledBlocklist, value: string): string | undefined {
  const exact = blocklist.exact.get(value.toLowerCase());
  if (exact !== undefined) return `value:${exact}`;
  for (const pattern of blocklist.patterns) {
    if (pattern.regex.test(value)) return `pattern:${pattern.source}`;
  }
  return undefined;
}
