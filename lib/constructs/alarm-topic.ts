import { ArnFormat, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** An existing SNS topic to notify instead of creating one (it must accept CloudWatch alarms). */
  readonly topicArn?: string;
  /** What happens to a created topic's key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where Mosaic's operational alarms notify: the configured SNS topic, or one created here, encrypted
 * with its own customer managed key (rotated yearly; CloudWatch cannot publish to a topic under the AWS
 * managed SNS key), accepting publishes over TLS only, and only from this account's CloudWatch alarms
 * (`aws:SourceAccount` and `aws:SourceArn`, on the topic's policy and on CloudWatch's use of the key).
 * Subscribe to it (e-mail, chat, paging) after deploying.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  /** Whether the topic was created here (false when the configuration names one). */
  public readonly created: boolean;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    if (props.topicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.topicArn);
      this.created = false;
      return;
    }
    const stack = Stack.of(this);
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // CloudWatch acts only for this account's alarms (in this region), on the key as on the topic, so
    // no other account's alarm can use either (the confused deputy).
    const fromThisAccountsAlarms = {
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };

    const key = new kms.Key(this, 'Key', {
      description: 'Mosaic alarm topic encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch encrypts the notification with the topic's key when it publishes.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromThisAccountsAlarms,
      }),
    );

    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Mosaic alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one, so CloudWatch alarms must be let in explicitly.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    this.topic = topic;
    this.created = true;
  }
}
