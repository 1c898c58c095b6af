import { isMergeEntry, profileMergedEvent } from '../core/events/bus-events';
import type { EventBus } from '../ports/event-bus';
import type { IdentityLinkSink } from '../ports/identity-link-sink';
import type { ResolverEffects } from './resolve-identities';

/**
 * Hands the resolver's effects on: the links to the lake's `identity_links`, each merge as
 * `Profile Merged` on the bus (deduped by consumers on its ledger entry id). Rejects if either refuses,
 * which fails the batch so it is delivered again.
 */
export function publishResolverEffects(sinks: { readonly links: IdentityLinkSink; readonly bus: EventBus }) {
  return async (effects: ResolverEffects): Promise<void> => {
    const events = effects.merges.flatMap((merge) =>
      merge.entry !== undefined && isMergeEntry(merge.entry) ? [profileMergedEvent(merge.entry)] : [],
    );
    await Promise.all([
      effects.links.length > 0 ? sinks.links.put(effects.links) : undefined,
      events.length > 0 ? sinks.bus.publish(events) : undefined,
    ]);
  };
}
