import { createHash } from 'node:crypto';
import type { StreamRecord } from '../events/stream-record';

type MessageIdentity = Pick<StreamRecord, 'source' | 'messageId'>;

const digest = (domain: string, message: MessageIdentity): string =>
  createHash('sha256')
    .update(`${domain}\u0000${message.source}\u0000${message.messageId}`, 'utf8')
    .digest('hex');

/**
 * A message's idempotency key, `(source, messageId)`, as 16 hex characters (64 bits of SHA-256). A
 * profile keeps these rather than the ids themselves (fixed size, no PII); two different messages of
 * one profile sharing a key is a 1-in-10^16 event per pair.
 */
export function messageKey(message: MessageIdentity): string {
  return digest('message', message).slice(0, 16);
}

/**
 * The id of a profile created by this message: `p_` and 32 hex characters derived from
 * `(source, messageId)`. Deriving it instead of drawing a random one makes creation idempotent: a
 * resolver that crashed after creating the profile and handles the message again plans the same id.
 */
export function profileIdFor(message: MessageIdentity): string {
  return `p_${digest('profile', message).slice(0, 32)}`;
}

/**
 * The id of a ledger entry: the message key and a digest of what the entry says, so writing the
 * entries of a re-planned message again (with "put if absent") never duplicates one, while a plan that
 * changed because the graph changed writes its own entries.
 */
export function ledgerEntryId(message: MessageIdentity, content: string): string {
  const entry = createHash('sha256').update(content, 'utf8').digest('hex').slice(0, 16);
  return `${messageKey(message)}-${entry}`;
}
