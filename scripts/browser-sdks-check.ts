// Checks the browser SDKs against Mosaic in a real Chromium, as the README's "In a browser" section
// configures them: analytics.js 2.0 (npm build and snippet build) and RudderStack's JavaScript SDK v3
// (bundled build), from a page on another origin than the collector, so CORS preflights are real.
// Each page identifies, tracks and pages; the check passes when those three events reach the profile
// and no request left this machine. Not part of `npm test` (CI has no browser); the same SDK code runs
// there in happy-dom (test/integration/browser-sdks.test.ts).
//
//   npm install --no-save playwright-core        # drives the browser; not a dependency of the project
//   npx tsx scripts/browser-sdks-check.ts          # starts its own local runtime
//   npx tsx scripts/browser-sdks-check.ts --collector http://127.0.0.1:8080   # one already running
//
// Chromium (or Chrome) is found on the PATH (`chromium`, `chromium-browser`, `google-chrome`), or
// named by CHROMIUM_PATH. Against a running collector, MOSAIC_WRITE_KEY and MOSAIC_ADMIN_KEY name its
// keys (the development defaults otherwise).
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { hashKey } from '../src/core/auth/hashed-keys';
import { hashWriteKey } from '../src/core/collector/write-keys';
import { startLocalRuntime } from '../src/local/runtime';
import { silentLogger } from '../src/ports/logger';

// The local runtime's AWS SDK clients would warn that later releases need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const WRITE_KEY = process.env.MOSAIC_WRITE_KEY ?? 'mosaic-dev-write-key';
const ADMIN_KEY = process.env.MOSAIC_ADMIN_KEY ?? 'mosaic-dev-admin-key';
const require = createRequire(import.meta.url);
const AJS_UMD = dirname(require.resolve('@segment/analytics-next/dist/umd/index.js'));
const RUDDERSTACK_UMD = join(
  dirname(require.resolve('@rudderstack/analytics-js/bundled')),
  '../umd/index.js',
);

interface Scenario {
  readonly name: string;
  readonly html: (collector: string, site: string) => string;
  /** Leave the page right after the calls: what is queued must go out as the page unloads. */
  readonly leave?: boolean;
}

const CALLS = `
  analytics.identify('check-user-' + RUN, { email: 'check-' + RUN + '@example.com' });
  analytics.track('Browser Check', { sdk: SDK });
  analytics.page();`;

const ajsNpm = (sdk: string, load: string) => `<!doctype html><title>${sdk}</title>
<script src="/analytics-next.umd.js"></script><script>
var RUN = Math.random().toString(36).slice(2, 8), SDK = '${sdk}';
var analytics = AnalyticsNext.AnalyticsBrowser.load(${load});
${CALLS}
analytics.ready(function () { analytics.user().then(function (u) { window.anonymousId = u.anonymousId(); }); });
</script>`;

/** Segment's snippet (5.2.0), loading the standalone build from the site instead of Segment's CDN. */
const ajsSnippet = (site: string) => `<!doctype html><title>snippet</title><script>
!function(){var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm","pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId","addDestinationMiddleware","register"];analytics.factory=function(e){return function(){if(window[i].initialized)return window[i][e].apply(window[i],arguments);var n=Array.prototype.slice.call(arguments);if(["track","screen","alias","group","page","identify"].indexOf(e)>-1){var c=document.querySelector("link[rel='canonical']");n.push({__t:"bpc",c:c&&c.getAttribute("href")||void 0,p:location.pathname,u:location.href,s:location.search,t:document.title,r:document.referrer})}n.unshift(e);analytics.push(n);return analytics}};for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];analytics[key]=analytics.factory(key)}analytics.load=function(key,n){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.setAttribute("data-global-segment-analytics-key",i);t.src="${site}/analytics.js/standalone.js";var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n};analytics._writeKey="${WRITE_KEY}";analytics._cdn="${site}";analytics.SNIPPET_VERSION="5.2.0";
analytics.load("${WRITE_KEY}");
var RUN = Math.random().toString(36).slice(2, 8), SDK = 'snippet';
${CALLS}
analytics.ready(function () { window.anonymousId = window.analytics.user().anonymousId(); });
}}();
</script>`;

const rudderstack = (sdk: string, collector: string, options: string) => `<!doctype html><title>${sdk}</title>
<script src="/rudderstack.umd.js"></script><script>
var RUN = Math.random().toString(36).slice(2, 8), SDK = '${sdk}';
var analytics = new rudderanalytics.RudderAnalytics();
analytics.load('${WRITE_KEY}', '${collector}', ${options});
analytics.ready(function () { window.anonymousId = analytics.getAnonymousId(); });
${CALLS}
</script>`;

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'analytics.js, npm build: cdnURL → collector',
    html: (c) => ajsNpm('ajs-npm', `{ writeKey: '${WRITE_KEY}', cdnURL: '${c}' }`),
  },
  {
    name: 'analytics.js, npm build, batching: flushed as the page unloads (keepalive)',
    html: (c) =>
      ajsNpm(
        'ajs-npm-batching',
        `{ writeKey: '${WRITE_KEY}', cdnURL: '${c}' }, { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 50, timeout: 60000 } } } } }`,
      ),
    leave: true,
  },
  {
    name: 'analytics.js, snippet: bundles and settings from the site, ajs_ query string',
    html: (_c, site) => ajsSnippet(site),
  },
  {
    name: 'RudderStack v3, bundled build: configUrl → collector',
    html: (c) => rudderstack('rudderstack', c, `{ configUrl: '${c}' }`),
  },
  {
    name: 'RudderStack v3, bundled build, useBeacon: sent as the page unloads',
    html: (c) => rudderstack('rudderstack-beacon', c, `{ configUrl: '${c}', useBeacon: true }`),
    leave: true,
  },
];

function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {}
    }
  }
  throw new Error(
    'No Chromium on the PATH: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH',
  );
}

/** The web site: the pages, the SDK bundles as a site hosts them, and analytics.js's settings proxied to Mosaic. */
async function startSite(collector: string) {
  let current = '';
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    const serve = async () => {
      if (path === '/page.html') return send(res, 200, 'text/html', current);
      if (path === '/blank.html') return send(res, 200, 'text/html', '<!doctype html><title>left</title>');
      if (path === '/analytics-next.umd.js')
        return send(res, 200, 'text/javascript', await readFile(join(AJS_UMD, 'index.js')));
      if (path === '/analytics.js/standalone.js')
        return send(res, 200, 'text/javascript', await readFile(join(AJS_UMD, 'standalone.js')));
      if (path.startsWith('/analytics-next/bundles/'))
        return send(res, 200, 'text/javascript', await readFile(join(AJS_UMD, basename(path))));
      if (path === '/rudderstack.umd.js')
        return send(res, 200, 'text/javascript', await readFile(RUDDERSTACK_UMD));
      // analytics.js asks for its settings where it finds its bundles: the site passes it on to Mosaic.
      if (/^\/v1\/projects\/[^/]+\/settings$/.test(path)) {
        const answer = await fetch(`${collector}${path}`);
        return send(res, answer.status, 'application/json', await answer.text());
      }
      return send(res, 404, 'text/plain', 'not found');
    };
    serve().catch(() => send(res, 500, 'text/plain', 'error'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, show: (html: string) => (current = html), close: () => server.close() };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--collector');
  let collector = at === -1 ? undefined : process.argv[at + 1];
  let stopRuntime = async () => {};
  if (collector === undefined) {
    const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-browser-check-'));
    const runtime = await startLocalRuntime({
      port: 0,
      dataDir,
      logger: silentLogger,
      sources: [{ name: 'website', keys: [{ sha256: hashWriteKey(WRITE_KEY), revoked: false }] }],
      adminKeys: [{ name: 'check', keyHashes: [hashKey(ADMIN_KEY)] }],
    });
    collector = runtime.url;
    stopRuntime = async () => {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const playwright = 'playwright-core';
  const { chromium } = (await import(playwright).catch(() => {
    throw new Error('playwright-core is not installed: npm install --no-save playwright-core');
  })) as { chromium: { launch(options: object): Promise<Browser> } };
  const site = await startSite(collector);
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  let failures = 0;
  try {
    for (const scenario of SCENARIOS) {
      const ok = await run(browser, scenario, collector, site);
      if (!ok) failures += 1;
    }
  } finally {
    await browser.close();
    site.close();
    await stopRuntime();
  }
  console.log(failures === 0 ? '\nAll browser checks passed.' : `\n${failures} browser check(s) failed.`);
  process.exitCode = failures === 0 ? 0 : 1;
}

/** What this script uses of playwright-core (loaded at run time, so without its types). */
interface Browser {
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  newCDPSession(page: Page): Promise<CdpSession>;
  close(): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  evaluate(expression: string): Promise<unknown>;
}
interface CdpSession {
  send(method: string): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: each DevTools event has its own shape.
  on(event: string, listener: (event: any) => void): void;
}

async function run(
  browser: Browser,
  scenario: Scenario,
  collector: string,
  site: { url: string; show: (html: string) => void },
): Promise<boolean> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const lines: string[] = [];
  const offMachine: string[] = [];
  const corsFailures: string[] = [];
  const urls = new Map<string, string>();
  const collectorHost = new URL(collector).host;
  cdp.on(
    'Network.requestWillBeSent',
    (e: { requestId: string; type: string; request: { method: string; url: string } }) => {
      const url = new URL(e.request.url);
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) offMachine.push(e.request.url);
      if (url.host !== collectorHost) return;
      urls.set(e.requestId, `${e.request.method} ${url.pathname}`);
    },
  );
  cdp.on(
    'Network.responseReceived',
    (e: { requestId: string; type: string; response: { status: number } }) => {
      const request = urls.get(e.requestId);
      if (request !== undefined)
        lines.push(`${e.type === 'Preflight' ? 'preflight ' : ''}${request} ${e.response.status}`);
    },
  );
  cdp.on(
    'Network.loadingFailed',
    (e: { requestId: string; errorText: string; corsErrorStatus?: { corsError: string } }) => {
      const request = urls.get(e.requestId);
      if (e.corsErrorStatus !== undefined) corsFailures.push(`${request}: ${e.corsErrorStatus.corsError}`);
    },
  );
  site.show(scenario.html(collector, site.url));
  await page.goto(
    `${site.url}/page.html${scenario.name.includes('ajs_') ? '?ajs_event=Campaign%20Click' : ''}`,
  );
  let anonymousId: string | undefined;
  for (let waited = 0; waited < 10_000 && anonymousId === undefined; waited += 200) {
    await page.waitForTimeout(200);
    anonymousId = (await page.evaluate('window.anonymousId')) as string | undefined;
  }
  if (scenario.leave) await page.goto(`${site.url}/blank.html`);
  else await page.waitForTimeout(2000);
  await context.close();
  const counts = anonymousId === undefined ? undefined : await landed(collector, anonymousId);
  const ok =
    counts !== undefined &&
    counts.identify === 1 &&
    counts.page === 1 &&
    (counts.track ?? 0) >= 1 &&
    offMachine.length === 0 &&
    corsFailures.length === 0;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${scenario.name}`);
  console.log(`     landed: ${counts === undefined ? 'nothing' : JSON.stringify(counts)}`);
  console.log(
    `     requests to the collector: ${[...new Set(lines)].join(', ') || '(none seen: sent while unloading)'}`,
  );
  if (offMachine.length > 0) console.log(`     left this machine: ${offMachine.join(', ')}`);
  if (corsFailures.length > 0) console.log(`     refused by CORS: ${corsFailures.join(', ')}`);
  return ok;
}

/** The profile's event counts by type, once its events have been resolved (a few seconds at most). */
async function landed(collector: string, anonymousId: string): Promise<Record<string, number> | undefined> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const answer = await fetch(`${collector}/v1/profiles/anonymous_id:${encodeURIComponent(anonymousId)}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    if (answer.ok) {
      const profile = (await answer.json()) as { computed?: { typeCounts?: Record<string, number> } };
      const counts = profile.computed?.typeCounts ?? {};
      if ((counts.identify ?? 0) + (counts.page ?? 0) + (counts.track ?? 0) >= 3) return counts;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

await main();
