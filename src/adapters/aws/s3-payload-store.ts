import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PayloadTransport } from '../../core/activation/delivery-plan';

/**
 * Writes the S3 object of a payload that travels as a pointer (`planPayloadTransport`): the full
 * payload as JSON at `payloads/<exportId>/<destination>/<batch>.json` in the payload bucket (`payloadPointerKey`), with its
 * SHA-256 checked by S3 on arrival. Throws the SDK's error (the sender maps it to an outcome).
 */
export async function putPayloadObject(
  s3: S3Client,
  plan: Extract<PayloadTransport, { transport: 's3_pointer' }>,
): Promise<void> {
  const body = Buffer.from(plan.object.body, 'utf8');
  await s3.send(
    new PutObjectCommand({
      Bucket: plan.object.bucket,
      Key: plan.object.key,
      Body: body,
      ContentType: 'application/json',
      ContentLength: body.byteLength,
      ChecksumAlgorithm: 'SHA256',
    }),
  );
}
