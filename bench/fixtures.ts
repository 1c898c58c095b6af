/**
 * Realistic Segment traffic for the benchmarks: analytics.js-shaped track/page/identify messages with
 * the context a browser SDK sends, in 20-message batches.
 */
export const BENCH_WRITE_KEY = 'bench-write-key';

let counter = 0;

/** An id shaped like the UUID v4 analytics.js makes for `anonymousId`; the same for the same `n`. */
function anonymousIdOf(n: number): string {
  const hex = (n * 2654435761 + 0x9e3779b9).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(0, 3)}-a${hex.slice(3, 6)}-${hex}`;
}

export function message(i: number): Record<string, unknown> {
  const kind = i % 10;
  const common = {
    messageId: `bench-${process.pid}-${counter++}`,
    anonymousId: anonymousIdOf(i % 5000),
    ...(i % 3 === 0 ? { userId: `user-${i % 2000}` } : {}),
    timestamp: new Date(Date.now() - (i % 1000)).toISOString(),
    context: {
      library: { name: 'analytics.js', version: 'next-1.70.0' },
      page: {
        path: '/products/monopoly',
        referrer: 'https://www.google.com/',
        search: '',
        title: 'Monopoly: 3rd Edition',
        url: 'https://shop.example.com/products/monopoly',
      },
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      locale: 'en-US',
      timezone: 'Europe/Amsterdam',
      campaign: { name: 'winter-sale', source: 'newsletter', medium: 'email' },
    },
  };
  if (kind < 7) {
    return {
      ...common,
      type: 'track',
      event: 'Product Viewed',
      properties: {
        product_id: `p-${i % 500}`,
        sku: 'G-32',
        category: 'Games',
        name: 'Monopoly: 3rd Edition',
        brand: 'Hasbro',
        price: 18.99,
        quantity: 1,
        currency: 'USD',
        position: 3,
      },
    };
  }
  if (kind < 9)
    return {
      ...common,
      type: 'page',
      name: 'Product',
      properties: { path: '/products/monopoly', title: 'Monopoly: 3rd Edition' },
    };
  return {
    ...common,
    type: 'identify',
    traits: { email: `person${i % 2000}@example.com`, plan: 'pro', logins: i % 50 },
  };
}

/** `count` batch bodies of `size` messages each, as SDKs send them to /v1/batch. */
export function batchBodies(count: number, size = 20): string[] {
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify({
      batch: Array.from({ length: size }, (_, i) => message(b * size + i)),
      sentAt: new Date().toISOString(),
    }),
  );
}
