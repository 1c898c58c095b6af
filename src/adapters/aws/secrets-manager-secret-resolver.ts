import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, ServiceUnavailableError } from '../../core/errors';
import { type Clock, systemClock } from '../../ports/clock';
import type { SecretResolver } from '../../ports/destination-sender';
import { awsErrorCode, awsErrorOutcome } from './aws-send-outcome';

export interface SecretsManagerSecretResolverOptions {
  readonly client: SecretsManagerClient;
  /** How long a value is reused before it is read again. Default 5 minutes. */
  readonly ttlMs?: number;
  readonly clock?: Clock;
}

/** Long enough to spare Secrets Manager a call per batch; short enough that a rotation takes hold soon. */
export const DEFAULT_SECRET_TTL_MS = 5 * 60 * 1000;

/** Errors that say the secret cannot be read however often it is tried (a configuration problem). */
const CONFIG_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'InvalidRequestException',
  'InvalidParameterException',
  'DecryptionFailure',
]);

/**
 * {@link SecretResolver} on AWS Secrets Manager: `GetSecretValue` by the secret's name or ARN
 * (`secretRef`), the value kept in this process (one cold start) for a short TTL, and one call in flight
 * per secret however many batches ask at once. A secret that does not exist, or may not be read, or has
 * no text value is a {@link ConfigError} (not retryable: the batch goes to the DLQ, naming the secret,
 * never a value); throttling and server faults a retryable {@link ServiceUnavailableError}. Values are
 * never logged, and errors carry the SDK error's name, not its message.
 */
export class SecretsManagerSecretResolver implements SecretResolver {
  private readonly cache = new Map<string, { readonly value: Promise<string>; readonly until: number }>();
  private readonly ttlMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: SecretsManagerSecretResolverOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.clock = options.clock ?? systemClock;
  }

  resolve(name: string): Promise<string> {
    const now = this.clock.now();
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.until > now) return cached.value;
    const value = this.read(name);
    this.cache.set(name, { value, until: now + this.ttlMs });
    // A failed read is not kept: the next batch asks again.
    value.catch(() => {
      if (this.cache.get(name)?.value === value) this.cache.delete(name);
    });
    return value;
  }

  private async read(name: string): Promise<string> {
    let answer: { SecretString?: string; SecretBinary?: Uint8Array };
    try {
      answer = await this.options.client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (error) {
      const code = awsErrorCode(error);
      if (error instanceof Error && CONFIG_ERRORS.has(error.name)) {
        throw new ConfigError(`the destination secret "${name}" cannot be read (${code})`);
      }
      const outcome = awsErrorOutcome(error);
      if (outcome.kind === 'response' && outcome.status < 500 && outcome.status !== 429) {
        throw new ConfigError(`the destination secret "${name}" cannot be read (${code})`);
      }
      throw new ServiceUnavailableError(`reading the destination secret "${name}" failed (${code})`);
    }
    const value =
      answer.SecretString ??
      (answer.SecretBinary === undefined ? undefined : Buffer.from(answer.SecretBinary).toString('utf8'));
    if (value === undefined || value === '') {
      throw new ConfigError(`the destination secret "${name}" has no value`);
    }
    return value;
  }
}
