import { createHash } from 'node:crypto';
import type { StreamRecord } from '../events/stream-record';
import { compareStrings, type Identifier, identifierKey } from './identifier';

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
 * `(source, messageId)` and the message's identifiers (in any order, repeats ignored). Deriving it
 * instead of drawing a random one makes creation idempotent: a resolver that crashed after creating
 * the profile and handles the message again plans the same id.
 *
 * The identifiers are part of it because a `messageId` is only as unique as the client that made it:
 * a buggy client, or two clients generating colliding ids, can send two different messages with the
 * same one. Derived from `(source, messageId)` alone, the second — about someone else — would plan the
 * first one's profile, find it "already created" and continue on it, attaching its identifiers there.
 * A redelivery of a message (the stream's, or an SDK's retry, which the collector stamps with another
 * `receivedAt` and `timestamp`) carries the same identifiers, so it still plans the same id.
 */
export function profileIdFor(message: MessageIdentity, identifiers: readonly Identifier[]): string {
  const keys = [...new Set(identifiers.map(identifierKey))].sort(compareStrings);
  // JSON keeps the parts apart whatever characters the ids hold.
  const named = JSON.stringify([message.source, message.messageId, keys]);
  return `p_${createHash('sha256').update(`profile\u0000${named}`, 'utf8').digest('hex').slice(0, 32)}`;
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
