/**
 * An SQS queue's URL from its ARN (`arn:aws:sqs:region:account:name`) or URL (returned as it is):
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` (`.amazonaws.com.cn` in the China partition).
 */
export function sqsQueueUrl(queue: string): string {
  if (!queue.startsWith('arn:')) return queue;
  const parts = queue.split(':');
  const [, partition, service, region, account, name] = parts;
  if (parts.length !== 6 || service !== 'sqs' || !region || !account || !name) {
    throw new RangeError('not an SQS queue ARN');
  }
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${suffix}/${account}/${name}`;
}

/** Whether a queue (URL or ARN) is a FIFO queue (its name ends in `.fifo`). */
export function isFifoQueue(queue: string): boolean {
  return queue.endsWith('.fifo');
}
