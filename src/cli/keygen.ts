import { randomBytes } from 'node:crypto';
import { hashWriteKey } from '../core/collector/write-keys';

// `npm run keygen`: a new write key for a source, and the SHA-256 to put in the configuration.
// Only the hash is configured or stored; the key itself goes to the SDK and nowhere else.
const key = randomBytes(24).toString('base64url');
process.stdout.write(
  `write key (give it to the SDK):      ${key}\n` +
    `sha256 (put it in cdk.json sources): ${hashWriteKey(key)}\n`,
);
