import { z } from 'zod';
import { ConfigError } from '../../core/errors';
import type { SecretResolver } from '../../ports/destination-sender';

/** The environment variable holding local destination secrets: a JSON object, secret name → value. */
export const DESTINATION_SECRETS_ENV = 'MOSAIC_DESTINATION_SECRETS';

const SecretMap = z.record(z.string().min(1), z.string().min(1));

/**
 * Reads `MOSAIC_DESTINATION_SECRETS` once: `{}` when unset; a `ConfigError` naming the variable (never
 * its value) when it is not a JSON object of non-empty strings.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const text = env[DESTINATION_SECRETS_ENV];
  if (text === undefined || text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${DESTINATION_SECRETS_ENV} is not JSON (an object of secret name → value)`);
  }
  const parsed = SecretMap.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `${DESTINATION_SECRETS_ENV} must be a JSON object of secret name → non-empty string value`,
    );
  }
  return parsed.data;
}

/**
 * Secrets Manager's local twin: values from a map (an option, or {@link secretsFromEnv}). Errors name
 * the missing secret, never a value.
 */
export class MapSecretResolver implements SecretResolver {
  private readonly values: ReadonlyMap<string, string>;

  constructor(values: Readonly<Record<string, string>>) {
    this.values = new Map(Object.entries(values));
  }

  async resolve(name: string): Promise<string> {
    const value = this.values.get(name);
    if (value === undefined) {
      throw new ConfigError(`the destination secret "${name}" is not set (${DESTINATION_SECRETS_ENV})`);
    }
    return value;
  }
}
