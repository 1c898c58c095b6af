/** Where the local runtime's bundle is written. */
export declare const bundlePath: string;
/** Bundles `src/local/main.ts` (as `npm start` does) and resolves with the bundle's path. */
export declare function bundleLocalRuntime(): Promise<string>;
