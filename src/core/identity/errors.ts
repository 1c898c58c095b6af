import { MosaicError } from '../errors';

/**
 * The identity core was called against its contract (identifiers of a type the configuration does
 * not know, a merge in the wrong direction): a bug in the caller, never a problem of the data. Not
 * retryable: the same call fails the same way.
 */
export class IdentityInvariantError extends MosaicError {
  readonly statusCode = 500;
  readonly code = 'identity_invariant';
}
