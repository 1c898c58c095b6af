/**
 * The issue-3 workload: people browsing, signing up and coming back on other devices, as a seeded,
 * deterministic sequence of Segment messages (the same options give the same messages, in the same
 * order, on any machine).
 *
 * - `people` people; who acts next is drawn from a Zipf distribution (rank r with weight 1 / r^s), so
 *   a few people are very active and most are seen once or twice.
 * - Each person has 1–3 devices (anonymous ids), one user id and one email. The SDK on a device sends
 *   the user id with every call once that device has identified (or aliased), as analytics.js does.
 * - The call type is drawn from the mix 70 % track, 20 % page, 8 % identify, 2 % alias, and shaped by
 *   the person's state: a person browses anonymously until an identify or alias comes; an identify on
 *   a second device meets the profile of the first (a merge), sometimes through the email alone (a
 *   newsletter form: no user id); an alias ties a device's anonymous id (`previousId`) to the user id
 *   (a merge when the device had browsed).
 *
 * `timestamp` is left to the sender, which stamps each message when it sends it.
 */

export interface WorkloadOptions {
  readonly people: number;
  readonly events: number;
  readonly seed: number;
  /** Zipf exponent s. Default 1. */
  readonly zipfExponent?: number;
}

export interface WorkloadPerson {
  readonly userId: string;
  readonly email: string;
  readonly devices: readonly string[];
}

export interface Workload {
  readonly people: readonly WorkloadPerson[];
  /** Messages in send order, without `timestamp`. */
  readonly messages: readonly Record<string, unknown>[];
  readonly counts: Readonly<Record<'track' | 'page' | 'identify' | 'alias', number>>;
  /** People who sent at least one message. */
  readonly activePeople: number;
  /** People whose user id appeared (identify or alias). */
  readonly identifiedPeople: number;
  /** Messages of the most active person. */
  readonly topPersonMessages: number;
}

/** sfc32: a small, fast, seedable generator with good statistical quality; floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** s;
    cdf[r] = total;
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const TRACK_EVENTS = [
  'Product Viewed',
  'Product List Viewed',
  'Product Added',
  'Cart Viewed',
  'Checkout Started',
  'Order Completed',
  'Products Searched',
  'Promotion Clicked',
  'Video Playback Started',
  'Signed In',
];
const PAGES = [
  { name: 'Home', path: '/' },
  { name: 'Product', path: '/products/monopoly' },
  { name: 'Category', path: '/c/board-games' },
  { name: 'Cart', path: '/cart' },
  { name: 'Pricing', path: '/pricing' },
  { name: 'Blog', path: '/blog/winter-games' },
];
const PLANS = ['free', 'pro', 'team'];
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
];

/** How a person's devices are used: the first most (weights by device count). */
const DEVICE_WEIGHTS = [[1], [0.7, 0.3], [0.6, 0.3, 0.1]];

/** The issue-3 workload for `options`; see the module comment. */
export function unifyWorkload(options: WorkloadOptions): Workload {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const nextPerson = zipfSampler(options.people, options.zipfExponent ?? 1, random);
  const tag = options.seed.toString(36);

  const people: WorkloadPerson[] = [];
  for (let p = 0; p < options.people; p++) {
    const deviceCount = 1 + (random() < 0.5 ? 0 : random() < 0.7 ? 1 : 2);
    people.push({
      userId: `u-${tag}-${p}`,
      email: `person.${p}.${tag}@example.com`,
      devices: Array.from({ length: deviceCount }, (_, d) => `anon-${tag}-${p}-${d}`),
    });
  }
  /** Per person: which devices' SDKs know the user id; how many messages. */
  const identifiedDevices = people.map((person) => new Array<boolean>(person.devices.length).fill(false));
  const messagesOf = new Uint32Array(options.people);
  const counts = { track: 0, page: 0, identify: 0, alias: 0 };
  const messages: Record<string, unknown>[] = [];

  for (let i = 0; i < options.events; i++) {
    const p = nextPerson();
    const person = people[p] as WorkloadPerson;
    const identified = identifiedDevices[p] as boolean[];
    messagesOf[p] = (messagesOf[p] as number) + 1;
    const weights = DEVICE_WEIGHTS[person.devices.length - 1] as number[];
    let d = 0;
    for (let x = random(); d < weights.length - 1 && x >= (weights[d] as number); d++) {
      x -= weights[d] as number;
    }
    const anonymousId = person.devices[d] as string;
    const page = pick(PAGES);
    const common = {
      messageId: `w-${tag}-${i}`,
      anonymousId,
      ...(identified[d] ? { userId: person.userId } : {}),
      context: {
        library: { name: 'analytics.js', version: 'next-1.70.0' },
        page: {
          path: page.path,
          referrer: 'https://www.google.com/',
          title: page.name,
          url: `https://shop.example.com${page.path}`,
        },
        userAgent: USER_AGENTS[d],
        locale: 'en-US',
      },
    };
    const kind = random();
    if (kind < 0.7) {
      counts.track++;
      messages.push({
        ...common,
        type: 'track',
        event: pick(TRACK_EVENTS),
        properties: { product_id: `p-${Math.floor(random() * 500)}`, price: 18.99, currency: 'USD' },
      });
    } else if (kind < 0.9) {
      counts.page++;
      messages.push({ ...common, type: 'page', name: page.name, properties: { path: page.path } });
    } else if (kind < 0.98) {
      counts.identify++;
      // A sign-up or log-in; on a device other than the first, one in four is a newsletter form that
      // only knows the email (the merge then goes through the email).
      const emailOnly = d > 0 && !identified[d] && random() < 0.25;
      if (!emailOnly) identified[d] = true;
      messages.push({
        ...common,
        type: 'identify',
        ...(emailOnly ? {} : { userId: person.userId }),
        traits: {
          email: person.email,
          ...(emailOnly ? {} : { plan: pick(PLANS), logins: messagesOf[p] }),
        },
      });
    } else {
      counts.alias++;
      identified[d] = true;
      messages.push({ ...common, type: 'alias', previousId: anonymousId, userId: person.userId });
    }
  }

  let activePeople = 0;
  let topPersonMessages = 0;
  for (const n of messagesOf) {
    if (n > 0) activePeople++;
    if (n > topPersonMessages) topPersonMessages = n;
  }
  return {
    people,
    messages,
    counts,
    activePeople,
    identifiedPeople: identifiedDevices.filter((devices) => devices.some(Boolean)).length,
    topPersonMessages,
  };
}
