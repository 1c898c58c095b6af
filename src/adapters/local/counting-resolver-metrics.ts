import type { ResolverMetrics } from '../../ports/resolver-metrics';

/** The local twin of the resolver's CloudWatch metrics: plain counters (the live console line, tests). */
export class CountingResolverMetrics implements ResolverMetrics {
  /** Every counter by name: `event.applied`, `identifier_rejected.email.blocked`, `conflict`, ... */
  readonly counts = new Map<string, number>();

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  private add(name: string): void {
    this.counts.set(name, this.get(name) + 1);
  }

  event(outcome: Parameters<ResolverMetrics['event']>[0]): void {
    this.add(`event.${outcome}`);
  }
  identifierRejected(type: string, reason: string): void {
    this.add(`identifier_rejected.${type}.${reason}`);
  }
  identifierDropped(type: string, limitType: string): void {
    this.add(`identifier_dropped.${type}.${limitType}`);
  }
  profileCreated(): void {
    this.add('profile_created');
  }
  profileMerged(): void {
    this.add('profile_merged');
  }
  conflict(): void {
    this.add('conflict');
  }
  profileWarning(code: string): void {
    this.add(`profile_warning.${code}`);
  }
}
