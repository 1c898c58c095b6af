import { ApiProtocolError, ApiResponseError, ApiTimeoutError, ApiUnreachableError } from './api-client';
import { clean } from './format';
import { JobFailedError, WaitTimeoutError } from './jobs';
import { isLoopback, type Settings } from './settings';
import { UsageError } from './usage-error';

/**
 * The `mosaic` CLI's exit codes (documented in `mosaic --help` and the README), so scripts can tell
 * "nobody with that identifier" from "wrong key" from "try again later".
 */
export const EXIT = {
  ok: 0,
  /** The command line or the request was wrong: unknown command or option, bad value, API 400. */
  usage: 1,
  /** The API found nothing: no profile with that identifier, no such segment or export (a Mosaic 404). */
  notFound: 2,
  /** The API refused the admin key: none, unknown or revoked (401, 403). */
  auth: 3,
  /** The API failed or could not be reached: nothing listening, timeout, 5xx, 429, not a Mosaic API. */
  unavailable: 4,
  /** A bug in the CLI itself (printed with its stack). */
  internal: 5,
  /** A job the command waited for ended FAILED: a preview, or an export with `--wait`. */
  jobFailed: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Failure {
  readonly exitCode: ExitCode;
  /** Lines for stderr, without the trailing newline: `mosaic: code: message`, then hints. */
  readonly lines: readonly string[];
}

/**
 * What to tell the user about an error, and the exit code. Expected failures get a message and a
 * hint, never a stack trace; anything else is a bug and keeps its stack.
 */
export function describeFailure(error: unknown, settings: Settings | undefined): Failure {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, lines: [`mosaic: ${error.message}`] };
  if (error instanceof ApiResponseError) return describeResponse(error, settings);
  if (error instanceof ApiUnreachableError) {
    const base = clean(settings?.apiUrl ?? new URL(error.url).origin);
    const lines: string[] = [];
    if (error.reason === 'ECONNREFUSED') {
      lines.push(`mosaic: unreachable: nothing is listening at ${base} (connection refused)`);
      if (settings === undefined || isLoopback(settings.apiUrl))
        lines.push(
          'hint: is `npm start` running? Or pass --api URL (or set MOSAIC_API_URL) for a deployed API.',
        );
      else lines.push("hint: check --api (or MOSAIC_API_URL): it should be the stack's CollectorUrl.");
    } else {
      const why = error.reason ?? clean(causeMessage(error));
      lines.push(`mosaic: unreachable: cannot reach ${base}${why === '' ? '' : ` (${why})`}`);
      if (error.reason === 'ENOTFOUND' || error.reason === 'EAI_AGAIN')
        lines.push('hint: the host name does not resolve; check --api (or MOSAIC_API_URL).');
    }
    return { exitCode: EXIT.unavailable, lines };
  }
  if (error instanceof ApiTimeoutError)
    return {
      exitCode: EXIT.unavailable,
      lines: [
        `mosaic: timeout: ${clean(error.message)}`,
        'hint: retry, or allow longer with --timeout SECONDS.',
      ],
    };
  if (error instanceof ApiProtocolError)
    return { exitCode: EXIT.unavailable, lines: [`mosaic: not_mosaic: ${clean(error.message)}`] };
  if (error instanceof WaitTimeoutError)
    return {
      exitCode: EXIT.unavailable,
      lines: [`mosaic: timeout: ${clean(error.message)}`, `hint: ${error.hint}`],
    };
  if (error instanceof JobFailedError)
    return { exitCode: EXIT.jobFailed, lines: [`mosaic: ${error.code}: ${clean(error.message)}`] };
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return {
    exitCode: EXIT.internal,
    lines: [`mosaic: internal error (a bug in the CLI; please report it): ${text}`],
  };
}

function describeResponse(error: ApiResponseError, settings: Settings | undefined): Failure {
  const first = `mosaic: ${clean(error.code)}: ${clean(error.message)}`;
  if (error.status === 401 || error.status === 403) {
    const lines = [first];
    if (settings?.keyFrom === 'default')
      lines.push(
        `hint: the local development admin key was sent; pass --key KEY or set MOSAIC_ADMIN_KEY for ${clean(settings.apiUrl)}.`,
      );
    else
      lines.push(
        `hint: the API refused the admin key from ${settings?.keyFrom === 'env' ? 'MOSAIC_ADMIN_KEY' : '--key'}; is it a current key of this deployment?`,
      );
    return { exitCode: EXIT.auth, lines };
  }
  if (error.status === 404) {
    if (error.mosaicError) return { exitCode: EXIT.notFound, lines: [first] };
    // API Gateway's own 404: no route. The URL is not a Mosaic API, or one without this API yet.
    return {
      exitCode: EXIT.unavailable,
      lines: [
        `mosaic: no_such_endpoint: ${clean(error.method)} ${clean(new URL(error.url).pathname)} is not served at ${clean(settings?.apiUrl ?? new URL(error.url).origin)}`,
        "hint: --api (or MOSAIC_API_URL) should be the base URL of a Mosaic API (the stack's CollectorUrl), of a version that has this API.",
      ],
    };
  }
  if (error.issues.length > 0) {
    // A 400 that lists what is wrong: one line per issue, with the path of the bad value. When the
    // message is only those issues again (InvalidSegmentError's), the first line counts them instead.
    const joined = error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    const count = `${error.issues.length} issue${error.issues.length === 1 ? '' : 's'}`;
    const head =
      error.message === joined
        ? `mosaic: ${clean(error.code)}: ${count}`
        : `mosaic: ${clean(error.code)}: ${clean(error.message)} (${count})`;
    const lines = [head, ...error.issues.map((issue) => `  ${clean(issue.path)}: ${clean(issue.message)}`)];
    return { exitCode: error.retryable ? EXIT.unavailable : EXIT.usage, lines };
  }
  if (error.status === 409 && error.method === 'POST' && /\/v1\/segments$/.test(new URL(error.url).pathname))
    return {
      exitCode: EXIT.usage,
      lines: [
        first,
        'hint: change it with `mosaic segments update ID -f FILE`, or create it under another --id.',
      ],
    };
  if (error.retryable) {
    return {
      exitCode: EXIT.unavailable,
      lines: [
        first,
        `hint: the API answered ${error.status}; retry later${error.status >= 500 ? ', and see its logs if it persists' : ''}.`,
      ],
    };
  }
  return { exitCode: EXIT.usage, lines: [first] };
}

/** The innermost cause's message (undici says only `fetch failed` on top). */
function causeMessage(error: Error): string {
  let current: unknown = error.cause;
  let message = '';
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    message = current.message;
    current = current.cause;
  }
  return message.slice(0, 200);
}
