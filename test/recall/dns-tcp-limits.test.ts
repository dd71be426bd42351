// DNS over TCP under slow and hostile clients, and the allowed-clients option on UDP and TCP. Before: any byte
// reset the idle timer and 512 connections in all shut TCP off for everyone.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import { frameDnsMessage } from '../../lib/recall/dns/dns-transport.js';
import { query, runCleanups, server, udpExchange } from '../helpers/dns-tools.js';

afterEach(runCleanups);

const RECORDED = [{ name: 'www.example.test', type: 'A' as const, ttl: 60, data: ['192.0.2.10'] }];

/** One DNS query over TCP from `localAddress`; resolves with the reply's bytes, or undefined when closed first. */
function tcpQuery(port: number, localAddress: string, waitMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('connect', () => socket.write(frameDnsMessage(query('www.example.test', 'A'))));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buffer.subarray(2));
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(buffer.length > 2 ? buffer.subarray(2) : undefined);
    });
  });
}

describe('DNS over TCP limits', () => {
  it('keeps answering other sources while one source holds 512 slow connections', async () => {
    const dns = await server({ resolver: new PlaybackDNSClient(RECORDED), tcpMessageTimeoutMs: 60_000 });
    const slow: net.Socket[] = [];
    const trickle = setInterval(() => {
      for (const socket of slow) if (!socket.destroyed) socket.write(Buffer.from([0]));
    }, 200);
    try {
      await Promise.all(
        Array.from({ length: 512 }, () => {
          const socket = net.connect({ port: dns.port, host: '127.0.0.1' });
          socket.on('error', () => undefined);
          slow.push(socket);
          return new Promise<void>((resolve) => {
            socket.once('connect', () => resolve());
            socket.once('close', () => resolve());
          });
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(slow.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(32); // the per-source cap
      const reply = await tcpQuery(dns.port, '127.0.0.2');
      expect(reply).toBeDefined();
      expect(reply!.readUInt16BE(6)).toBe(1); // one answer
    } finally {
      clearInterval(trickle);
      for (const socket of slow) socket.destroy();
    }
  });

  it('closes a connection whose message does not complete in time, though bytes keep coming', async () => {
    const dns = await server({
      resolver: new PlaybackDNSClient(RECORDED),
      tcpMessageTimeoutMs: 800,
      tcpIdleTimeoutMs: 60_000,
    });
    const socket = net.connect({ port: dns.port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    const message = frameDnsMessage(query('www.example.test', 'A'));
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < message.length - 1 && !socket.destroyed) socket.write(message.subarray(sent, ++sent));
    }, 100);
    const closedAfter = await new Promise<number>((resolve) => {
      const started = Date.now();
      socket.on('close', () => resolve(Date.now() - started));
      setTimeout(() => {
        resolve(-1);
        socket.destroy();
      }, 10_000);
    });
    clearInterval(trickle);
    expect(closedAfter).toBeGreaterThan(0); // closed by the server, not by the 10 s guard
    expect(sent).toBeLessThan(message.length - 1); // while it was still sending
  });

  it('answers only allowed clients when allowedClients is set, on UDP and TCP', async () => {
    const dns = await server({ resolver: new PlaybackDNSClient(RECORDED), allowedClients: ['127.0.0.2'] });
    expect(await udpExchange(dns.port, query('www.example.test', 'A'), 500, '127.0.0.1')).toBeUndefined();
    expect(await tcpQuery(dns.port, '127.0.0.1')).toBeUndefined();
    expect((await udpExchange(dns.port, query('www.example.test', 'A'), 500, '127.0.0.2'))?.readUInt16BE(6)).toBe(1);
    expect((await tcpQuery(dns.port, '127.0.0.2'))?.readUInt16BE(6)).toBe(1);
    expect(dns.stats.queries).toBe(2);
  });

  it('refuses an allowedClients entry that is not an address, naming it', async () => {
    await expect(
      server({ resolver: new PlaybackDNSClient(RECORDED), allowedClients: ['device-1'] }),
    ).rejects.toThrow(/allowedClients must hold IP addresses, got "device-1"/);
  });
});
