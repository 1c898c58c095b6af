import { ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { Destination } from '../../src/core/activation/destination-config';

/** `https://sqs.{region}.amazonaws.com[.cn]/{account}/{name}` */
const QUEUE_URL = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([A-Za-z0-9_.-]+)$/;

/**
 * The ARN of a destination's target queue, from the ARN or URL the configuration holds. A URL names
 * the region, the account and the queue; the partition is the stack's (a queue in another partition
 * is out of reach anyway).
 */
export function targetQueueArn(queue: string): string {
  if (queue.startsWith('arn:')) return queue;
  const match = QUEUE_URL.exec(queue);
  if (match === null) throw new Error(`Not an SQS queue ARN or URL: ${queue}`);
  const [, region, account, name] = match;
  return `arn:${Aws.PARTITION}:sqs:${region}:${account}:${name}`;
}

/**
 * The ARN a secret reference stands for: an ARN as it is, a name as the ARNs of that name (Secrets
 * Manager appends `-` and six random characters to a secret's name in its ARN).
 */
export function secretArnOf(scope: IConstruct, secretRef: string): string {
  if (secretRef.startsWith('arn:')) return secretRef;
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretRef}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The secrets a destination reads: its auth secret and its signing secret, where it has them. */
export function secretRefsOf(destination: Destination): string[] {
  if (destination.kind !== 'webhook') return [];
  const refs = [
    ...(destination.auth.type === 'none' ? [] : [destination.auth.secretRef]),
    ...(destination.signingSecretRef === undefined ? [] : [destination.signingSecretRef]),
  ];
  return [...new Set(refs)];
}

/**
 * What sending to `destination` takes, and nothing more: `sqs:SendMessage` on its queue,
 * `lambda:InvokeFunction` on its function, `s3:PutObject` under its bucket and prefix, and
 * `secretsmanager:GetSecretValue` on each secret it names. A webhook is called over HTTPS by the
 * function itself and needs no AWS permission besides its secrets.
 *
 * A target encrypted with a customer managed key (queue, bucket, secret) also needs that key's policy
 * to let the sender use it: the key is not Mosaic's, so it is not granted here.
 */
export function destinationSendStatements(
  scope: IConstruct,
  destination: Destination,
): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  switch (destination.kind) {
    case 'sqs':
      statements.push(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [targetQueueArn(destination.queue)],
        }),
      );
      break;
    case 'lambda':
      statements.push(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [destination.functionArn] }),
      );
      break;
    case 's3':
      statements.push(
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [s3TargetObjects(destination)] }),
      );
      break;
    case 'webhook':
      break;
  }
  const secrets = secretRefsOf(destination).map((ref) => secretArnOf(scope, ref));
  if (secrets.length > 0) {
    statements.push(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets }),
    );
  }
  return statements;
}

/** Adds {@link destinationSendStatements} to `role` and acknowledges the one wildcard they may hold. */
export function grantDestinationSend(role: iam.IRole, destination: Destination): void {
  for (const statement of destinationSendStatements(role, destination)) role.addToPrincipalPolicy(statement);
  if (destination.kind === 's3') {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${destination.bucket}/${destination.prefix}*]`,
      reason: `Destination "${destination.name}" writes files with generated names (export, batch) under its configured prefix, so s3:PutObject (no read, no delete) is granted on that prefix of that bucket only.`,
    });
  }
}

function s3TargetObjects(destination: Extract<Destination, { kind: 's3' }>): string {
  return `arn:${Aws.PARTITION}:s3:::${destination.bucket}/${destination.prefix}*`;
}
