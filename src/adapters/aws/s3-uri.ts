/** An S3 location: a bucket and a key (a folder's key ends with `/`; the bucket's root is `''`). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** Bucket names as S3 allows them today: 3–63 lower-case letters, digits, dots and hyphens. */
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/s;

/**
 * Splits `s3://bucket/key` into its bucket and key (`s3://bucket` and `s3://bucket/` → key `''`).
 * Throws `RangeError` for anything else, naming the text.
 */
export function parseS3Uri(uri: string): S3Location {
  const match = S3_URI.exec(uri);
  if (match === null) throw new RangeError(`not an s3://bucket/key URI: ${JSON.stringify(uri)}`);
  return { bucket: match[1] as string, key: match[2] ?? '' };
}
