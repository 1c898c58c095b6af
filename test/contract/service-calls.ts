/** What a service emulator saw of one call. */
export interface ServiceCall {
  readonly records: number;
  /** The bytes the service counts against its per-call limit. */
  readonly bytes: number;
  /** The error the call was rejected with, if it was. */
  readonly rejectedWith?: string;
}

/** An error shaped as the AWS SDK throws a service's answer. */
export function serviceError(
  name: string,
  message: string,
  fault: 'client' | 'server' = 'client',
  serverStatus = 500,
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'client' ? 400 : serverStatus },
  });
}

/**
 * The part of a service emulator every call goes through: it is admitted, or rejected as a whole as
 * the service would (unknown target, a limit broken, a fault a test injected), and logged either way.
 */
export class CallLog {
  readonly calls: ServiceCall[] = [];
  /** Every limit a caller broke (a contract test asserts there are none). */
  readonly limitViolations: string[] = [];
  private fault: ((call: ServiceCall, callIndex: number) => Error | undefined) | undefined;

  /** From now on calls `select` returns an error for are rejected as a whole; `undefined` stops it. */
  failCalls(select: ((call: ServiceCall, callIndex: number) => Error | undefined) | undefined): void {
    this.fault = select;
  }

  /** Logs the call, or throws the first of: the target error, the limit broken, the injected fault. */
  admit(call: ServiceCall, checks: { readonly target?: Error; readonly violation?: Error }): void {
    const callIndex = this.calls.length;
    const reject = (error: Error): never => {
      this.calls.push({ ...call, rejectedWith: error.name });
      throw error;
    };
    if (checks.target) reject(checks.target);
    if (checks.violation) {
      this.limitViolations.push(checks.violation.message);
      reject(checks.violation);
    }
    const injected = this.fault?.(call, callIndex);
    if (injected) reject(injected);
    this.calls.push(call);
  }
}
