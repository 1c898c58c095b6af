import { Capture } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RETRYABLE } from '../../lib/constructs/audience-export-workflow';
import { AudienceExportCompletedDetail } from '../../src/core/events/bus-events';
import {
  actionsOf,
  arnOf,
  logicalIdOf,
  type PolicyStatementJson,
  refOf,
  resourcesOf,
  type SynthesizedMosaic,
  statementsOfRole,
  synthMosaic,
} from './support';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type Construct = Parameters<typeof logicalIdOf>[0];

/** The UUID at the end of the stack's id: unique to each deployment of a stack. */
const STACK_UUID = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
const LOG_GROUP_NAME = {
  'Fn::Join': ['', ['/aws/vendedlogs/states/Mosaic-audience-export-', STACK_UUID]],
};

interface State {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Arguments?: Record<string, unknown>;
  readonly Output?: unknown;
  readonly Assign?: Record<string, string>;
  readonly Choices?: ReadonlyArray<{ readonly Condition: string; readonly Next: string }>;
  readonly Default?: string;
  readonly Retry?: ReadonlyArray<{ readonly ErrorEquals: string[]; readonly MaxAttempts?: number }>;
  readonly Catch?: ReadonlyArray<{
    readonly ErrorEquals: string[];
    readonly Next: string;
    readonly Output?: string;
    readonly Assign?: Record<string, string>;
  }>;
  readonly TimeoutSeconds?: number;
  readonly Error?: string;
  readonly Cause?: string;
}
interface Definition {
  readonly StartAt: string;
  readonly QueryLanguage: string;
  readonly States: Record<string, State>;
}

let m: SynthesizedMosaic;
let resources: Record<string, Resource>;
let definition: Definition;

/** A CloudFormation reference inside the definition, as text: `Ref(Id)`, `GetAtt(Id.Arn)`, `aws`. */
function tokenText(token: unknown): string {
  const value = token as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (value.Ref === 'AWS::Partition') return 'aws';
  if (value.Ref !== undefined) return `Ref(${value.Ref})`;
  if (value['Fn::GetAtt'] !== undefined) return `GetAtt(${value['Fn::GetAtt'].join('.')})`;
  throw new Error(`unexpected token in the definition: ${JSON.stringify(token)}`);
}

beforeAll(() => {
  m = synthMosaic();
  resources = m.template.toJSON().Resources as Record<string, Resource>;
  const captured = new Capture();
  m.template.hasResourceProperties('AWS::StepFunctions::StateMachine', { DefinitionString: captured });
  const parts = (captured.asObject() as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  definition = JSON.parse(
    parts.map((p) => (typeof p === 'string' ? p : tokenText(p))).join(''),
  ) as Definition;
});

const resourceOf = (construct: Construct) => resources[logicalIdOf(construct)] as Resource;
const propsOf = (construct: Construct) => resourceOf(construct).Properties;
const state = (name: string): State => {
  const found = definition.States[name];
  if (found === undefined) throw new Error(`no state "${name}"`);
  return found;
};
const ref = (construct: Construct) => `Ref(${logicalIdOf(construct)})`;
const getAttArn = (construct: Construct) => `GetAtt(${logicalIdOf(construct)}.Arn)`;

/**
 * The states an execution passes through, from StartAt to the end, deciding each Choice as an input
 * with `format` and with or without parameters would: a small reading of the definition, enough to
 * follow its branches (it checks that each Choice's condition says what it is taken for).
 */
function path(input: { format: 'csv' | 'parquet'; withParameters: boolean }): string[] {
  const visited: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    visited.push(name);
    const current = state(name);
    if (current.Type === 'Choice') {
      const [choice] = current.Choices ?? [];
      if (choice === undefined || (current.Choices ?? []).length !== 1)
        throw new Error(`${name}: one choice`);
      let taken: boolean;
      if (/^\{% \$count\(\$states\.input\.queries\.\w+\.parameters\) > 0 %\}$/.test(choice.Condition)) {
        taken = input.withParameters;
      } else if (choice.Condition === "{% $states.input.format = 'csv' %}") {
        taken = input.format === 'csv';
      } else {
        throw new Error(`${name}: unknown condition ${choice.Condition}`);
      }
      name = taken ? choice.Next : current.Default;
    } else {
      name = current.End || current.Type === 'Succeed' || current.Type === 'Fail' ? undefined : current.Next;
    }
  }
  return visited;
}

/** Every string of the definition that is a JSONata expression, with where it is. */
function expressions(value: unknown, at = ''): Array<{ at: string; text: string }> {
  if (typeof value === 'string') {
    return value.startsWith('{%') ? [{ at, text: value }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => expressions(item, `${at}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => expressions(item, `${at}.${key}`));
  }
  return [];
}

/**
 * Why an expression would not parse, as far as its text shows without a JSONata engine: not wrapped
 * in `{% %}`, a double quote (string literals are single-quoted), unbalanced brackets outside string
 * literals, or a regex literal whose end JSONata's tokenizer would not find (it counts brackets in the
 * regex, taking one after a backslash for escaped).
 */
function syntaxProblem(expression: string): string | undefined {
  if (!/^\{%[\s\S]*%\}$/.test(expression)) return 'not {% ... %}';
  const body = expression.slice(2, -2);
  if (body.includes('"')) return 'a double quote';
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const open: string[] = [];
  let previous = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === "'") {
      i++;
      while (i < body.length && body[i] !== "'") i += body[i] === '\\' ? 2 : 1;
    } else if (c === '/' && /[(,:]/.test(previous)) {
      let depth = 0;
      i++;
      for (; i < body.length; i++) {
        const r = body[i] as string;
        const escaped = body[i - 1] === '\\';
        if (r === '/' && depth === 0 && !escaped) break;
        if ('([{'.includes(r) && !escaped) depth++;
        if (')]}'.includes(r) && !escaped) depth--;
      }
      if (i >= body.length) return 'a regex whose end JSONata would not find';
    } else if ('([{'.includes(c)) {
      open.push(c);
    } else if (c in closing) {
      if (open.pop() !== closing[c]) return `an unbalanced ${c}`;
    }
    if (!/\s/.test(c)) previous = c;
  }
  return open.length === 0 ? undefined : `unclosed ${open.join('')}`;
}

const tasks = () => Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
const athenaTasks = () =>
  tasks().filter(([, s]) => s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync');

describe('audience export state machine', () => {
  it('is a STANDARD workflow in JSONata with X-Ray tracing', () => {
    expect(propsOf(m.stack.exportWorkflow.stateMachine)).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      RoleArn: arnOf(m.stack.exportWorkflow.role),
    });
    expect(definition.QueryLanguage).toBe('JSONata');
  });

  it('logs every event, without execution data (query parameters and results may hold personal data)', () => {
    const { logGroup, logKey, stateMachine } = m.stack.exportWorkflow;
    expect(propsOf(stateMachine).LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(logGroup) } }],
    });
    expect(propsOf(logGroup)).toMatchObject({
      LogGroupName: LOG_GROUP_NAME,
      KmsKeyId: arnOf(logKey),
      RetentionInDays: 30,
    });
    expect(propsOf(logKey)).toMatchObject({ EnableKeyRotation: true });
    // CloudWatch Logs may use the key for this log group only.
    const statements = (propsOf(logKey).KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    const forLogs = statements.filter((s) => JSON.stringify(s.Principal).includes('logs.'));
    expect(forLogs).toHaveLength(1);
    expect(forLogs[0]?.Condition).toEqual({
      ArnEquals: {
        'kms:EncryptionContext:aws:logs:arn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':log-group:/aws/vendedlogs/states/Mosaic-audience-export-',
              STACK_UUID,
            ],
          ],
        },
      },
    });
  });

  it('names its log group after this deployment of the stack, so a retained one never blocks the next deployment', () => {
    // The log group outlives `cdk destroy` (removal policy "retain"); a stack of the same name deployed
    // again gets a new stack id, so its log group a new name.
    expect(resourceOf(m.stack.exportWorkflow.logGroup).DeletionPolicy).toBe('Retain');
    expect(propsOf(m.stack.exportWorkflow.logGroup).LogGroupName).toEqual(LOG_GROUP_NAME);
  });

  it('runs the contract’s steps in order: CSV audience (SELECT, then the result file copied), with parameters', () => {
    expect(path({ format: 'csv', withParameters: true })).toEqual([
      'Unload members: parameters?',
      'Unload members',
      'Audience format?',
      'Select audience: parameters?',
      'Select audience',
      'Copy audience CSV',
      'Unload changes: parameters?',
      'Unload changes',
      'Count members: parameters?',
      'Count members',
      'Read counts',
      'Mark export succeeded',
      'Record last export',
      'Publish export completed',
      'Export completed',
    ]);
  });

  it('runs the contract’s steps in order: Parquet audience (UNLOAD), queries without parameters', () => {
    expect(path({ format: 'parquet', withParameters: false })).toEqual([
      'Unload members: parameters?',
      'Unload members (no parameters)',
      'Audience format?',
      'Unload audience: parameters?',
      'Unload audience (no parameters)',
      'Unload changes: parameters?',
      'Unload changes (no parameters)',
      'Count members: parameters?',
      'Count members (no parameters)',
      'Read counts',
      'Mark export succeeded',
      'Record last export',
      'Publish export completed',
      'Export completed',
    ]);
  });

  it.each([
    ['Unload members', 'members'],
    ['Select audience', 'audience'],
    ['Unload audience', 'audience'],
    ['Unload changes', 'changes'],
    ['Count members', 'counts'],
  ])(
    '%s: Athena .sync in the workgroup and the lake database, ExecutionParameters only when there are some',
    (name, query) => {
      const choice = state(`${name}: parameters?`);
      expect(choice.Type).toBe('Choice');
      expect(choice.Choices).toEqual([
        { Condition: `{% $count($states.input.queries.${query}.parameters) > 0 %}`, Next: name },
      ]);
      expect(choice.Default).toBe(`${name} (no parameters)`);
      const common = {
        Type: 'Task',
        Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
        Output: '{% $states.input %}',
        TimeoutSeconds: 3600,
      };
      const args = {
        QueryString: `{% $states.input.queries.${query}.sql %}`,
        WorkGroup: ref(m.stack.athenaWorkgroup.workGroup),
        QueryExecutionContext: { Database: 'mosaic' },
        ClientRequestToken: `{% $hash($states.context.Execution.Id & '/${query}', 'SHA-256') %}`,
      };
      expect(state(name)).toMatchObject({
        ...common,
        Arguments: { ...args, ExecutionParameters: `{% $states.input.queries.${query}.parameters %}` },
      });
      expect(state(`${name} (no parameters)`)).toMatchObject({ ...common, Arguments: args });
      expect(state(`${name} (no parameters)`).Arguments).not.toHaveProperty('ExecutionParameters');
      expect(state(name).Next).toBe(state(`${name} (no parameters)`).Next);
    },
  );

  it('has ten Athena tasks, each query with its own client request token (a retried start is the same query)', () => {
    expect(athenaTasks()).toHaveLength(10);
    const tokens = new Set(athenaTasks().map(([, s]) => s.Arguments?.ClientRequestToken));
    expect(tokens.size).toBe(4);
  });

  it('retries only throttling and service errors, and never an UNLOAD on an error after which it may have written', () => {
    for (const [name, s] of tasks()) {
      for (const retry of s.Retry ?? []) {
        expect(retry.ErrorEquals, name).not.toContain('States.ALL');
        expect(retry.ErrorEquals, name).not.toContain('States.TaskFailed');
        expect(retry.ErrorEquals, name).not.toContain('States.Timeout');
      }
    }
    for (const [name, s] of athenaTasks()) {
      const errors = (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
      if (name.startsWith('Unload')) expect(errors, name).toEqual([...RETRYABLE.athenaThrottled]);
      else expect(errors, name).toEqual([...RETRYABLE.athenaRead]);
    }
    expect(RETRYABLE.athenaThrottled).toEqual(['Athena.TooManyRequestsException']);
  });

  it('catches every error of every step: the export item → FAILED, then the execution fails', () => {
    for (const [name, s] of tasks()) {
      const catchAll = (s.Catch ?? []).at(-1);
      if (name === 'Mark export failed') {
        expect(catchAll).toEqual({ ErrorEquals: ['States.ALL'], Next: 'Export failed' });
        continue;
      }
      expect(catchAll, name).toMatchObject({
        ErrorEquals: ['States.ALL'],
        Next: 'Mark export failed',
        Output: '{% $states.input %}',
        Assign: { failedError: expect.stringContaining('$states.errorOutput.Error') },
      });
      expect(catchAll?.Assign?.failedMessage, name).toMatch(/\$states\.errorOutput\.Cause/);
      expect(catchAll?.Assign?.failedMessage, name).toMatch(/\$substring\(.*, 0, 1000\)/s);
    }
    expect(state('Mark export failed')).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Next: 'Export failed',
      Arguments: {
        TableName: ref(m.stack.segmentsTable.table),
        Key: { pk: { S: "{% 'X#' & $states.input.exportId %}" }, sk: { S: 'X' } },
        UpdateExpression: 'SET #status = :failed, #error = :error, #completedAt = :completedAt',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#completedAt': 'completedAt' },
        ExpressionAttributeValues: {
          ':failed': { S: 'FAILED' },
          ':running': { S: 'RUNNING' },
          ':error': { S: '{% $failedMessage %}' },
          ':completedAt': { S: '{% $now() %}' },
        },
      },
    });
    expect(state('Export failed')).toEqual({
      Type: 'Fail',
      Error: '{% $failedError %}',
      Cause: '{% $failedMessage %}',
    });
  });

  it('CSV: copies the SELECT’s result file from the workgroup’s result location to audienceCsv', () => {
    for (const name of ['Select audience', 'Select audience (no parameters)']) {
      expect(state(name).Assign).toEqual({
        audienceResult: '{% $states.result.QueryExecution.ResultConfiguration.OutputLocation %}',
      });
      expect(state(name).Next).toBe('Copy audience CSV');
    }
    expect(state('Copy audience CSV')).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:s3:copyObject',
      Arguments: {
        Bucket: '{% $states.input.audienceCsv.bucket %}',
        Key: '{% $states.input.audienceCsv.key %}',
        CopySource: "{% $substringAfter($audienceResult, 's3://') %}",
      },
      Output: '{% $states.input %}',
      Next: 'Unload changes: parameters?',
    });
  });

  it('reads the counts row with GetQueryResults: member_count, added, removed as numbers (NULL is 0)', () => {
    for (const name of ['Count members', 'Count members (no parameters)']) {
      expect(state(name).Assign).toEqual({
        countsQueryId: '{% $states.result.QueryExecution.QueryExecutionId %}',
      });
    }
    const read = state('Read counts');
    expect(read).toMatchObject({
      Resource: 'arn:aws:states:::athena:getQueryResults',
      Arguments: { QueryExecutionId: '{% $countsQueryId %}', MaxResults: 2 },
    });
    const counts = read.Assign?.counts ?? '';
    expect(counts).toContain('$states.result.ResultSet.Rows[1].Data');
    expect(counts).toContain('$number($row[$i].VarCharValue)');
    expect(counts).toMatch(/\$exists\(\$row\[\$i\]\.VarCharValue\) \? .* : 0/);
    expect(counts).toMatch(/'count': \$cell\(0\), 'added': \$cell\(1\), 'removed': \$cell\(2\)/);
    expect(read.Assign?.completedAt).toBe('{% $now() %}');
  });

  it('marks the export SUCCEEDED with its counts, only while RUNNING', () => {
    expect(state('Mark export succeeded')).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Arguments: {
        TableName: ref(m.stack.segmentsTable.table),
        Key: { pk: { S: "{% 'X#' & $states.input.exportId %}" }, sk: { S: 'X' } },
        UpdateExpression:
          'SET #status = :succeeded, #count = :count, #added = :added, #removed = :removed, #completedAt = :completedAt',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#count': 'count',
          '#added': 'added',
          '#removed': 'removed',
          '#completedAt': 'completedAt',
        },
        ExpressionAttributeValues: {
          ':succeeded': { S: 'SUCCEEDED' },
          ':running': { S: 'RUNNING' },
          ':count': { N: '{% $string($counts.count) %}' },
          ':added': { N: '{% $string($counts.added) %}' },
          ':removed': { N: '{% $string($counts.removed) %}' },
          ':completedAt': { S: '{% $completedAt %}' },
        },
      },
    });
  });

  it('records the segment’s lastExport unless a later export is there; a failed condition is not an error', () => {
    const record = state('Record last export');
    expect(record).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Next: 'Publish export completed',
      Arguments: {
        TableName: ref(m.stack.segmentsTable.table),
        Key: { pk: { S: 'SEGMENT' }, sk: { S: "{% 'S#' & $states.input.segmentId %}" } },
        UpdateExpression: 'SET lastExport = :lastExport',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(lastExport) OR lastExport.exportId < :exportId)',
        ExpressionAttributeValues: {
          ':exportId': { S: '{% $states.input.exportId %}' },
          ':lastExport': {
            M: {
              exportId: { S: '{% $states.input.exportId %}' },
              completedAt: { S: '{% $completedAt %}' },
              count: { N: '{% $string($counts.count) %}' },
            },
          },
        },
      },
    });
    // The condition failing goes on to publish; the catch-all comes after it.
    expect(record.Catch?.[0]).toEqual({
      ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
      Next: 'Publish export completed',
      Output: '{% $states.input %}',
    });
    expect(record.Catch?.[1]?.ErrorEquals).toEqual(['States.ALL']);
  });

  it('publishes Audience Export Completed v1 on the Mosaic bus with every field of its detail schema', () => {
    const publish = state('Publish export completed');
    expect(publish).toMatchObject({
      Resource: 'arn:aws:states:::events:putEvents',
      Next: 'Export completed',
      Arguments: {
        Entries: [
          {
            EventBusName: getAttArn(m.stack.eventBus.bus),
            Source: 'mosaic',
            DetailType: 'Audience Export Completed',
          },
        ],
      },
    });
    expect(publish.Retry?.flatMap((r) => r.ErrorEquals)).toEqual(['EventBridge.FailedEntry']);
    const [entry] = (publish.Arguments?.Entries ?? []) as Array<{ Detail: string }>;
    const detail = entry?.Detail ?? '';
    expect(detail.startsWith('{% {') && detail.endsWith('} %}')).toBe(true);
    const fields = Object.fromEntries(
      [...detail.matchAll(/'(\w+)': ([^,\n]+)/g)].map((match) => [match[1], match[2]?.trim()]),
    );
    expect(Object.keys(fields).sort()).toEqual(Object.keys(AudienceExportCompletedDetail.shape).sort());
    expect(fields).toEqual({
      version: '1',
      exportId: '$states.input.exportId',
      segmentId: '$states.input.segmentId',
      segmentVersion: '$states.input.segmentVersion',
      // Absent in the input → undefined → left out of the object by JSONata.
      destination: '$states.input.destination',
      format: '$states.input.format',
      count: '$counts.count',
      added: '$counts.added',
      removed: '$counts.removed',
      previousExportId: '$states.input.previousExportId',
      audienceLocation: '$states.input.audienceLocation',
      changesLocation: '$states.input.changesLocation',
      membersLocation: '$states.input.membersLocation',
      completedAt: '$completedAt',
    });
    expect(state('Export completed').Type).toBe('Succeed');
  });

  it('every JSONata expression is well formed as far as its text shows (brackets, quotes, regex ends)', () => {
    const found = expressions(definition.States);
    expect(found.length).toBeGreaterThan(50);
    expect(
      found
        .filter((e) => syntaxProblem(e.text) !== undefined)
        .map((e) => `${e.at}: ${syntaxProblem(e.text)}`),
    ).toEqual([]);
    // The checker itself catches what it is for.
    expect(syntaxProblem('{% $match($c, /a[^\\x22\\\\]b/) %}')).toMatch(/regex/);
    expect(syntaxProblem('{% ($a := 1; $b := [1, 2) %}')).toMatch(/unbalanced|unclosed/);
    expect(syntaxProblem('{% "double" %}')).toBe('a double quote');
    expect(syntaxProblem('{% $match($c, /a[^\\x22\\x5c]b/)[0] %}')).toBeUndefined();
  });

  it('every task passes the execution input on, so every step reads the contract’s fields', () => {
    for (const [name, s] of tasks()) {
      if (name === 'Mark export failed' || name === 'Publish export completed') continue;
      expect(s.Output, name).toBe('{% $states.input %}');
    }
  });
});

describe('audience export workflow role (least privilege)', () => {
  const roleId = () => logicalIdOf(m.stack.exportWorkflow.role);
  const statements = () => statementsOfRole(m.template, roleId());
  const resourcesFor = (action: string) =>
    statements()
      .filter((s: PolicyStatementJson) => actionsOf(s).includes(action))
      .flatMap(resourcesOf);
  const objectArn = (bucket: Construct, prefix: string) => ({
    'Fn::Join': ['', [arnOf(bucket), `/${prefix}*`]],
  });

  it('can be assumed only by Step Functions for this account', () => {
    expect(
      (resources[roleId()] as Resource).Properties.AssumeRolePolicyDocument as { Statement: unknown[] },
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
  });

  it('holds only its inline policy: nothing the Step Functions tasks would add by themselves', () => {
    const attached = Object.values(m.template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId()),
    );
    expect(attached).toEqual([]);
    const actions = statements().flatMap(actionsOf);
    for (const never of [
      'lakeformation:GetDataAccess',
      's3:CreateBucket',
      'glue:CreateTable',
      'glue:DeleteTable',
      'glue:DeleteDatabase',
      'glue:UpdateTable',
      'glue:BatchCreatePartition',
      's3:DeleteObject',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]) {
      expect(actions).not.toContain(never);
    }
    for (const action of actions) expect(action).not.toContain('*');
  });

  it('uses "*" only for log delivery and X-Ray, which have no resource-level permissions', () => {
    for (const statement of statements().filter((s) => resourcesOf(s).includes('*'))) {
      expect(actionsOf(statement).every((a) => a.startsWith('xray:') || a.startsWith('logs:'))).toBe(true);
    }
  });

  it('Athena on the workgroup only; the catalog read-only, the three tables by name', () => {
    const workGroup = JSON.stringify(resourcesFor('athena:StartQueryExecution'));
    expect(JSON.parse(workGroup)).toHaveLength(1);
    expect(workGroup).toContain(':workgroup/');
    expect(workGroup).toContain(logicalIdOf(m.stack.athenaWorkgroup.workGroup));
    for (const action of [
      'athena:GetQueryExecution',
      'athena:StopQueryExecution',
      'athena:GetQueryResults',
    ]) {
      expect(JSON.stringify(resourcesFor(action))).toBe(workGroup);
    }
    const glue = statements().filter((s) => actionsOf(s).some((a) => a.startsWith('glue:')));
    expect(glue.flatMap(actionsOf).sort()).toEqual([
      'glue:GetDatabase',
      'glue:GetPartitions',
      'glue:GetTable',
    ]);
    const tables = JSON.stringify(glue.flatMap(resourcesOf));
    for (const table of ['events', 'identity_links', 'export_members']) {
      expect(tables).toContain(`:table/mosaic/${table}"`);
    }
    expect(tables).not.toContain('*');
  });

  it('reads events/ and identity_links/ of the lake; writes only exports/ and Athena results', () => {
    const { lake, athenaWorkgroup, audienceExports } = m.stack;
    expect(resourcesFor('s3:GetObject')).toEqual(
      expect.arrayContaining([
        objectArn(lake.bucket, 'events/'),
        objectArn(lake.bucket, 'identity_links/'),
        objectArn(audienceExports.bucket, 'exports/'),
        objectArn(athenaWorkgroup.resultsBucket, 'results/'),
      ]),
    );
    expect(resourcesFor('s3:PutObject')).toHaveLength(2);
    expect(resourcesFor('s3:PutObject')).toEqual(
      expect.arrayContaining([
        objectArn(audienceExports.bucket, 'exports/'),
        objectArn(athenaWorkgroup.resultsBucket, 'results/'),
      ]),
    );
    expect(JSON.stringify(resourcesFor('s3:PutObject'))).not.toContain(logicalIdOf(lake.bucket));
  });

  it('updates items of the segments table only, publishes to the Mosaic bus only', () => {
    expect(resourcesFor('dynamodb:UpdateItem')).toEqual([arnOf(m.stack.segmentsTable.table)]);
    expect(
      statements()
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('dynamodb:')),
    ).toEqual(['dynamodb:UpdateItem']);
    expect(resourcesFor('events:PutEvents')).toEqual([arnOf(m.stack.eventBus.bus)]);
  });

  it('uses each key only through its service: the lake key to read, the workgroup key to read and write', () => {
    const keys = statements().filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    for (const statement of keys) expect(JSON.stringify(statement.Condition)).toContain('kms:ViaService');
    expect(resourcesFor('kms:Decrypt')).toEqual(
      expect.arrayContaining([
        arnOf(m.stack.lake.encryptionKey),
        arnOf(m.stack.athenaWorkgroup.encryptionKey),
        arnOf(m.stack.segmentsTable.encryptionKey),
      ]),
    );
    expect(resourcesFor('kms:GenerateDataKey')).not.toContainEqual(arnOf(m.stack.lake.encryptionKey));
    expect(resourcesFor('kms:GenerateDataKey')).toEqual(
      expect.arrayContaining([arnOf(m.stack.athenaWorkgroup.encryptionKey)]),
    );
  });

  it('the Segments API may start executions of this state machine', () => {
    const api = statementsOfRole(m.template, logicalIdOf(m.stack.segmentsApi.function.role));
    expect(api.filter((s) => actionsOf(s).includes('states:StartExecution')).flatMap(resourcesOf)).toEqual([
      refOf(m.stack.exportWorkflow.stateMachine),
    ]);
  });
});
