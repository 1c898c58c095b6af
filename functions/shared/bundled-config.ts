/**
 * Configuration the CDK app compiles into function bundles instead of their environment (Lambda
 * allows 4 KB of variables in all, too little for 100 destinations): JSON text by name, as the
 * functions' environment schemas read it.
 */
export const BUNDLED_CONFIG_NAMES = ['MOSAIC_IDENTITY', 'MOSAIC_DESTINATIONS'] as const;
export type BundledConfigName = (typeof BUNDLED_CONFIG_NAMES)[number];

/**
 * What a function's environment schema parses: the environment, with the bundled configuration read
 * as `process.env.NAME`. In a bundle, esbuild replaces exactly these reads with the values compiled
 * in at synth (`MosaicFunction`'s `bundledConfig`), so they must stay written out one by one; run
 * unbundled (tests, scripts) they read the environment like any other variable.
 */
export function functionEnv(): NodeJS.ProcessEnv {
  const bundled: Record<BundledConfigName, string | undefined> = {
    MOSAIC_IDENTITY: process.env.MOSAIC_IDENTITY,
    MOSAIC_DESTINATIONS: process.env.MOSAIC_DESTINATIONS,
  };
  return { ...process.env, ...bundled };
}
