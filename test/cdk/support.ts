import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type App, type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { createMosaicApp, type MosaicApp } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/constructs/mosaic-function';

/** The `context` of cdk.json: feature flags and the example `mosaic` configuration. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** The example `mosaic` configuration from cdk.json. */
export function exampleConfig(): Record<string, unknown> {
  return cdkJsonContext().mosaic as Record<string, unknown>;
}

/**
 * Props for apps a test builds itself: the cdk.json context, a fresh output directory (never the
 * project's cdk.out), and without CloudFormation's built-in template validation, which takes seconds
 * per synth and is exercised by the tests that synthesize the real app.
 */
export function testAppProps(context: Record<string, unknown> = cdkJsonContext()) {
  return { outdir: tempOutdir(), context, builtinCloudFormationValidation: false };
}

/** A fresh output directory, so tests never write into the project's cdk.out. */
export function tempOutdir(): string {
  return mkdtempSync(join(tmpdir(), 'mosaic-cdk-test-'));
}

export interface SynthesizedMosaic extends MosaicApp {
  readonly assembly: CloudAssembly;
  readonly template: Template;
}

/**
 * The real app (same wiring as bin/mosaic.ts, context from cdk.json), with `mosaic` replaced when
 * given, synthesized once: validation (cdk-nag, the house-function Aspect, CloudFormation's template
 * checks unless turned off) runs as in `cdk synth`.
 */
export function synthMosaic(
  mosaic: unknown = exampleConfig(),
  options: { readonly cloudFormationValidation?: boolean } = {},
): SynthesizedMosaic {
  const built = createMosaicApp({
    outdir: tempOutdir(),
    context: { ...cdkJsonContext(), mosaic },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
  });
  const assembly = built.app.synth();
  return { ...built, assembly, template: Template.fromStack(built.stack) };
}

/** The validation report `cdk synth` writes next to the templates. */
export interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly summary: { readonly pluginName: string; readonly status: string };
    readonly violations: ReadonlyArray<{
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs: ReadonlyArray<{ readonly constructPath?: string }>;
    }>;
  }>;
}

export function validationReport(assembly: CloudAssembly): ValidationReport {
  return JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
}

/** Every `Validations.of(x).acknowledge(...)` in the tree: where, which rule, why. */
export function acknowledgements(app: App): Array<{ path: string; id: string; reason: string }> {
  const found: Array<{ path: string; id: string; reason: string }> = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
    for (const child of construct.node.children) visit(child);
  };
  visit(app);
  return found;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  return Stack.of(construct).getLogicalId(resource);
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` */
export const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalIdOf(construct), 'Arn'] });
/** `{ Ref: id }` */
export const refOf = (construct: IConstruct) => ({ Ref: logicalIdOf(construct) });

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every inline or attached policy of a role (by logical id) in a template. */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const statements: PolicyStatementJson[] = [];
  const role = template.toJSON().Resources[roleLogicalId] as {
    Properties: { Policies?: Array<{ PolicyDocument: { Statement: PolicyStatementJson[] } }> };
  };
  for (const policy of role.Properties.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { Roles: unknown[]; PolicyDocument: { Statement: PolicyStatementJson[] } } }
  >;
  for (const policy of Object.values(policies)) {
    if (policy.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  return statements;
}

export const actionsOf = (statement: PolicyStatementJson): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: PolicyStatementJson): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** Values of CloudFormation's pseudo parameters, for {@link evaluateIntrinsics}. */
export interface PseudoParameters {
  readonly 'AWS::StackId': string;
  readonly 'AWS::Partition'?: string;
  readonly 'AWS::Region'?: string;
  readonly 'AWS::AccountId'?: string;
}

/**
 * What CloudFormation makes of a template value built from `Fn::Join`, `Fn::Select`, `Fn::Split` and
 * pseudo parameters, in a stack with the given id: names and ARNs computed at deploy time.
 */
export function evaluateIntrinsics(value: unknown, pseudo: PseudoParameters): unknown {
  const parameters: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': 'eu-west-1',
    'AWS::AccountId': '123456789012',
    ...pseudo,
  };
  const evaluate = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    if (Array.isArray(node)) return node.map(evaluate);
    const [[fn, args]] = Object.entries(node) as [[string, unknown]];
    switch (fn) {
      case 'Ref': {
        const found = parameters[args as string];
        if (found === undefined) throw new Error(`No value for { Ref: ${String(args)} }`);
        return found;
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown[]];
        return (evaluate(parts) as string[]).join(separator);
      }
      case 'Fn::Split': {
        const [separator, text] = args as [string, unknown];
        return (evaluate(text) as string).split(separator);
      }
      case 'Fn::Select': {
        const [index, list] = args as [number | string, unknown];
        return (evaluate(list) as unknown[])[Number(index)];
      }
      default:
        throw new Error(`Cannot evaluate ${fn}`);
    }
  };
  return evaluate(value);
}

/** The folder of a function's bundle (its asset) in the cloud assembly at `outdir`. */
export function bundleDirOf(outdir: string, functionProperties: Record<string, unknown>): string {
  const key = (functionProperties.Code as { S3Key: string }).S3Key;
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/**
 * A function's bundle started as Lambda starts it, in a fresh Node process whose environment is
 * `env` and nothing else: its module imported (the cold start), then, with `invoke`, its handler
 * called without an event. Whatever the handler returned is printed as JSON.
 */
export function startBundle(
  bundleDir: string,
  env: Record<string, string>,
  options: { readonly invoke?: boolean } = {},
): { readonly status: number | null; readonly stdout: string; readonly stderr: string } {
  const script = options.invoke
    ? 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(await m.handler()));'
    : "await import(process.argv[1]); process.stdout.write('started');";
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', script, pathToFileURL(join(bundleDir, 'index.mjs')).href],
    { env, encoding: 'utf8' },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
