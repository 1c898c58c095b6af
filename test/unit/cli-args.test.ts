import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseIdentifier, parseLimit, parseTimeout } from '../../src/cli/arguments';
import type { CliIo } from '../../src/cli/context';
import { EXIT } from '../../src/cli/failures';
import { run } from '../../src/cli/mosaic';
import { DEFAULT_TIMEOUT_MS, LOCAL_ADMIN_KEY, LOCAL_API_URL, resolveSettings } from '../../src/cli/settings';
import { UsageError } from '../../src/cli/usage-error';

describe('parseIdentifier', () => {
  it('splits at the first colon, so values may hold colons', () => {
    expect(parseIdentifier('email:jane@example.com')).toEqual({ type: 'email', value: 'jane@example.com' });
    expect(parseIdentifier('device_id:a:b:c')).toEqual({ type: 'device_id', value: 'a:b:c' });
    expect(parseIdentifier('anonymous_id: spaced ')).toEqual({ type: 'anonymous_id', value: ' spaced ' });
  });

  it.each([
    ['no colon', 'jane@example.com'],
    ['no type', ':jane'],
    ['no value', 'email:'],
    ['a type that cannot be one', 'e/mail:x'],
  ])('refuses %s as a usage error', (_what, text) => {
    expect(() => parseIdentifier(text)).toThrow(InvalidArgumentError);
  });
});

describe('parseLimit and parseTimeout', () => {
  it('takes whole numbers from 1 as limits (the API checks the maximum)', () => {
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('50')).toBe(50);
    expect(parseLimit('99')).toBe(99);
    for (const bad of ['0', '-1', '2.5', 'ten', '', '1e3'])
      expect(() => parseLimit(bad)).toThrow(InvalidArgumentError);
  });

  it('takes seconds above 0 and up to 600 as timeouts, in milliseconds', () => {
    expect(parseTimeout('10')).toBe(10_000);
    expect(parseTimeout('0.25')).toBe(250);
    expect(parseTimeout('600')).toBe(600_000);
    for (const bad of ['0', '601', '-1', 'soon', '1s', ''])
      expect(() => parseTimeout(bad)).toThrow(InvalidArgumentError);
  });
});

describe('resolveSettings', () => {
  it('uses the local runtime and its development key when nothing is given', () => {
    expect(resolveSettings({}, {})).toEqual({
      apiUrl: LOCAL_API_URL,
      apiFrom: 'default',
      adminKey: LOCAL_ADMIN_KEY,
      keyFrom: 'default',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      json: false,
    });
  });

  it('prefers the options to the environment, and the environment to the defaults (blank = unset)', () => {
    const env = { MOSAIC_API_URL: 'https://env.example.com/prod/', MOSAIC_ADMIN_KEY: 'env-key' };
    expect(resolveSettings({}, env)).toMatchObject({
      apiUrl: 'https://env.example.com/prod',
      apiFrom: 'env',
      adminKey: 'env-key',
      keyFrom: 'env',
    });
    expect(
      resolveSettings({ api: 'http://other:9000', key: 'opt-key', timeout: 500, json: true }, env),
    ).toEqual({
      apiUrl: 'http://other:9000',
      apiFrom: 'option',
      adminKey: 'opt-key',
      keyFrom: 'option',
      timeoutMs: 500,
      json: true,
    });
    expect(resolveSettings({}, { MOSAIC_API_URL: '  ', MOSAIC_ADMIN_KEY: '' })).toMatchObject({
      apiFrom: 'default',
      keyFrom: 'default',
    });
  });

  it('names the option or variable a bad value came from', () => {
    expect(() => resolveSettings({ api: 'not a url' }, {})).toThrow(
      new UsageError('--api: "not a url" is not a URL'),
    );
    expect(() => resolveSettings({}, { MOSAIC_API_URL: 'ftp://x' })).toThrow(
      /^MOSAIC_API_URL: .*not an http\(s\) URL/,
    );
    expect(() => resolveSettings({ api: 'http://x/?a=1' }, {})).toThrow(/--api: .*query/);
    expect(() => resolveSettings({ key: 'two words' }, {})).toThrow(/^--key: /);
  });

  it('has the local runtime defaults of `npm start` (src/local/main.ts)', async () => {
    const main = await readFile(new URL('../../src/local/main.ts', import.meta.url), 'utf8');
    expect(main).toContain(`'${LOCAL_ADMIN_KEY}'`);
    expect(main).toMatch(/PORT: z\.coerce\.number\(\)[^\n]*\.default\(8080\)/);
    expect(main).toMatch(/HOST: z\.string\(\)\.default\('127\.0\.0\.1'\)/);
    expect(LOCAL_API_URL).toBe('http://127.0.0.1:8080');
  });
});

/** A fake API: records requests and answers with `answer(url)`. */
function fakeApi(answer: (url: URL) => Response = () => Response.json({ profileId: 'p_1', events: [] })) {
  const requests: { url: URL; headers: Headers; method: string }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    requests.push({ url, headers: new Headers(init?.headers), method: init?.method ?? 'GET' });
    return answer(url);
  };
  return { requests, fetch: fetchFn };
}

/** Runs the CLI in-process with captured output. */
async function cli(argv: string[], options: { env?: Record<string, string>; fetch?: typeof fetch } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const PROFILE = {
  profileId: 'p_1',
  identities: [{ type: 'email', value: 'jane+x@example.com' }],
  traits: {},
  computed: {
    eventCount: 0,
    typeCounts: {},
    eventCounts: {},
    otherEventCount: 0,
    firstSeen: null,
    lastSeen: null,
    groups: [],
  },
  segments: [],
  consent: {},
  firstSeen: null,
  lastSeen: null,
  createdAt: '2026-11-22T18:00:00.000Z',
  mergedFrom: [],
};

describe('mosaic command lines (in-process, fake API)', () => {
  it('percent-encodes type and value apart, keeping the colon between them', async () => {
    const api = fakeApi(() => Response.json(PROFILE));
    const { code } = await cli(['profiles', 'get', 'email:jane+x@example.com'], api);
    expect(code).toBe(EXIT.ok);
    expect(api.requests[0]?.url.href).toBe('http://127.0.0.1:8080/v1/profiles/email:jane%2Bx%40example.com');
    await cli(['profiles', 'merges', 'device_id:a/b:c d'], api);
    expect(api.requests[1]?.url.pathname).toBe('/v1/profiles/device_id:a%2Fb%3Ac%20d/merges');
  });

  it('sends the admin key as a Bearer token and the limit as a query parameter', async () => {
    const api = fakeApi();
    const { code } = await cli(
      [
        '--api',
        'https://api.example.com/prod/',
        '--key',
        'k-123',
        'profiles',
        'events',
        'user_id:u1',
        '--limit',
        '5',
      ],
      api,
    );
    expect(code).toBe(EXIT.ok);
    const request = api.requests[0];
    expect(request?.url.href).toBe('https://api.example.com/prod/v1/profiles/user_id:u1/events?limit=5');
    expect(request?.headers.get('authorization')).toBe('Bearer k-123');
    expect(request?.method).toBe('GET');
  });

  it('accepts the global options after the subcommand too, and reads the environment', async () => {
    const api = fakeApi();
    await cli(['profiles', 'events', 'user_id:u1', '--api', 'http://h:1'], {
      ...api,
      env: { MOSAIC_ADMIN_KEY: 'from-env' },
    });
    expect(api.requests[0]?.url.origin).toBe('http://h:1');
    expect(api.requests[0]?.headers.get('authorization')).toBe('Bearer from-env');
  });

  it('prints a hint when it sends the development key, except with --json', async () => {
    const human = await cli(['profiles', 'events', 'user_id:u1'], fakeApi());
    expect(human.stderr).toContain('local development admin key');
    const json = await cli(['--json', 'profiles', 'events', 'user_id:u1'], fakeApi());
    expect(json.stderr).toBe('');
    const keyed = await cli(['--key', 'k-1', 'profiles', 'events', 'user_id:u1'], fakeApi());
    expect(keyed.stderr).toBe('');
  });

  it('with --json prints the API answer exactly as it came, and nothing else', async () => {
    const raw = '{"profileId":"p_1","events":[],"big":12345678901234567890}';
    const { code, stdout } = await cli(
      ['profiles', 'events', 'user_id:u1', '--json'],
      fakeApi(() => new Response(raw, { headers: { 'content-type': 'application/json' } })),
    );
    expect(code).toBe(EXIT.ok);
    expect(stdout).toBe(`${raw}\n`);
  });

  it('reads a profile whose value ends in /events by its profile id, which the API cannot mistake', async () => {
    const api = fakeApi((url) =>
      url.pathname.endsWith('/events')
        ? Response.json({ profileId: 'p_1', events: [] })
        : Response.json(PROFILE),
    );
    const { code, stdout } = await cli(['profiles', 'get', 'anonymous_id:x/events'], api);
    expect(code).toBe(EXIT.ok);
    expect(api.requests.map((r) => `${r.url.pathname}${r.url.search}`)).toEqual([
      '/v1/profiles/anonymous_id:x%2Fevents/events?limit=1',
      '/v1/profiles/profile_id:p_1',
    ]);
    expect(stdout).toContain('Profile p_1');
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['segmentz']],
    ['a group without a command', ['profiles']],
    ['an identifier without a type', ['profiles', 'get', 'jane@example.com']],
    ['a bad limit', ['profiles', 'events', 'user_id:u', '--limit', '0']],
    ['a bad timeout', ['--timeout', 'soon', 'profiles', 'get', 'user_id:u']],
    ['an unknown option', ['profiles', 'get', 'user_id:u', '--bogus']],
    ['a bad --api', ['--api', 'localhost:8080', 'profiles', 'get', 'user_id:u']],
    ['a missing argument', ['profiles', 'get']],
  ])('exits 1 on %s, saying why on stderr, without calling the API', async (_what, argv) => {
    const api = fakeApi();
    const { code, stdout, stderr } = await cli(argv, api);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).not.toBe('');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(api.requests).toHaveLength(0);
  });

  it('exits 0 for --help and --version, on stdout', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('profiles');
    const version = await cli(['--version']);
    expect(version.code).toBe(EXIT.ok);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const sub = await cli(['profiles', 'events', '--help']);
    expect(sub.code).toBe(EXIT.ok);
    expect(sub.stdout).toContain('--limit <n>');
  });
});
