import { z } from 'zod';
import { normaliseBaseUrl } from './api-client';
import { UsageError } from './usage-error';

/** The local runtime's address and development admin key (`npm start`, src/local/main.ts). */
export const LOCAL_API_URL = 'http://127.0.0.1:8080';
export const LOCAL_ADMIN_KEY = 'mosaic-dev-admin-key';
/** Per request, unless `--timeout` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

const unsetIfBlank = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** What the CLI reads of the environment (once, when a command runs); a blank variable counts as unset. */
export const CliEnv = z.object({
  MOSAIC_API_URL: unsetIfBlank,
  MOSAIC_ADMIN_KEY: unsetIfBlank,
});
export type CliEnv = z.infer<typeof CliEnv>;

/** The global options as commander parsed them. */
export interface GlobalOptions {
  readonly api?: string;
  readonly key?: string;
  readonly timeout?: number;
  readonly json?: boolean;
}

/** Where a setting came from: its option, its environment variable, or the local default. */
export type SettingSource = 'option' | 'env' | 'default';

export interface Settings {
  /** The API's base URL, without a trailing slash. */
  readonly apiUrl: string;
  readonly apiFrom: SettingSource;
  readonly adminKey: string;
  readonly keyFrom: SettingSource;
  readonly timeoutMs: number;
  /** `--json`: the API's JSON on stdout and nothing else. */
  readonly json: boolean;
}

/** Options over environment over the local runtime's defaults; a bad value names where it came from. */
export function resolveSettings(
  options: GlobalOptions,
  env: Readonly<Record<string, string | undefined>>,
): Settings {
  const parsedEnv = CliEnv.parse({
    MOSAIC_API_URL: env.MOSAIC_API_URL,
    MOSAIC_ADMIN_KEY: env.MOSAIC_ADMIN_KEY,
  });
  const [api, apiFrom] = pick(options.api, parsedEnv.MOSAIC_API_URL, LOCAL_API_URL);
  let apiUrl: string;
  try {
    apiUrl = normaliseBaseUrl(api);
  } catch (error) {
    const name = apiFrom === 'option' ? '--api' : 'MOSAIC_API_URL';
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  const [adminKey, keyFrom] = pick(options.key, parsedEnv.MOSAIC_ADMIN_KEY, LOCAL_ADMIN_KEY);
  if (adminKey.trim() === '' || /[\s\p{Cc}]/u.test(adminKey))
    throw new UsageError(
      `${keyFrom === 'option' ? '--key' : 'MOSAIC_ADMIN_KEY'}: an admin key has no spaces or control characters`,
    );
  return {
    apiUrl,
    apiFrom,
    adminKey,
    keyFrom,
    timeoutMs: options.timeout ?? DEFAULT_TIMEOUT_MS,
    json: options.json === true,
  };
}

function pick(
  option: string | undefined,
  fromEnv: string | undefined,
  fallback: string,
): [string, SettingSource] {
  if (option !== undefined) return [option, 'option'];
  if (fromEnv !== undefined) return [fromEnv, 'env'];
  return [fallback, 'default'];
}

/** Whether a base URL names this machine (then "is `npm start` running?" is the likely question). */
export function isLoopback(apiUrl: string): boolean {
  const host = new URL(apiUrl).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
