/** Where the local runtime's bundle is written. */
export declare const bundlePath: string;
/** Node's flags for the runtime's process, as `npm start` gives them (source maps, one GC helper thread). */
export declare const RUNTIME_NODE_ARGS: readonly string[];
/** Bundles `src/local/main.ts` (as `npm start` does) and resolves with the bundle's path. */
export declare function bundleLocalRuntime(): Promise<string>;
/**
 * Bundles a TypeScript entry point (its path from the repository's root) for Node, as the local
 * runtime is bundled, to `node_modules/.cache/mosaic/<name>/<name>.mjs`, with the runtime's resolver
 * thread and any `companions` (bundle name → entry path) next to it; resolves with the entry's path.
 */
export declare function bundleForNode(
  entry: string,
  name: string,
  companions?: Readonly<Record<string, string>>,
): Promise<string>;
/**
 * The environment `npm start` runs the runtime in (malloc arenas capped, the SDK's Node-version notice
 * silenced); variables already set win, then `overrides`.
 */
export declare function launcherEnv(overrides?: Record<string, string>): NodeJS.ProcessEnv;
