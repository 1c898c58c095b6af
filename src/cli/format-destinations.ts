import type { DestinationFieldView, DestinationTestView, DestinationView } from '../core/activation/views';
import { cell, table } from './format';
import { formatCount } from './format-segments';
import { formatDuration } from './jobs';

/**
 * The `mosaic destinations` human output: pure functions from the Destinations API's views
 * (core/activation/views.ts) to text, every line ending with `\n` and every value cleaned.
 */

/** Where a destination sends: a webhook's host, a file drop's bucket and prefix, a queue, a function. */
export function destinationTarget(view: DestinationView): string {
  if (view.webhook !== undefined) return cell(view.webhook.host);
  if (view.fileDrop !== undefined) return cell(`s3://${view.fileDrop.bucket}/${view.fileDrop.prefix}`);
  if (view.sqs !== undefined) return cell(view.sqs.queue);
  if (view.lambda !== undefined) return cell(view.lambda.functionArn);
  return '—';
}

function consentText(view: DestinationView): string {
  const { category, required, adType } = view.consent;
  const base = category === null ? 'none' : `${cell(category)} (${required ? 'opt-in' : 'opt-out'})`;
  return adType ? `${base}, ad-type: unknown consent is not sent` : base;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

/** Destinations as a table, in the configuration's order. */
export function formatDestinationList(destinations: readonly DestinationView[]): string {
  if (destinations.length === 0) return 'No destinations\n';
  const local = destinations.some((d) => d.localWorker !== undefined);
  const head = `${destinations.length} destination${destinations.length === 1 ? '' : 's'}\n`;
  return (
    head +
    table(
      destinations.map((d) => [
        cell(d.name),
        cell(d.kind),
        yesNo(d.enabled),
        d.segments.map((s) => cell(s)).join(', '),
        d.consent.category === null ? 'none' : cell(d.consent.category),
        destinationTarget(d),
        ...(local ? [d.localWorker === true ? 'yes' : 'no'] : []),
      ]),
      {
        headers: ['NAME', 'KIND', 'ENABLED', 'SEGMENTS', 'CONSENT', 'TARGET', ...(local ? ['LOCAL'] : [])],
      },
    )
  );
}

function fieldText(field: DestinationFieldView): string {
  return `${cell(field.name)} ${field.pii}${field.normalize === undefined ? '' : ` (${field.normalize})`}`;
}

/** One destination: its facts, then the fields it receives with their PII policy. */
export function formatDestination(view: DestinationView): string {
  const out: string[] = [`Destination ${cell(view.name)} (${cell(view.kind)})\n`];
  const facts: [string, string][] = [];
  if (view.description !== undefined && view.description !== '')
    facts.push(['description', cell(view.description, 200)]);
  facts.push(['enabled', yesNo(view.enabled)], ['segments', view.segments.map((s) => cell(s)).join(', ')]);
  facts.push(['consent', consentText(view)]);
  if (view.webhook !== undefined) {
    const w = view.webhook;
    facts.push(
      ['host', cell(w.host)],
      ['request', `${w.method}, ${w.signed ? 'signed' : 'unsigned'}, auth ${cell(w.auth)}`],
      ['rate limit', `${w.rateLimitPerSecond}/s`],
      ['timeout', formatDuration(w.timeoutMs)],
      ['payload', w.template ? 'template' : 'default'],
    );
  }
  if (view.fileDrop !== undefined) {
    facts.push(
      ['location', cell(`s3://${view.fileDrop.bucket}/${view.fileDrop.prefix}`)],
      ['columns', view.fileDrop.columns.map((c) => cell(c)).join(', ')],
    );
  }
  if (view.sqs !== undefined) facts.push(['queue', cell(view.sqs.queue)]);
  if (view.lambda !== undefined) facts.push(['function', cell(view.lambda.functionArn)]);
  facts.push(
    ['batch size', formatCount(view.batchSize)],
    ['concurrency', String(view.reservedConcurrency)],
    [
      'retries',
      `${view.retry.maxAttempts} attempts, back-off ${formatDuration(view.retry.baseDelayMs)} to ${formatDuration(view.retry.maxDelayMs)}`,
    ],
  );
  if (view.localWorker !== undefined)
    facts.push(['local worker', view.localWorker ? 'yes' : 'no (delivered in AWS only)']);
  out.push(table(facts));
  const fields = [
    ...view.fields.identifiers.map((f) => ['identifier', fieldText(f)]),
    ...view.fields.traits.map((f) => ['trait', fieldText(f)]),
  ];
  out.push(fields.length === 0 ? '\nFields: profile id only\n' : `\nFields (PII policy)\n${table(fields)}`);
  return out.join('');
}

/** A test delivery's result: ok or why not, and how long it took. */
export function formatDestinationTest(view: DestinationTestView): string {
  const verdict = view.ok ? 'ok' : `FAILED${view.error === undefined ? '' : `: ${cell(view.error, 300)}`}`;
  const out: string[] = [`Test of destination ${cell(view.destination)} (${cell(view.kind)}): ${verdict}\n`];
  const facts: [string, string][] = [];
  if (view.status !== undefined) facts.push(['status', String(view.status)]);
  facts.push(['attempts', String(view.attempts)], ['elapsed', formatDuration(view.elapsedMs)]);
  if (!view.ok && view.retryable !== undefined)
    facts.push(['retryable', view.retryable ? 'yes (a delivery would retry it)' : 'no']);
  facts.push(['idempotency key', cell(view.idempotencyKey)], ['tested', cell(view.testedAt)]);
  out.push(table(facts));
  return out.join('');
}
