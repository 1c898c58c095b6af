/** Time as a port, so the core never reads the system clock and tests can control it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; the unit-test twin of {@link systemClock}. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Generates unique ids (message ids); injected so tests can make them deterministic. */
export type IdGenerator = () => string;

export const randomIds: IdGenerator = () => globalThis.crypto.randomUUID();

/** Waits; injected so retry back-off is instant in tests. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
