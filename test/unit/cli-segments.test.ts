import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { followPath } from '../../src/cli/api-client';
import type { CliIo } from '../../src/cli/context';
import { EXIT } from '../../src/cli/failures';
import { createProgress, formatDuration, PROGRESS_LINE_EVERY_MS } from '../../src/cli/jobs';
import { run } from '../../src/cli/mosaic';
import {
  ADMIN_KEY,
  type FakeSegmentsApi,
  segmentView,
  startFakeSegmentsApi,
} from '../support/fake-segments-api';

let api: FakeSegmentsApi;
let dir: string;

beforeAll(async () => {
  api = await startFakeSegmentsApi();
  dir = await mkdtemp(join(tmpdir(), 'mosaic-cli-segments-'));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.segments.clear();
  api.requests.length = 0;
  api.responses.length = 0;
});

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The pauses the CLI asked for between polls, in ms (the clock is fake: they take no time). */
  readonly sleeps: readonly number[];
}

/** The CLI in-process against the fake API, with a fake clock that each pause moves forward. */
async function cli(
  argv: string[],
  options: { stdin?: string; tty?: boolean; env?: Record<string, string>; fetch?: typeof fetch } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { MOSAIC_API_URL: api.url, MOSAIC_ADMIN_KEY: ADMIN_KEY, ...options.env },
    stderrIsTty: options.tty ?? false,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...(options.stdin === undefined ? {} : { readStdin: async () => options.stdin as string }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr, sleeps };
}

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const PRO_BUYERS = {
  id: 'pro-buyers',
  name: 'Pro buyers',
  description: 'On the pro plan',
  definition: { all: [{ trait: { name: 'plan', op: 'eq', value: 'pro' } }] },
};

const requestLine = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

describe('mosaic segments create', () => {
  it('sends the file and prints the created segment, nothing else on stdout', async () => {
    const path = await file('pro.json', PRO_BUYERS);
    const { code, stdout, stderr } = await cli(['segments', 'create', '-f', path]);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map(requestLine)).toEqual(['POST /v1/segments']);
    expect(api.requests[0]?.body).toEqual(PRO_BUYERS);
    expect(stdout).toBe(
      [
        'Segment pro-buyers: Pro buyers',
        '  description  On the pro plan',
        '  version      1',
        '  created      2026-11-22T21:00:00.000Z',
        '  updated      2026-11-22T21:00:00.000Z',
        '  last export  none',
        '',
        'Definition',
        '  {',
        '    "all": [',
        '      {',
        '        "trait": {',
        '          "name": "plan",',
        '          "op": "eq",',
        '          "value": "pro"',
        '        }',
        '      }',
        '    ]',
        '  }',
        '',
      ].join('\n'),
    );
  });

  it('-f - reads the definition from stdin; --id and --name override the file', async () => {
    const { code, stdout } = await cli(
      ['segments', 'create', '-f', '-', '--id', 'pro-eu', '--name', 'Pro buyers (EU)'],
      { stdin: JSON.stringify(PRO_BUYERS) },
    );
    expect(code).toBe(EXIT.ok);
    expect(api.requests[0]?.body).toEqual({ ...PRO_BUYERS, id: 'pro-eu', name: 'Pro buyers (EU)' });
    expect(stdout).toMatch(/^Segment pro-eu: Pro buyers \(EU\)\n/);
  });

  it('--json prints exactly the JSON the API answered', async () => {
    const { code, stdout, stderr } = await cli(['--json', 'segments', 'create', '-f', '-'], {
      stdin: JSON.stringify(PRO_BUYERS),
    });
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    expect(stdout).toBe(`${api.lastBody('POST', '/v1/segments')}\n`);
    expect(JSON.parse(stdout)).toMatchObject({ id: 'pro-buyers', version: 1 });
  });

  it('an invalid definition: exit 1, each issue on its own line with its path', async () => {
    const bad = {
      ...PRO_BUYERS,
      definition: {
        all: [{ trait: { name: 'plan', op: 'eq', value: 'pro' } }, { trait: { name: 'x', op: 'like' } }, 7],
      },
    };
    const { code, stdout, stderr } = await cli(['segments', 'create', '-f', await file('bad.json', bad)]);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      [
        'mosaic: invalid_segment: 2 issues',
        '  definition.all[1].trait.op: Invalid option: expected one of "eq"|"neq"|"exists"|"not_exists"|"gt"|"lt"',
        '  definition.all[2]: expected a condition object',
        '',
      ].join('\n'),
    );
  });

  it('an id that exists: exit 1 with the API error and a hint to update instead', async () => {
    api.segments.set('pro-buyers', segmentView('pro-buyers'));
    const { code, stdout, stderr } = await cli([
      'segments',
      'create',
      '-f',
      await file('p.json', PRO_BUYERS),
    ]);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'mosaic: segment_exists: A segment with the id pro-buyers exists\n' +
        'hint: change it with `mosaic segments update ID -f FILE`, or create it under another --id.\n',
    );
  });

  it.each([
    [
      'a missing file',
      ['-f', '/nonexistent/def.json'],
      /^mosaic: -f \/nonexistent\/def.json: no such file\n$/,
    ],
    ['a file that is not JSON', ['-f', 'NOT_JSON'], /^mosaic: .*not-json.json: not JSON \(/],
    [
      'a file without a definition or name',
      ['-f', 'NO_DEF'],
      /^mosaic: .*no-def.json: not a valid request\n {2}name: .*\n {2}definition: .*\n$/,
    ],
    ['an unknown field (a typo)', ['-f', 'TYPO'], /\n {2}\(top level\): Unrecognized key: "defintion"\n$/],
    ['a bad --id', ['-f', 'NO_DEF', '--id', 'no spaces please'], /Expected a segment id/],
    ['no -f', [], /required option '-f, --file <path>' not specified/],
  ])('refuses %s: exit 1, without calling the API', async (_what, args, message) => {
    const paths: Record<string, string> = {
      NOT_JSON: await file('not-json.json', '{"id": "x",'),
      NO_DEF: await file('no-def.json', { id: 'x' }),
      TYPO: await file('typo.json', { id: 'x', name: 'X', defintion: {}, definition: {} }),
    };
    const argv = ['segments', 'create', ...args.map((arg) => paths[arg] ?? arg)];
    const { code, stdout, stderr } = await cli(argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(api.requests).toHaveLength(0);
  });
});

describe('mosaic segments list | show | update | delete', () => {
  beforeEach(() => {
    for (const id of ['a-seg', 'b-seg', 'c-seg'])
      api.segments.set(
        id,
        segmentView(
          id,
          id === 'b-seg' ? { lastExport: { exportId: 'exp-0', completedAt: 'then', count: 4321 } } : {},
        ),
      );
  });

  it('list: a table of one page, and a hint on stderr when more follow', async () => {
    const { code, stdout, stderr } = await cli(['segments', 'list', '--limit', '2']);
    expect(code).toBe(EXIT.ok);
    expect(api.requests[0]?.query.get('limit')).toBe('2');
    expect(stdout).toBe(
      [
        '2 segments',
        '  ID     NAME           VERSION  UPDATED                   LAST EXPORT',
        '  a-seg  Segment a-seg  1        2026-11-22T21:00:00.000Z  —',
        '  b-seg  Segment b-seg  1        2026-11-22T21:00:00.000Z  4,321 (then)',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('mosaic: more segments follow: --all lists them all, or --next b-seg\n');
  });

  it('list --all follows next to the last page; --json --all is one list of them all', async () => {
    const human = await cli(['segments', 'list', '--limit', '2', '--all']);
    expect(human.code).toBe(EXIT.ok);
    expect(human.stderr).toBe('');
    expect(human.stdout).toMatch(/^3 segments\n/);
    expect(human.stdout).toContain('  c-seg  ');
    expect(api.requests.map((r) => r.query.get('next'))).toEqual([null, 'b-seg']);

    const json = await cli(['--json', 'segments', 'list', '--limit', '2', '--all']);
    expect(JSON.parse(json.stdout)).toEqual({
      segments: ['a-seg', 'b-seg', 'c-seg'].map((id) => api.segments.get(id)),
    });
    expect(json.stderr).toBe('');
  });

  it('list --all stops, exit 4, when the API names the same next page again', async () => {
    const looping: typeof fetch = async () => Response.json({ segments: [], next: 'again' });
    const { code, stdout, stderr } = await cli(['segments', 'list', '--all'], { fetch: looping });
    expect(code).toBe(EXIT.unavailable);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'mosaic: not_mosaic: The segment list does not end: the API named a next page twice\n',
    );
  });

  it('list --json: one page exactly as the API sent it, no hint', async () => {
    const { stdout, stderr } = await cli(['segments', 'list', '--json', '--limit', '1']);
    expect(stdout).toBe(`${api.lastBody('GET', '/v1/segments')}\n`);
    expect(stderr).toBe('');
  });

  it('show: the segment; --json the API answer; an unknown id exits 2', async () => {
    const human = await cli(['segments', 'show', 'b-seg']);
    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toMatch(/^Segment b-seg: Segment b-seg\n/);
    expect(human.stdout).toContain('  last export  exp-0: 4,321 members, then\n');

    const json = await cli(['segments', 'show', 'b-seg', '--json']);
    expect(json.stdout).toBe(`${api.lastBody('GET', '/v1/segments/b-seg')}\n`);

    const missing = await cli(['segments', 'show', 'zzz']);
    expect(missing).toMatchObject({ code: EXIT.notFound, stdout: '' });
    expect(missing.stderr).toBe('mosaic: segment_not_found: No segment has the id zzz\n');
  });

  it("update: PUTs the file's name and definition; the JSON of show can be sent back as it is", async () => {
    const shown = JSON.parse((await cli(['--json', 'segments', 'show', 'a-seg'])).stdout) as Record<
      string,
      unknown
    >;
    const edited = { ...shown, name: 'Renamed', definition: { trait: { name: 'plan', op: 'exists' } } };
    api.requests.length = 0;
    const { code, stdout } = await cli(['segments', 'update', 'a-seg', '-f', await file('a.json', edited)]);
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map(requestLine)).toEqual(['PUT /v1/segments/a-seg']);
    expect(api.requests[0]?.body).toEqual({ name: 'Renamed', definition: edited.definition });
    expect(stdout).toMatch(/^Segment a-seg: Renamed\n {2}version {6}2\n/);
  });

  it("update: refuses a file of another segment, and shows the API's issues", async () => {
    const other = await cli(['segments', 'update', 'a-seg', '-f', await file('b.json', { ...PRO_BUYERS })]);
    expect(other.code).toBe(EXIT.usage);
    expect(other.stderr).toContain('is segment "pro-buyers", not a-seg');
    expect(api.requests).toHaveLength(0);

    const bad = await cli(['segments', 'update', 'a-seg', '-f', '-'], {
      stdin: JSON.stringify({ name: 'A', definition: { trait: { op: 'almost' } } }),
    });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(
      /^mosaic: invalid_segment: 1 issue\n {2}definition\.trait\.op: Invalid option/,
    );
  });

  it('delete: 204; a line without --json, nothing with it', async () => {
    const human = await cli(['segments', 'delete', 'a-seg']);
    expect(human).toMatchObject({ code: EXIT.ok, stdout: 'Deleted segment a-seg\n', stderr: '' });
    const json = await cli(['--json', 'segments', 'delete', 'b-seg']);
    expect(json).toMatchObject({ code: EXIT.ok, stdout: '', stderr: '' });
    expect([...api.segments.keys()]).toEqual(['c-seg']);
    const again = await cli(['segments', 'delete', 'b-seg']);
    expect(again.code).toBe(EXIT.notFound);
  });

  it('percent-encodes nothing a segment id can hold, and refuses ids that are not one', async () => {
    const { code } = await cli(['segments', 'show', '../profiles/x']);
    expect(code).toBe(EXIT.usage);
    expect(api.requests).toHaveLength(0);
  });
});

describe('mosaic segments preview', () => {
  it('answered at once (200): count, sample, elapsed, without polling', async () => {
    api.segments.set('quick', segmentView('quick'));
    const { code, stdout, stderr, sleeps } = await cli(['segments', 'preview', 'quick']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(sleeps).toEqual([]);
    expect(api.requests.map(requestLine)).toEqual(['POST /v1/segments/quick/preview']);
    expect(stdout).toBe(
      [
        'Segment quick: 1,234 members',
        '  elapsed  3.4 s',
        `  preview  ${(JSON.parse(api.lastBody('POST', '/v1/segments/quick/preview')) as { previewId: string }).previewId}`,
        '',
        'Sample (3 of 1,234, by profile id)',
        '  p_01',
        '  p_02',
        '  p_03',
        '',
      ].join('\n'),
    );
  });

  it('202 twice then 200: follows Location about every second, then prints the result with bytes scanned', async () => {
    api.segments.set('slow-1', segmentView('slow-1'));
    const { code, stdout, stderr, sleeps } = await cli(['segments', 'preview', 'slow-1']);
    expect(code).toBe(EXIT.ok);
    const location = api.responses[0]?.location;
    expect(location).toMatch(/^\/v1\/previews\/pv-\d+$/);
    expect(api.requests.map(requestLine)).toEqual([
      'POST /v1/segments/slow-1/preview',
      `GET ${location}`,
      `GET ${location}`,
    ]);
    expect(api.responses.map((r) => r.status)).toEqual([202, 202, 200]);
    // Two waits of one second between the three requests.
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(stdout).toMatch(
      /^Segment slow-1: 1,234 members\n {2}bytes scanned {2}12\.3 MB\n {2}elapsed {8}3\.4 s\n/,
    );
    // Progress went to stderr (not a terminal: plain lines), never to stdout.
    expect(stderr).toBe('mosaic: preview of segment slow-1 RUNNING (0 ms)\n');
    expect(stdout).not.toContain('RUNNING');
  });

  it('polls where Location points, not a path of its own making', async () => {
    api.segments.set('slow-4', segmentView('slow-4'));
    // The same API, its 202 naming the preview with a query the CLI could not have made up.
    const moved: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const location = response.headers.get('location');
      if (location === null) return response;
      const headers = new Headers(response.headers);
      headers.set('location', `${location}?from=location`);
      return new Response(await response.text(), { status: response.status, headers });
    };
    const { code } = await cli(['segments', 'preview', 'slow-4'], { fetch: moved });
    expect(code).toBe(EXIT.ok);
    const polls = api.requests.filter((r) => r.method === 'GET');
    expect(polls).toHaveLength(2);
    for (const poll of polls) expect(poll.query.get('from')).toBe('location');
  });

  it('--json: only the final answer, exactly as sent, and no progress', async () => {
    api.segments.set('slow-2', segmentView('slow-2'));
    const { code, stdout, stderr } = await cli(['--json', 'segments', 'preview', 'slow-2']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    const last = api.responses[api.responses.length - 1];
    expect(last?.status).toBe(200);
    expect(stdout).toBe(`${last?.body}\n`);
  });

  it('a terminal gets a spinner line redrawn in place and cleared at the end', async () => {
    api.segments.set('slow-3', segmentView('slow-3'));
    const { code, stdout, stderr } = await cli(['segments', 'preview', 'slow-3'], { tty: true });
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('\r\u001b[K| preview of segment slow-3 RUNNING 0 ms');
    expect(stderr).toContain('\r\u001b[K/ preview of segment slow-3 RUNNING 250 ms');
    expect(stderr.endsWith('\r\u001b[K')).toBe(true);
    expect(stderr).not.toContain('\n');
    expect(stdout).not.toContain('\r');
  });

  it('FAILED: exit 6 with the reason; --json still prints the answer', async () => {
    api.segments.set('broken-1', segmentView('broken-1'));
    const human = await cli(['segments', 'preview', 'broken-1']);
    expect(human).toMatchObject({
      code: EXIT.jobFailed,
      stdout: '',
      stderr:
        'mosaic: preview_failed: the preview of segment broken-1 failed: Query exhausted resources at this scale\n',
    });
    const json = await cli(['--json', 'segments', 'preview', 'broken-1']);
    expect(json.code).toBe(EXIT.jobFailed);
    expect(json.stdout).toBe(`${api.lastBody('POST', '/v1/segments/broken-1/preview')}\n`);
  });

  it('--timeout bounds the whole wait: exit 4 when the preview is still running', async () => {
    api.segments.set('forever-1', segmentView('forever-1'));
    const { code, stdout, stderr, sleeps } = await cli([
      'segments',
      'preview',
      'forever-1',
      '--timeout',
      '3',
    ]);
    expect(code).toBe(EXIT.unavailable);
    expect(stdout).toBe('');
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(api.requests.length).toBeLessThanOrEqual(4);
    expect(stderr).toMatch(
      /\nmosaic: timeout: preview of segment forever-1 is still running after 3\.0 s\nhint: allow longer with --timeout SECONDS/,
    );
  });

  it('an unknown segment: exit 2', async () => {
    const { code, stderr } = await cli(['segments', 'preview', 'nope']);
    expect(code).toBe(EXIT.notFound);
    expect(stderr).toBe('mosaic: segment_not_found: No segment has the id nope\n');
  });
});

describe('mosaic segments export and mosaic exports show', () => {
  beforeEach(() => {
    for (const id of ['buyers', 'doomed-1', 'forever-2'])
      api.segments.set(id, segmentView(id, { version: 3 }));
  });

  it('without --wait: sends the columns and prints the export id and status, once', async () => {
    const { code, stdout, stderr, sleeps } = await cli([
      'segments',
      'export',
      'buyers',
      '--format',
      'parquet',
      '--identifier',
      'email',
      '--identifier',
      'user_id',
      '--trait',
      'plan',
      '--destination',
      'crm',
    ]);
    expect(code).toBe(EXIT.ok);
    expect(sleeps).toEqual([]);
    expect(api.requests.map(requestLine)).toEqual(['POST /v1/segments/buyers/exports']);
    expect(api.requests[0]?.body).toEqual({
      format: 'parquet',
      identifiers: ['email', 'user_id'],
      traits: ['plan'],
      destination: 'crm',
    });
    const exportId = (JSON.parse(api.responses[0]?.body ?? '{}') as { exportId: string }).exportId;
    expect(stdout).toMatch(new RegExp(`^Export ${exportId} of segment buyers \\(version 3\\): RUNNING\\n`));
    expect(stdout).toContain('  identifiers  email, user_id\n');
    expect(stdout).toContain('  destination  crm\n');
    expect(stderr).toBe(
      `mosaic: the export runs on; follow it with \`mosaic exports show ${exportId} --wait\`\n`,
    );
  });

  it('sends only the options given (the API has the defaults)', async () => {
    await cli(['segments', 'export', 'buyers']);
    expect(api.requests[0]?.body).toEqual({});
  });

  it('--wait: RUNNING → SUCCEEDED, polling GET /v1/exports/{id}; prints count, added, removed, location', async () => {
    const { code, stdout, stderr, sleeps } = await cli(['segments', 'export', 'buyers', '--wait']);
    expect(code).toBe(EXIT.ok);
    const location = api.responses[0]?.location ?? '';
    const exportId = location.split('/').pop() ?? '';
    expect(api.requests.map(requestLine)).toEqual([
      'POST /v1/segments/buyers/exports',
      `GET /v1/exports/${exportId}`,
      `GET /v1/exports/${exportId}`,
    ]);
    expect(sleeps.every((ms) => ms <= 1000)).toBe(true);
    expect(stdout).toBe(
      [
        `Export ${exportId} of segment buyers (version 3): SUCCEEDED`,
        '  format         csv',
        '  created        2026-11-22T21:00:00.000Z',
        '  completed      2026-11-22T21:00:05.000Z',
        '  members        1,200',
        '  added          1,200',
        '  removed        0',
        '  compared with  nothing (first export)',
        `  location       s3://mosaic-exports/buyers/${exportId}/`,
        '',
      ].join('\n'),
    );
    expect(stderr).toBe(`mosaic: export ${exportId} RUNNING (0 ms)\n`);
  });

  it('--wait --json: the final GET exactly, nothing on stderr', async () => {
    const { code, stdout, stderr } = await cli(['segments', 'export', 'buyers', '--wait', '--json']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    const last = api.responses[api.responses.length - 1];
    expect(last?.path).toMatch(/^\/v1\/exports\//);
    expect(stdout).toBe(`${last?.body}\n`);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'SUCCEEDED', count: 1200 });
  });

  it('--wait on an export that fails: exit 6 with its error', async () => {
    const { code, stdout, stderr } = await cli(['segments', 'export', 'doomed-1', '--wait']);
    expect(code).toBe(EXIT.jobFailed);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /\nmosaic: export_failed: export exp-\d+ of segment doomed-1 failed: Athena: HIVE_BAD_DATA in events\n$/,
    );
    const json = await cli(['--json', 'segments', 'export', 'doomed-1', '--wait']);
    expect(json.code).toBe(EXIT.jobFailed);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'FAILED',
      error: 'Athena: HIVE_BAD_DATA in events',
    });
    expect(json.stderr).toMatch(/^mosaic: export_failed: /);
  });

  it('--wait rides out a 503 between polls; three in a row end the wait with exit 4', async () => {
    // The same API, with the first GETs of an export answered 503 by "a gateway" in front of it.
    const flaky = (failures: number): typeof fetch => {
      let left = failures;
      return async (input, init) => {
        if ((init?.method ?? 'GET') === 'GET' && left > 0) {
          left--;
          return Response.json({ message: 'Service Unavailable' }, { status: 503 });
        }
        return fetch(input, init);
      };
    };
    const once = await cli(['segments', 'export', 'buyers', '--wait'], { fetch: flaky(1) });
    expect(once.code).toBe(EXIT.ok);
    expect(once.stdout).toMatch(/: SUCCEEDED\n/);

    const thrice = await cli(['segments', 'export', 'buyers', '--wait'], { fetch: flaky(3) });
    expect(thrice.code).toBe(EXIT.unavailable);
    expect(thrice.stdout).toBe('');
    expect(thrice.stderr).toMatch(
      /\nmosaic: service_unavailable: Service Unavailable\nhint: the API answered 503/,
    );
  });

  it('--wait --timeout: exit 4 and the command that follows it later', async () => {
    const { code, stderr } = await cli(['segments', 'export', 'forever-2', '--wait', '--timeout', '2.5']);
    expect(code).toBe(EXIT.unavailable);
    expect(stderr).toMatch(/mosaic: timeout: export (exp-\d+) is still running after 2\.5 s\n/);
    expect(stderr).toMatch(/hint: it runs on: `mosaic exports show exp-\d+ --wait` follows it again\.\n$/);
  });

  it.each([
    ['a format the API does not make', ['--format', 'xlsx'], /argument 'xlsx' is invalid/],
    ['a destination that is not a name', ['--destination', 'crm prod'], /--destination: a destination name/],
    ['a missing segment id', [], /missing required argument 'id'/],
  ])('refuses %s: exit 1 without calling the API', async (_what, args, message) => {
    const argv = ['segments', 'export', ...(args.length === 0 ? [] : ['buyers']), ...args];
    const { code, stdout, stderr } = await cli(argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(api.requests).toHaveLength(0);
  });

  it('exports show: the export as it is now; --wait follows it; --json as sent; unknown → exit 2', async () => {
    await cli(['segments', 'export', 'buyers']);
    const exportId = (JSON.parse(api.responses[0]?.body ?? '{}') as { exportId: string }).exportId;

    const now = await cli(['exports', 'show', exportId]);
    expect(now.code).toBe(EXIT.ok);
    expect(now.stdout).toMatch(/: RUNNING\n/);

    const waited = await cli(['exports', 'show', exportId, '--wait', '--json']);
    expect(waited.code).toBe(EXIT.ok);
    expect(waited.stdout).toBe(`${api.lastBody('GET', `/v1/exports/${exportId}`)}\n`);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'SUCCEEDED', added: 1200, removed: 0 });

    const missing = await cli(['exports', 'show', 'exp-nope']);
    expect(missing).toMatchObject({ code: EXIT.notFound, stdout: '' });
    expect(missing.stderr).toBe('mosaic: export_not_found: No export has the id exp-nope\n');
  });
});

describe('waiting, in parts', () => {
  it('follows a Location only under the base URL and its /v1/', () => {
    expect(followPath('http://h:1', '/v1/previews/pv-1')).toBe('/v1/previews/pv-1');
    expect(followPath('https://x.example/prod', '/prod/v1/exports/e')).toBe('/v1/exports/e');
    expect(followPath('https://x.example/prod', '/v1/exports/e')).toBe('/v1/exports/e');
    expect(followPath('https://x.example/prod', 'https://x.example/prod/v1/exports/e?x=1')).toBe(
      '/v1/exports/e?x=1',
    );
    for (const elsewhere of [
      'https://evil.example/v1/exports/e',
      '//evil.example/v1/exports/e',
      '/v1/../admin',
      '/v1/%2e%2e/admin',
      '/admin',
      undefined,
    ])
      expect(followPath('https://x.example', elsewhere)).toBeUndefined();
  });

  it("reads a 400's issues from the house error shape and from a flat {error, message, issues}", async () => {
    const issues = [{ path: 'definition.trait.op', message: 'bad op' }];
    for (const body of [
      { success: false, error: { code: 'invalid_segment', message: 'definition.trait.op: bad op', issues } },
      { error: 'invalid_segment', message: 'definition.trait.op: bad op', issues },
    ]) {
      const { code, stderr } = await cli(['segments', 'create', '-f', '-'], {
        stdin: JSON.stringify(PRO_BUYERS),
        fetch: async () => Response.json(body, { status: 400 }),
      });
      expect(code).toBe(EXIT.usage);
      expect(stderr).toBe('mosaic: invalid_segment: 1 issue\n  definition.trait.op: bad op\n');
    }
    const other = await cli(['segments', 'create', '-f', '-'], {
      stdin: JSON.stringify(PRO_BUYERS),
      fetch: async () =>
        Response.json(
          { success: false, error: { code: 'invalid_body', message: 'The body is not a segment', issues } },
          { status: 400 },
        ),
    });
    expect(other.stderr).toBe(
      'mosaic: invalid_body: The body is not a segment (1 issue)\n  definition.trait.op: bad op\n',
    );
  });

  it('plain progress lines come every 10 s, not at every poll', () => {
    let text = '';
    const progress = createProgress((t) => {
      text += t;
    }, 'lines');
    for (let ms = 0; ms <= 25_000; ms += 250) progress.show('export e RUNNING', ms);
    expect(PROGRESS_LINE_EVERY_MS).toBe(10_000);
    expect(text).toBe(
      'mosaic: export e RUNNING (0 ms)\nmosaic: export e RUNNING (10 s)\nmosaic: export e RUNNING (20 s)\n',
    );
  });

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3400)).toBe('3.4 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
  });
});

describe('mosaic --help', () => {
  it('lists the segments and exports groups and the exit code of a failed job', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/\n {2}segments +define audiences/);
    expect(help.stdout).toMatch(/\n {2}exports +follow/);
    expect(help.stdout).toContain(`${EXIT.jobFailed}  failed:`);
    const sub = await cli(['segments', 'export', '--help']);
    expect(sub.stdout).toContain('--identifier <type>');
    expect(sub.stdout).toMatch(/\(choices: "csv",\s+"parquet"\)/);
    expect(sub.stdout).not.toContain('default: []');
  });
});
