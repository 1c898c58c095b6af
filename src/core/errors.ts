/**
 * Errors carry their meaning in their type: what went wrong, whether a retry can help, and which HTTP
 * status the edge maps them to. Only messages of errors below 500 are shown to callers.
 */
export abstract class MosaicError extends Error {
  /** HTTP status used when this error reaches an API edge. */
  abstract readonly statusCode: number;
  /** Whether the same request may succeed later (the caller should retry). */
  readonly retryable: boolean = false;
  /** A stable, machine-readable code for clients and metrics. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What a caller may see: the message below 500, a generic text otherwise. */
  get publicMessage(): string {
    return this.statusCode < 500 ? this.message : 'The service is temporarily unavailable; retry later.';
  }
}

export class BadRequestError extends MosaicError {
  readonly statusCode = 400;
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'bad_request';
  }
}

export class UnauthorizedError extends MosaicError {
  readonly statusCode = 401;
  readonly code = 'unauthorized';
}

export class NotFoundError extends MosaicError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class MethodNotAllowedError extends MosaicError {
  readonly statusCode = 405;
  readonly code = 'method_not_allowed';
  /** The methods the resource allows (the answer's `Allow` header), when known. */
  readonly allow: readonly string[];
  constructor(message: string, options?: { cause?: unknown; allow?: readonly string[] }) {
    super(message, options);
    this.allow = options?.allow ?? [];
  }
}

/** The request conflicts with the current state (an id that exists, a stale version, a reference). */
export class ConflictError extends MosaicError {
  readonly statusCode = 409;
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'conflict';
  }
}

export class PayloadTooLargeError extends MosaicError {
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends MosaicError {
  readonly statusCode = 415;
  readonly code = 'unsupported_media_type';
}

/** A dependency (stream, sink) could not take the work after retries: the caller must retry. */
export class ServiceUnavailableError extends MosaicError {
  readonly statusCode = 503;
  readonly code = 'service_unavailable';
  override readonly retryable = true;
}

/** Configuration is invalid: fail fast at start, naming what is wrong. */
export class ConfigError extends MosaicError {
  readonly statusCode = 500;
  readonly code = 'config_error';
}
