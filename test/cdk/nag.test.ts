import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMosaicApp } from '../../lib/app';
import type { MosaicStack } from '../../lib/stacks/mosaic-stack';
import { SAMPLE_DESTINATIONS } from './sample-destinations';
import {
  acknowledgements,
  cdkJsonContext,
  exampleConfig,
  type SynthesizedMosaic,
  synthMosaic,
  testAppProps,
  validationReport,
} from './support';

const NAG_PLUGINS = ['AwsSolutions', 'Serverless'];

let m: SynthesizedMosaic;

beforeAll(() => {
  // The example configuration with destinations of every kind, so every activation resource (rules,
  // queues, delivery functions, alarms) is checked too. Throws if any plugin reports an error.
  m = synthMosaic({ ...exampleConfig(), destinations: SAMPLE_DESTINATIONS });
});

/**
 * Every finding of a pack with acknowledgements ignored. cdk-nag 3 leaves acknowledged findings out of
 * its report entirely, so this is the only way to see what each acknowledgement covers. (It swaps out
 * the pack's private acknowledgement check, an implementation detail of cdk-nag 3.)
 */
function findingsIgnoringAcknowledgements(pack: NagPack, scope: Parameters<NagPack['validateScope']>[0]) {
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return pack.validateScope(scope).violations;
}

describe('cdk-nag (AwsSolutions and Serverless packs)', () => {
  it('reports no unacknowledged finding, errors and warnings alike', () => {
    const reports = validationReport(m.assembly).pluginReports.filter((r) =>
      NAG_PLUGINS.includes(r.summary.pluginName),
    );
    expect(
      reports.flatMap((r) =>
        r.violations.map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath)}`),
      ),
    ).toEqual([]);
  });

  it('reports nothing else either (construct annotations, CloudFormation validation)', () => {
    expect(validationReport(m.assembly).pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });

  it('every acknowledgement names a rule and gives a specific reason', () => {
    const acks = acknowledgements(m.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(ack.reason.trim().length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('every acknowledgement covers a finding that would otherwise be reported (none is stale)', () => {
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      findingsIgnoringAcknowledgements(pack, m.app),
    );
    for (const ack of acknowledgements(m.app)) {
      const covered = findings.some(
        (f) =>
          f.ruleName === ack.id &&
          f.violatingResources.some(
            (r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`),
          ),
      );
      expect(covered, `${ack.id} acknowledged at ${ack.path} covers no finding`).toBe(true);
    }
  });

  it.each([
    ['a function', (stack: MosaicStack) => stack.segmentsApi.function.role],
    ['the export workflow', (stack: MosaicStack) => stack.exportWorkflow.role],
  ])(
    'reports a new grant on "*" to the role of %s: only X-Ray and log delivery are acknowledged',
    (_, roleOf) => {
      // Without bundling: only the template is checked.
      const { app, stack } = createMosaicApp(
        testAppProps({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] }),
      );
      roleOf(stack).addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
      );
      expect(() => app.synth()).toThrow(/DefaultPolicy\/Resource[\s\S]*AwsSolutions-IAM5\[Resource::\*\]/);
    },
  );

  it('is wired into synth: an unacknowledged finding fails it', () => {
    const { app, stack } = createMosaicApp(testAppProps());
    new s3.Bucket(Stack.of(stack), 'CarelessBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
