// The load generator, in its own process: autocannon against one URL, results as JSON on stdout.
import autocannon from 'autocannon';

const [url, connections, duration, bodyFile] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const { body, authorization } = JSON.parse(readFileSync(bodyFile as string, 'utf8')) as {
  body: string;
  authorization: string;
};

const result = await autocannon({
  url: url as string,
  connections: Number(connections),
  duration: Number(duration),
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization },
  body,
});
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  })}\n`,
);
