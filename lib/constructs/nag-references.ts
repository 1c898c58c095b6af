import { type CfnResource, Names, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * How cdk-nag writes an attribute of `resource` (`Arn`) in a finding on a resource of `holder`'s
 * stack, for acknowledging the finding by its exact id: `<LogicalId.Arn>` in the stack that defines
 * the resource; in a nested stack of that stack, which receives the value as a parameter CDK names
 * `reference-to-{unique id}{attribute}`, `<referenceto{unique id}{attribute}>`.
 */
export function nagAttributeRef(holder: IConstruct, resource: CfnResource, attribute: string): string {
  const stack = Stack.of(holder);
  const owner = Stack.of(resource);
  if (stack === owner) return `<${owner.getLogicalId(resource)}.${attribute}>`;
  if (stack.nestedStackParent === owner)
    return `<referenceto${Names.nodeUniqueId(resource.node)}${attribute}>`;
  throw new Error(
    `${holder.node.path}: ${resource.node.path} is neither in its stack nor in that stack's parent`,
  );
}
