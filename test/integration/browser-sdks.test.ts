import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Window } from 'happy-dom';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../src/local/runtime';
import { eventsGlob, queryLake, startTestRuntime, WRITE_KEY } from './local-runtime';

/**
 * The browser SDKs' own builds, as a web page loads them (the UMD bundles their npm packages ship),
 * run in a happy-dom window against the local runtime: each loads its settings from the collector and
 * sends its events there, as the README says to configure them. happy-dom checks CORS as far as
 * origins and methods go (it preflights every cross-origin request); it does not check the allowed
 * headers, so the test compares every header the SDKs set with the collector's preflight answer.
 * `scripts/browser-sdks-check.ts` runs the same SDKs in Chromium, by hand.
 */

const require = createRequire(import.meta.url);
const ANALYTICS_JS = require.resolve('@segment/analytics-next/dist/umd/index.js');
// The package exports its builds by name only; the UMD bundle sits beside the CommonJS one.
const RUDDERSTACK_JS = join(dirname(require.resolve('@rudderstack/analytics-js/bundled')), '../umd/index.js');

/** The web page's origin: another origin than the collector's, so every request is cross-origin. */
const PAGE_URL = 'http://localhost:3000/shop/';

let runtime: LocalRuntime;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
});
afterAll(async () => {
  await stop();
});

interface SentRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

const windows: Window[] = [];
afterEach(async () => {
  for (const window of windows.splice(0)) {
    await window.happyDOM.abort();
    await window.happyDOM.close();
  }
});

/**
 * A page with the SDK's bundle loaded. Every request it makes is recorded; one to any host but the
 * collector's is refused (nothing leaves this machine), and the first POST to each path in `failOnce`
 * gets a 503, so that the SDK retries it as it would after a passing outage.
 */
async function pageWith(bundle: string, failOnce: readonly string[] = []) {
  const requests: SentRequest[] = [];
  const failed = new Set<string>();
  const collector = new URL(runtime.url);
  const window = new Window({
    url: PAGE_URL,
    settings: {
      enableJavaScriptEvaluation: true,
      suppressInsecureJavaScriptEnvironmentWarning: true,
      fetch: {
        interceptor: {
          beforeAsyncRequest: async ({ request, window }) => {
            const url = new URL(request.url);
            requests.push({
              method: request.method,
              url,
              headers: Object.fromEntries([...request.headers].map(([k, v]) => [k.toLowerCase(), v])),
            });
            if (url.host !== collector.host) return window.Response.error();
            if (request.method === 'POST' && failOnce.includes(url.pathname) && !failed.has(url.pathname)) {
              failed.add(url.pathname);
              return new window.Response('{"success":false}', {
                status: 503,
                headers: { 'access-control-allow-origin': '*', 'content-type': 'application/json' },
              });
            }
          },
        },
      },
    },
  });
  windows.push(window);
  window.eval(await readFile(bundle, 'utf8'));
  return { window, requests };
}

/** What the page's script resolved `window.done` to; fails after 20 s (an SDK that never loads). */
function done(window: Window): Promise<string> {
  return Promise.race([
    (window as unknown as { done: Promise<string> }).done,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the SDK did not load within 20 s')), 20_000).unref(),
    ),
  ]);
}

/** The events of one anonymous id in the lake, once `count` of them have landed. */
async function landed(anonymousId: string, count: number): Promise<Record<string, unknown>[]> {
  expect(anonymousId).toMatch(/^[0-9a-f-]{36}$/);
  const deadline = Date.now() + 30_000;
  for (;;) {
    await runtime.flush();
    const rows = await queryLake(
      `SELECT type, event, user_id, json_extract_string(context, '$.library.name') AS library,
              -- RudderStack puts an identify's traits in context.traits, Segment at the top level.
              coalesce(json_extract_string(traits, '$.email'), json_extract_string(context, '$.traits.email')) AS email
       FROM read_parquet('${eventsGlob(runtime)}', hive_partitioning = true, union_by_name = true)
       WHERE anonymous_id = '${anonymousId}' ORDER BY type`,
    ).catch(() => []);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Headers a page may send cross-origin without the server allowing them, or that the browser sets. */
const NOT_ASKED = new Set([
  'accept',
  'accept-language',
  'content-language',
  'user-agent',
  'origin',
  'referer',
  'host',
  'connection',
  'accept-encoding',
  'content-length',
  'cookie',
]);

/** Asserts the collector's preflight answer allows every header the page's POSTs carried. */
async function expectHeadersAllowed(requests: readonly SentRequest[]): Promise<string[]> {
  const preflight = await fetch(`${runtime.url}/v1/track`, {
    method: 'OPTIONS',
    headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
  });
  const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
  const sent = [
    ...new Set(
      requests
        .filter((r) => r.method === 'POST')
        .flatMap((r) => Object.keys(r.headers))
        .filter((name) => !NOT_ASKED.has(name)),
    ),
  ].sort();
  expect(sent.filter((name) => !allowed.includes(name))).toEqual([]);
  return sent;
}

describe('browser SDKs against the local runtime, from a page on another origin', () => {
  it('analytics.js 2.0 (@segment/analytics-next) loads its settings from cdnURL and sends every call to the collector, a retried one included', async () => {
    const { window, requests } = await pageWith(ANALYTICS_JS, ['/v1/t']);
    window.eval(`
      window.done = AnalyticsNext.AnalyticsBrowser.load({ writeKey: '${WRITE_KEY}', cdnURL: '${runtime.url}' })
        .then(async ([analytics]) => {
          await analytics.identify('browser-user-1', { email: 'browser-1@example.com' });
          await analytics.track('Browser Checkout', { total: 42 });
          await analytics.page('Pricing');
          return analytics.user().anonymousId();
        });`);
    const anonymousId = await done(window);

    const rows = await landed(anonymousId, 3);
    expect(rows).toEqual([
      {
        type: 'identify',
        event: null,
        user_id: 'browser-user-1',
        library: 'analytics.js',
        email: 'browser-1@example.com',
      },
      { type: 'page', event: null, user_id: 'browser-user-1', library: 'analytics.js', email: null },
      {
        type: 'track',
        event: 'Browser Checkout',
        user_id: 'browser-user-1',
        library: 'analytics.js',
        email: null,
      },
    ]);
    const collector = new URL(runtime.url).host;
    expect(requests.filter((r) => r.url.host !== collector)).toEqual([]);
    expect(requests.find((r) => r.method === 'GET')?.url.pathname).toBe(`/v1/projects/${WRITE_KEY}/settings`);
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.url.pathname)).toEqual(
      expect.arrayContaining(['/v1/i', '/v1/t', '/v1/p']),
    );
    // The retry of the track that got a 503 carries X-Retry-Count: allowed, or the browser drops it.
    expect(await expectHeadersAllowed(requests)).toEqual(
      expect.arrayContaining(['authorization', 'x-retry-count']),
    );
  });

  it("RudderStack's JavaScript SDK v3 (@rudderstack/analytics-js, bundled build) loads its source config from configUrl and sends every call to the collector, a retried one included", async () => {
    const { window, requests } = await pageWith(RUDDERSTACK_JS, ['/v1/track']);
    window.eval(`
      window.done = new Promise((resolve) => {
        const analytics = new rudderanalytics.RudderAnalytics();
        analytics.load('${WRITE_KEY}', '${runtime.url}', {
          configUrl: '${runtime.url}',
          onLoaded: () => {
            analytics.identify('browser-user-2', { email: 'browser-2@example.com' });
            analytics.track('Browser Checkout', { total: 42 });
            analytics.page('Pricing');
            resolve(analytics.getAnonymousId());
          },
        });
      });`);
    const anonymousId = await done(window);

    const rows = await landed(anonymousId, 3);
    // The SDK keeps the user's traits in every later event's context.traits.
    const user = {
      user_id: 'browser-user-2',
      library: 'RudderLabs JavaScript SDK',
      email: 'browser-2@example.com',
    };
    expect(rows).toEqual([
      { type: 'identify', event: null, ...user },
      { type: 'page', event: null, ...user },
      { type: 'track', event: 'Browser Checkout', ...user },
    ]);
    const collector = new URL(runtime.url).host;
    expect(requests.filter((r) => r.url.host !== collector)).toEqual([]);
    const config = requests.find((r) => r.method === 'GET' && r.url.pathname.startsWith('/sourceConfig'));
    expect(config?.headers.authorization).toBe(`Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`);
    expect(await expectHeadersAllowed(requests)).toEqual(
      expect.arrayContaining(['anonymousid', 'authorization', 'sentat', 'rsa-retry-attempt']),
    );
  });
});
