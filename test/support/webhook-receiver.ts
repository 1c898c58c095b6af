import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/core/activation/signing';

/** One request a receiver got, as it arrived. */
export interface ReceivedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  readonly body: string;
  readonly idempotencyKey: string | undefined;
  /** Whether `Mosaic-Signature` verified against the receiver's secret (undefined without a secret). */
  readonly verified: boolean | undefined;
  /** The status the receiver answered. */
  readonly status: number;
  /** The how-many-th request with this idempotency key (1-based). */
  readonly attempt: number;
}

export interface ReceiverAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
}

/** Decides the answer to a request from its idempotency key and the attempt number with that key. */
export type ReceiverBehaviour = (request: {
  idempotencyKey: string | undefined;
  attempt: number;
}) => ReceiverAnswer;

/**
 * A real HTTP webhook receiver on 127.0.0.1 for activation tests: it verifies each request's signature
 * (as a receiver should, over the raw body), answers as the behaviour says, and keeps every request.
 * `accepted()` are the requests it answered 2xx: what it would have acted on — deduped by
 * `Idempotency-Key`, as the signing docs ask receivers to do.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly attempts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(
    behaviour: ReceiverBehaviour = () => ({ status: 200 }),
    secret?: string,
  ): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['mosaic-signature'];
        const key = req.headers['idempotency-key'];
        const idempotencyKey = typeof key === 'string' ? key : undefined;
        const self = receiver as WebhookReceiver;
        const attempt = (self.attempts.get(idempotencyKey ?? '') ?? 0) + 1;
        self.attempts.set(idempotencyKey ?? '', attempt);
        const answer = behaviour({ idempotencyKey, attempt });
        self.requests.push({
          method: req.method ?? '',
          headers: req.headers,
          body,
          idempotencyKey,
          verified:
            secret === undefined
              ? undefined
              : verifySignature(body, typeof header === 'string' ? header : undefined, secret, Date.now()).ok,
          status: answer.status,
          attempt,
        });
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/hook`);
    return receiver;
  }

  /** Requests answered 2xx, first per idempotency key. */
  accepted(): ReceivedRequest[] {
    const seen = new Set<string | undefined>();
    return this.requests.filter((r) => {
      if (r.status < 200 || r.status > 299 || seen.has(r.idempotencyKey)) return false;
      seen.add(r.idempotencyKey);
      return true;
    });
  }

  /** Every 2xx request (duplicates included): a receiver that did not dedupe would act on each. */
  acceptedAll(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status <= 299);
  }

  /** Profile ids in the accepted payloads (default payload shape), in order. */
  acceptedProfileIds(): string[] {
    return this.acceptedAll().flatMap((r) =>
      (JSON.parse(r.body) as { members: { profileId: string }[] }).members.map((m) => m.profileId),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
