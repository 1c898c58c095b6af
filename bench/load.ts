// The load generator, in its own process: autocannon against one URL, results as JSON on stdout. Given
// the server's pid, it also reports the server's CPU over exactly the time the load ran.
import autocannon from 'autocannon';
import { cpuBetween, sampleCpu } from './proc-cpu';

const [url, connections, duration, bodyFile, serverPid] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const { body, authorization } = JSON.parse(readFileSync(bodyFile as string, 'utf8')) as {
  body: string;
  authorization: string;
};

const before = serverPid === undefined ? undefined : sampleCpu(Number(serverPid));
const result = await autocannon({
  url: url as string,
  connections: Number(connections),
  duration: Number(duration),
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization },
  body,
});
const cpu = serverPid === undefined ? undefined : cpuBetween(before, sampleCpu(Number(serverPid)));
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
    ...(cpu === undefined ? {} : { cpu }),
  })}\n`,
);
