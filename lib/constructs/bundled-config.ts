import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stage } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { BUNDLED_CONFIG_NAMES, type BundledConfigName } from '../../functions/shared/bundled-config';

/** Where in the cloud assembly the generated configuration modules are written. */
export const BUNDLED_CONFIG_DIR = 'mosaic-bundled-config';

/** What a function's esbuild needs to compile `config` into its bundle. */
export interface BundledConfigOptions {
  /** `process.env.NAME` → the identifier the injected module exports for it. */
  readonly define: Record<string, string>;
  /** The generated module holding the values. */
  readonly inject: string[];
}

/** Configuration to compile into a function's bundle: JSON text by name. */
export type BundledConfig = Readonly<Partial<Record<BundledConfigName, string>>>;

/**
 * Configuration compiled into a function's bundle at synth, instead of its environment (which Lambda
 * caps at 4 KB for all variables together): each `process.env.NAME` read in the function's code
 * becomes the value of `config[NAME]`. Only names the functions read that way can be bundled
 * (`functions/shared/bundled-config.ts`); unbundled, the same code reads the environment.
 *
 * The values go into a generated module in the cloud assembly (named by their hash, so equal
 * configuration is bundled once), which esbuild injects, and each read is defined as the identifier
 * that module exports. A value is never on esbuild's command line, where one argument may hold at most
 * 128 KiB.
 *
 * esbuild only replaces reads written out as `process.env.NAME`; `process.env[name]` or a copy of
 * `process.env` read later still see the environment.
 */
export function bundledConfigOptions(
  scope: IConstruct,
  config: BundledConfig,
): BundledConfigOptions | undefined {
  const names = Object.keys(config).sort() as BundledConfigName[];
  if (names.length === 0) return undefined;
  for (const name of names) {
    if (!(BUNDLED_CONFIG_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `${scope.node.path}: "${name}" cannot be bundled: the functions read only ${BUNDLED_CONFIG_NAMES.join(', ')} from their bundle`,
      );
    }
  }
  const identifier = (name: string) => `__mosaicBundledConfig_${name}`;
  const source = [
    '// Generated at synth (lib/constructs/bundled-config.ts): configuration compiled into a bundle.',
    ...names.map((name) => `export const ${identifier(name)} = ${JSON.stringify(config[name])};`),
    '',
  ].join('\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 32);
  const outdir = Stage.of(scope)?.outdir;
  if (outdir === undefined) throw new Error(`${scope.node.path}: bundled configuration needs an app`);
  const dir = join(outdir, BUNDLED_CONFIG_DIR);
  const file = join(dir, `${hash}.mjs`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, source);
  return {
    define: Object.fromEntries(names.map((name) => [`process.env.${name}`, identifier(name)])),
    inject: [file],
  };
}
