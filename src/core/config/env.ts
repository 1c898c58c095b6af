import type { z } from 'zod';
import { ConfigError } from '../errors';

/**
 * Validates an environment (given, never read here) against a schema and fails fast with every
 * offending variable named.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
}
