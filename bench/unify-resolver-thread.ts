// The unify benchmark's resolver thread: the local runtime's own (`src/local/resolver-thread.ts`),
// its identity store instrumented as the server's main thread is. The server asks over a
// BroadcastChannel for the thread's calls and reads.
import { BroadcastChannel } from 'node:worker_threads';
import {
  instrumentStore,
  noCalls,
  RESOLVER_THREAD_CHANNEL,
  type ResolverThreadCalls,
} from './unify-instrument';
import '../src/local/resolver-thread';

const calls = noCalls();
const reads: number[] = [];
instrumentStore(calls, reads);

const channel = new BroadcastChannel(RESOLVER_THREAD_CHANNEL);
channel.unref();
channel.onmessage = (message) => {
  const { id } = (message as { data: { id: number } }).data;
  const answer: ResolverThreadCalls = { id, calls: { ...calls }, reads: reads.splice(0) };
  channel.postMessage(answer);
};
