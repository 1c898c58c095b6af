import { z } from 'zod';
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

/**
 * For a `z.string().transform(...)` of an environment variable that holds JSON: the text parsed and
 * validated against `schema`, or issues naming what is wrong (`0.keys.0.sha256: ...`) under the
 * variable's name.
 */
export function jsonOf<T extends z.ZodType>(text: string, schema: T, ctx: z.RefinementCtx): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
    return z.NEVER;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
    return z.NEVER;
  }
  return parsed.data;
}
