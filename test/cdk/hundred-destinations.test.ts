import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnResource, type NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MosaicFunction } from '../../lib/constructs/mosaic-function';
import {
  type Destination,
  MAX_DESTINATIONS,
  parseDestinationsConfig,
} from '../../src/core/activation/destination-config';
import { DEFAULT_IDENTITY_CONFIG } from '../../src/core/identity/identity-config';
import { HUNDRED_DESTINATIONS } from './hundred-destinations';
import {
  bundleDirOf,
  exampleConfig,
  logicalIdOf,
  type SynthesizedMosaic,
  startBundle,
  synthMosaic,
  validationReport,
} from './support';

/** CloudFormation's quotas for one stack (a nested stack is a stack of its own). */
const MAX_RESOURCES = 500;
const MAX_OUTPUTS = 200;
const MAX_PARAMETERS = 200;
const MAX_TEMPLATE_BYTES = 1_000_000;

type Resource = { Type: string; Properties: Record<string, unknown> };
type TemplateJson = {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
};

let m: SynthesizedMosaic;
const configured = parseDestinationsConfig(HUNDRED_DESTINATIONS);

beforeAll(() => {
  // As `cdk synth` runs it: cdk-nag, the house-function Aspect and CloudFormation's template checks.
  m = synthMosaic({ ...exampleConfig(), destinations: HUNDRED_DESTINATIONS });
});

const templateOf = (stack: Stack) => Template.fromStack(stack).toJSON() as TemplateJson;
/** The template file `cdk deploy` uploads, as written. */
const templateBytes = (stack: Stack) => statSync(join(m.assembly.directory, stack.templateFile)).size;
const functionProps = (fn: MosaicFunction) =>
  (templateOf(Stack.of(fn)).Resources[logicalIdOf(fn.function)] as Resource).Properties;
const bundleOf = (fn: MosaicFunction) =>
  readFileSync(join(bundleDirOf(m.assembly.directory, functionProps(fn)), 'index.mjs'), 'utf8');
const variablesOf = (fn: MosaicFunction) =>
  (functionProps(fn).Environment as { Variables: Record<string, unknown> }).Variables;
/** What identifies a destination in its configuration: its name and its target. */
const markersOf = (d: Destination) => [
  d.name,
  d.kind === 'webhook' ? d.url : d.kind === 'sqs' ? d.queue : d.kind === 'lambda' ? d.functionArn : d.prefix,
];
/** A delivery function's environment names its own destination (`DESTINATION_NAME`). */
const ownName = (fn: MosaicFunction) =>
  m.stack.activation.deliveries.find((d) => d.function === fn)?.destination.name;

describe(`the Mosaic stack with ${MAX_DESTINATIONS} destinations, as large deployments configure them`, () => {
  it('is the most the configuration allows, over 100 KiB of it: far past Lambda’s 4 KB of environment', () => {
    expect(configured.destinations).toHaveLength(MAX_DESTINATIONS);
    expect(JSON.stringify(configured).length).toBeGreaterThan(100 * 1024);
  });

  it('synthesizes with a delivery for each destination, each in a nested stack of its own', () => {
    const { deliveries } = m.stack.activation;
    expect(deliveries.map((d) => d.destination.name)).toEqual(configured.destinations.map((d) => d.name));
    const stacks = new Set(deliveries.map((d) => Stack.of(d)));
    expect(stacks.size).toBe(MAX_DESTINATIONS);
    for (const stack of stacks) expect(stack.nestedStackParent).toBe(m.stack);
    expect(Object.keys(m.template.findResources('AWS::CloudFormation::Stack'))).toHaveLength(
      MAX_DESTINATIONS,
    );
  });

  it('reports no finding: cdk-nag, the house-function Aspect, CloudFormation’s template checks', () => {
    expect(validationReport(m.assembly).pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });

  it('keeps the Mosaic stack and every nested stack within CloudFormation’s quotas, with room to spare', () => {
    const parent = templateOf(m.stack);
    expect(Object.keys(parent.Resources).length).toBeLessThan(MAX_RESOURCES * 0.6);
    expect(Object.keys(parent.Outputs ?? {}).length).toBeLessThanOrEqual(MAX_OUTPUTS);
    expect(templateBytes(m.stack)).toBeLessThan(MAX_TEMPLATE_BYTES * 0.75);
    for (const d of m.stack.activation.deliveries) {
      const nested = Stack.of(d) as NestedStack;
      const template = templateOf(nested);
      expect(Object.keys(template.Resources).length).toBeLessThan(50);
      expect(Object.keys(template.Parameters ?? {}).length).toBeLessThan(MAX_PARAMETERS / 4);
      expect(templateBytes(nested)).toBeLessThan(MAX_TEMPLATE_BYTES / 20);
      // A nested stack adds one resource and one output (its queues) to the Mosaic stack.
      expect(parent.Resources[logicalIdOf(nested.nestedStackResource as CfnResource)]?.Type).toBe(
        'AWS::CloudFormation::Stack',
      );
    }
  });

  it('compiles the whole destinations configuration into the bundles of the Segments API, the Destinations API and every delivery', () => {
    const readers = [
      m.stack.segmentsApi.function,
      m.stack.destinationsApi.function,
      ...m.stack.activation.deliveries.map((d) => d.function),
    ];
    const bundles = new Map<string, string>();
    for (const fn of readers) {
      expect(parseDestinationsConfig(JSON.parse(fn.bundledConfig.MOSAIC_DESTINATIONS as string))).toEqual(
        configured,
      );
      const variables = JSON.stringify(variablesOf(fn));
      expect(variables.length, fn.node.path).toBeLessThan(2048);
      const code = bundles.get(JSON.stringify(functionProps(fn).Code)) ?? bundleOf(fn);
      bundles.set(JSON.stringify(functionProps(fn).Code), code);
      for (const destination of configured.destinations) {
        for (const marker of markersOf(destination)) {
          if (marker !== ownName(fn)) expect(variables, fn.node.path).not.toContain(marker);
          expect(code.includes(marker), `${marker} in the bundle of ${fn.node.path}`).toBe(true);
        }
      }
    }
    // One bundle for the Segments API, one for the Destinations API, one for all deliveries.
    expect(bundles.size).toBe(3);
  });

  it('compiles the identity configuration into the bundle of every function that resolves identifiers', () => {
    const readers = [
      m.stack.resolver.function,
      m.stack.profileApi.function,
      m.stack.segmentsApi.function,
      m.stack.destinationsApi.function,
      ...m.stack.activation.deliveries.map((d) => d.function),
    ];
    for (const fn of readers) {
      expect(JSON.parse(fn.bundledConfig.MOSAIC_IDENTITY as string), fn.node.path).toEqual(
        DEFAULT_IDENTITY_CONFIG,
      );
      expect(Object.keys(variablesOf(fn))).not.toContain('MOSAIC_IDENTITY');
    }
  });

  it('each delivery function finds its own destination in its bundle, with only resource names in its environment', () => {
    const deliveries = m.stack.activation.deliveries;
    for (const d of deliveries) expect(variablesOf(d.function).DESTINATION_NAME).toBe(d.destination.name);
    const last = deliveries[deliveries.length - 1];
    if (last === undefined) throw new Error('no delivery');
    const bundleDir = bundleDirOf(m.assembly.directory, functionProps(last.function));
    const env = {
      AWS_REGION: 'eu-west-1',
      DESTINATION_NAME: last.destination.name,
      IDENTITY_TABLE_NAME: 'identity',
      SEGMENTS_TABLE_NAME: 'segments',
      LEDGER_TABLE_NAME: 'ledger',
      DELIVERY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/queue',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/queue-dlq',
      ATHENA_WORKGROUP: 'mosaic',
      GLUE_DATABASE: 'mosaic',
      PAYLOAD_BUCKET: 'mosaic-payloads',
    };
    const started = startBundle(bundleDir, env);
    expect(started.stdout, started.stderr).toBe('started');
    expect(started.status).toBe(0);
    const unknown = startBundle(bundleDir, { ...env, DESTINATION_NAME: 'not-configured' });
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain(
      'DESTINATION_NAME: "not-configured" is not a destination of MOSAIC_DESTINATIONS',
    );
  });
});
