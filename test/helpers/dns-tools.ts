// Tools for the DNS tests: the upstream zone, dig and raw-datagram clients, and fixtures registered for cleanup.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { DNSServer, type DNSServerOptions } from '../../lib/recall/dns/dns-server.js';
import { startAuthority, type Authority } from './authoritative-dns.js';

const run = promisify(execFile);

/** Cleanups registered by the fixtures below; a test file's afterEach runs and empties it. */
export const cleanups: Array<() => Promise<unknown>> = [];

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

const manyAddresses = Array.from({ length: 60 }, (_, i) => ({
  type: 'A' as const,
  data: `192.0.2.${i + 1}`,
  ttl: 120,
}));
export const ZONE = {
  zone: {
    'www.example.test': [
      { type: 'A' as const, data: '192.0.2.10', ttl: 1234 },
      { type: 'AAAA' as const, data: '2001:db8::10', ttl: 1234 },
    ],
    'alias.example.test': [{ type: 'CNAME' as const, data: 'www.example.test', ttl: 600 }],
    'v4only.example.test': [{ type: 'A' as const, data: '192.0.2.20', ttl: 77 }],
    'mail.example.test': [{ type: 'MX' as const, data: { preference: 10, exchange: 'mx.example.test' } }],
    'big.example.test': manyAddresses,
    'trunc.example.test': [{ type: 'A' as const, data: '192.0.2.30', ttl: 50 }],
    '10.2.0.192.in-addr.arpa': [{ type: 'PTR' as const, data: 'www.example.test' }],
  },
  servfail: ['broken.example.test'],
  silent: ['silent.example.test'],
  truncate: ['trunc.example.test'],
};

export async function authority(): Promise<Authority> {
  const started = await startAuthority(ZONE);
  cleanups.push(() => started.close());
  return started;
}

export async function server(options: DNSServerOptions): Promise<DNSServer> {
  const started = await DNSServer.start(options);
  cleanups.push(() => started.close());
  return started;
}

export interface DigResult {
  status: string;
  flags: string[];
  answers: Array<{ name: string; ttl: number; type: string; data: string }>;
}

export async function dig(port: number, name: string, type: string, ...extra: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    name,
    type,
    '+tries=1',
    '+time=5',
    '+noall',
    '+comments',
    '+answer',
    ...extra,
  ]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? `no reply: ${stdout}`;
  const flags = (/;; flags: ([a-z ]+);/.exec(stdout)?.[1] ?? '').trim().split(' ');
  const answers = stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => {
      const [owner = '', ttl = '0', , rrType = '', ...data] = line.split(/\s+/);
      return { name: owner, ttl: Number(ttl), type: rrType, data: data.join(' ') };
    });
  return { status, flags, answers };
}

/**
 * Sends one raw datagram to 127.0.0.1:`port` and returns the reply, or undefined after `waitMs`; `localAddress`
 * picks the source (another 127.x address is another client).
 */
export function udpExchange(port: number, message: Buffer, waitMs = 1000, localAddress?: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.bind(0, localAddress, () => socket.send(message, port, '127.0.0.1'));
  });
}

export function query(name: string, type: dnsPacket.RecordType, id = 4242): Buffer {
  return dnsPacket.encode({
    id,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
  });
}
