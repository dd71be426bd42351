// A DNS flood while recording must not pile abort listeners on one signal: every pending query used to add one
// to the signal its 100 ms slice shared (MaxListenersExceededWarning), so the signals are per query now.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchivingDNSClient } from '../../lib/recall/dns/archiving-dns-client.js';
import { DeadlineSignals } from '../../lib/recall/deadline-signals.js';
import { DNSClient } from '../../lib/recall/dns/dns-client.js';
import type { RecordedDnsAnswer } from '../../lib/recall/dns/dns-types.js';
import { cleanups, query, runCleanups, server } from '../helpers/dns-tools.js';

afterEach(runCleanups);

/** An upstream that answers every question NXDOMAIN after `delayMs`, so queries stay pending together. */
async function slowUpstream(delayMs: number): Promise<number> {
  // A resolver-sized receive buffer: the recorder sends the 300 first lookups in one burst.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (message, remote) => {
    const reply = Buffer.from(message);
    reply.writeUInt16BE(0x8183, 2);
    setTimeout(() => socket.send(reply, remote.port, remote.address), delayMs);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

/** Collects process warnings until `stop()`. */
function watchWarnings(): { warnings: Error[]; stop(): void } {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  return { warnings, stop: () => process.off('warning', onWarning) };
}

describe('DNS deadlines', () => {
  it('answers a burst of 300 pending questions while recording without a listener warning', async () => {
    const upstreamPort = await slowUpstream(300);
    // Retries as a resolver makes them: the kernel caps the upstream's receive buffer (net.core.rmem_max, about
    // 256 small datagrams), so on a loaded machine a burst can lose a few questions on their way upstream.
    const recorder = await server({
      resolver: new ArchivingDNSClient(
        new DNSClient({ servers: [{ host: '127.0.0.1', port: upstreamPort }], timeoutMs: 1000, attempts: 3 }),
      ),
    });
    const watch = watchWarnings();
    const client = createSocket('udp4');
    const answered = new Set<number>();
    client.on('message', (reply) => answered.add(reply.readUInt16BE(0)));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    for (let id = 0; id < 300; id += 1) {
      client.send(query(`n${id}.flood.test`, 'A', id), recorder.port, '127.0.0.1');
      if (id % 10 === 9) await new Promise((r) => setTimeout(r, 1)); // paced: a burst could overflow socket buffers
    }
    for (let i = 0; i < 1000 && answered.size < 300; i += 1) await new Promise((r) => setTimeout(r, 10));
    client.close();
    await new Promise((r) => setImmediate(r));
    watch.stop();
    expect(answered.size).toBe(300);
    expect(recorder.stats.NXDOMAIN).toBe(300);
    expect(watch.warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });

  it('answers and records the questions already received when it is closed', async () => {
    const upstreamPort = await slowUpstream(300);
    const sink: RecordedDnsAnswer[] = [];
    const recorder = await server({
      resolver: new ArchivingDNSClient(
        new DNSClient({ servers: [{ host: '127.0.0.1', port: upstreamPort }], timeoutMs: 2000, attempts: 1 }),
        { sink },
      ),
    });
    const client = createSocket('udp4');
    const replies: Buffer[] = [];
    client.on('message', (reply) => replies.push(reply));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    client.send(query('late.drain.test', 'A', 77), recorder.port, '127.0.0.1');
    for (let i = 0; i < 200 && recorder.stats.queries === 0; i += 1)
      await new Promise((r) => setTimeout(r, 5));
    await recorder.close(); // the upstream answers 300 ms later: close waits for it
    await new Promise((r) => setTimeout(r, 50));
    client.close();
    expect(replies.map((r) => r.readUInt16BE(0))).toEqual([77]);
    expect(sink.map((a) => a.name)).toEqual(['late.drain.test']);
  });

  it('aborts a pending signal at its deadline and forgets finished ones', async () => {
    const deadlines = new DeadlineSignals(50, () => new Error('late'));
    const pending = deadlines.next();
    const finished = deadlines.next();
    const finishedSignal = finished.signal;
    finished.done();
    const unused = deadlines.next();
    unused.done();
    await new Promise<void>((resolve) => pending.signal.addEventListener('abort', () => resolve()));
    expect((pending.signal.reason as Error).message).toBe('late');
    expect(finishedSignal.aborted).toBe(false);
    const closing = deadlines.next();
    deadlines.abortAll(new Error('closed'));
    expect(closing.signal.aborted).toBe(false); // made after abortAll cleared its slice: a fresh one
    const late = deadlines.next();
    const signal = late.signal;
    deadlines.abortAll(new Error('closed'));
    expect((signal.reason as Error).message).toBe('closed');
  });
});
