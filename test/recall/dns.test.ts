// Recall's DNS client and server against real clients: dig over UDP and TCP, Node's dgram, and a real upstream
// (the authority helper). Recording and playback are in dns-record-playback.test.ts.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DNSClient } from '../../lib/recall/dns/dns-client.js';
import { DNSServer } from '../../lib/recall/dns/dns-server.js';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import { decodeMessage } from '../../lib/recall/dns/dns-transport.js';
import { authority, cleanups, dig, query, runCleanups, server, udpExchange } from '../helpers/dns-tools.js';

afterEach(runCleanups);

describe('DNSClient (live upstream)', () => {
  it('keeps upstream TTLs, flattens CNAME chains, and tells NXDOMAIN from NODATA', async () => {
    const upstream = await authority();
    const client = new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] });
    expect(await client.resolve({ name: 'WWW.Example.Test.', type: 'A' })).toEqual({
      name: 'www.example.test',
      type: 'A',
      ttl: 1234,
      data: ['192.0.2.10'],
    });
    expect(await client.resolve({ name: 'alias.example.test', type: 'AAAA' })).toEqual({
      name: 'alias.example.test',
      type: 'AAAA',
      ttl: 600,
      data: ['2001:db8::10'],
    });
    expect(await client.resolve({ name: 'v4only.example.test', type: 'AAAA' })).toEqual({
      name: 'v4only.example.test',
      type: 'AAAA',
      ttl: 30,
      data: [],
    });
    expect(await client.resolve({ name: 'nope.example.test', type: 'A' })).toEqual({
      name: 'nope.example.test',
      type: 'A',
      ttl: 30,
      data: [],
      rcode: 'NXDOMAIN',
    });
    expect(await client.resolve({ name: '10.2.0.192.in-addr.arpa', type: 'PTR' })).toMatchObject({
      data: ['www.example.test'],
    });
  });

  it('repeats a truncated UDP answer over TCP', async () => {
    const upstream = await authority();
    const client = new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] });
    expect((await client.resolve({ name: 'trunc.example.test', type: 'A' })).data).toEqual(['192.0.2.30']);
    expect(upstream.log).toEqual(['udp A trunc.example.test', 'tcp A trunc.example.test']);
  });

  it('surfaces SERVFAIL and silence as typed errors, after retrying and trying the next server', async () => {
    const upstream = await authority();
    const client = new DNSClient({
      servers: [{ host: '127.0.0.1', port: upstream.port }],
      timeoutMs: 200,
      attempts: 2,
    });
    await expect(client.resolve({ name: 'broken.example.test', type: 'A' })).rejects.toMatchObject({
      code: 'ERR_DNS_UPSTREAM_FAILED',
    });
    await expect(client.resolve({ name: 'silent.example.test', type: 'A' })).rejects.toMatchObject({
      code: 'ERR_DNS_UPSTREAM_TIMEOUT',
      message: /2 tries each/,
    });
    expect(upstream.log.filter((l) => l.includes('silent'))).toHaveLength(2);
    const dead = await authority();
    await dead.close();
    const failover = new DNSClient({
      servers: [
        { host: '127.0.0.1', port: dead.port },
        { host: '127.0.0.1', port: upstream.port },
      ],
      timeoutMs: 200,
      attempts: 1,
    });
    expect((await failover.resolve({ name: 'v4only.example.test', type: 'A' })).data).toEqual(['192.0.2.20']);
  });

  it('shares a few UDP sockets among concurrent questions instead of one socket each', async () => {
    const ports = new Set<number>();
    const upstream = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    upstream.on('message', (message, remote) => {
      ports.add(remote.port);
      const reply = Buffer.from(message);
      reply.writeUInt16BE(0x8183, 2); // NXDOMAIN, question echoed
      upstream.send(reply, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const client = new DNSClient({
      servers: [{ host: '127.0.0.1', port: upstream.address().port }],
      attempts: 1,
    });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.resolve({ name: `q${i}.pool.test`, type: 'A' })),
    );
    expect(answers.every((a) => a.rcode === 'NXDOMAIN')).toBe(true);
    expect(answers.map((a) => a.name)).toEqual(Array.from({ length: 200 }, (_, i) => `q${i}.pool.test`));
    expect(ports.size).toBeLessThanOrEqual(8);
  });

  it('reads its servers from a resolv.conf and says when there are none', async () => {
    const upstream = await authority();
    const dir = await mkdtemp(join(tmpdir(), 'recall-resolv-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'resolv.conf'), `# test\nsearch example.test\nnameserver 127.0.0.1\n`);
    expect(await new DNSClient({ resolvConfPath: join(dir, 'resolv.conf') }).servers()).toEqual([
      { host: '127.0.0.1', port: 53 },
    ]);
    await writeFile(join(dir, 'empty.conf'), 'search example.test\n');
    await expect(
      new DNSClient({ resolvConfPath: join(dir, 'empty.conf') }).resolve({ name: 'x', type: 'A' }),
    ).rejects.toMatchObject({ code: 'ERR_DNS_NO_SERVERS' });
    expect(() => new DNSClient({ servers: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_DNS_NO_SERVERS' }),
    );
    expect(() => new DNSClient({ servers: [{ host: 'localhost', port: upstream.port }] })).toThrow(
      expect.objectContaining({ code: 'ERR_DNS_INVALID_OPTION' }),
    );
  });
});

describe('DNSServer', () => {
  it('answers dig over UDP and TCP on one port, echoing the question case and keeping TTLs', async () => {
    const upstream = await authority();
    const dns = await server({
      resolver: new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] }),
    });
    expect(dns.port).toBeGreaterThan(0);
    for (const transport of ['+notcp', '+tcp']) {
      const a = await dig(dns.port, 'WwW.ExAmple.TEST', 'A', transport);
      expect(a.status).toBe('NOERROR');
      expect(a.flags).toContain('ra');
      expect(a.answers).toEqual([{ name: 'WwW.ExAmple.TEST.', ttl: 1234, type: 'A', data: '192.0.2.10' }]);
      expect((await dig(dns.port, 'www.example.test', 'AAAA', transport)).answers[0]).toMatchObject({
        type: 'AAAA',
        data: '2001:db8::10',
      });
      expect((await dig(dns.port, '10.2.0.192.in-addr.arpa', 'PTR', transport)).answers[0]).toMatchObject({
        type: 'PTR',
        data: 'www.example.test.',
      });
    }
  });

  it('answers NODATA (not NOTIMP) for other types, NXDOMAIN only for missing names, SERVFAIL on upstream failure', async () => {
    const upstream = await authority();
    const dns = await server({
      resolver: new DNSClient({
        servers: [{ host: '127.0.0.1', port: upstream.port }],
        timeoutMs: 200,
        attempts: 1,
      }),
    });
    expect(await dig(dns.port, 'mail.example.test', 'MX')).toMatchObject({ status: 'NOERROR', answers: [] });
    expect(await dig(dns.port, 'www.example.test', 'TXT', '+tcp')).toMatchObject({
      status: 'NOERROR',
      answers: [],
    });
    expect(await dig(dns.port, 'v4only.example.test', 'AAAA')).toMatchObject({
      status: 'NOERROR',
      answers: [],
    });
    expect(await dig(dns.port, 'nope.example.test', 'A')).toMatchObject({ status: 'NXDOMAIN', answers: [] });
    expect(await dig(dns.port, 'nope.example.test', 'MX')).toMatchObject({ status: 'NXDOMAIN', answers: [] });
    expect(await dig(dns.port, 'broken.example.test', 'A')).toMatchObject({ status: 'SERVFAIL' });
    expect(await dig(dns.port, 'silent.example.test', 'A', '+tcp')).toMatchObject({ status: 'SERVFAIL' });
    expect(dns.stats).toMatchObject({ NXDOMAIN: 2, SERVFAIL: 2 });
  });

  it('answers SERVFAIL when a resolver never settles', async () => {
    const dns = await server({
      resolver: { resolve: () => new Promise(() => undefined) },
      resolveTimeoutMs: 200,
    });
    expect(await dig(dns.port, 'hang.test', 'A')).toMatchObject({ status: 'SERVFAIL' });
    expect(await dig(dns.port, 'hang.test', 'MX', '+tcp')).toMatchObject({ status: 'SERVFAIL' });
  });

  it('truncates large UDP answers for clients without EDNS; dig then gets everything over TCP', async () => {
    const upstream = await authority();
    const dns = await server({
      resolver: new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] }),
    });
    const reply = dnsPacket.decode(
      (await udpExchange(dns.port, query('big.example.test', 'A'))) ?? Buffer.alloc(0),
    );
    expect(reply.flag_tc).toBe(true);
    expect(reply.answers).toEqual([]);
    const viaDig = await dig(dns.port, 'big.example.test', 'A', '+noedns');
    expect(viaDig.answers).toHaveLength(60);
    expect((await dig(dns.port, 'big.example.test', 'A', '+bufsize=4096')).answers).toHaveLength(60);
  });

  it('survives garbage: FORMERR when the header is readable, silence otherwise, and keeps answering', async () => {
    const upstream = await authority();
    const dns = await server({
      resolver: new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] }),
    });
    expect(await udpExchange(dns.port, Buffer.from([1, 2, 3]), 300)).toBeUndefined();
    const garbage = Buffer.concat([
      Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x07]),
      Buffer.alloc(40, 0xff),
    ]);
    const formerr = await udpExchange(dns.port, garbage);
    expect(formerr?.readUInt16BE(0)).toBe(0xabcd);
    expect((formerr?.readUInt16BE(2) ?? 0) & 0x800f).toBe(0x8001);
    const response = dnsPacket.encode({
      id: 7,
      type: 'response',
      questions: [{ name: 'x.test', type: 'A' }],
    });
    expect(await udpExchange(dns.port, response, 300)).toBeUndefined();
    const chaos = dnsPacket.encode({
      id: 8,
      type: 'query',
      questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }],
    });
    expect(decodeMessage((await udpExchange(dns.port, chaos)) ?? Buffer.alloc(0)).rcode).toBe('NOTIMP');
    const twoQuestions = dnsPacket.encode({
      id: 9,
      type: 'query',
      questions: [
        { name: 'a.test', type: 'A' },
        { name: 'b.test', type: 'A' },
      ],
    });
    expect(decodeMessage((await udpExchange(dns.port, twoQuestions)) ?? Buffer.alloc(0)).rcode).toBe(
      'FORMERR',
    );
    for (let i = 0; i < 20; i += 1)
      await udpExchange(
        dns.port,
        Buffer.from(Array.from({ length: 12 + i }, (_, j) => (i * 31 + j * 7) & 255)),
        50,
      );
    // TCP: a frame of garbage, a truncated frame, then a real query on a fresh connection.
    const tcp = connect({ host: '127.0.0.1', port: dns.port });
    await new Promise((resolve) => tcp.once('connect', resolve));
    tcp.write(Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5, 0x00, 0x40, 9]));
    tcp.destroy();
    expect((await dig(dns.port, 'www.example.test', 'A', '+tcp')).answers[0]?.data).toBe('192.0.2.10');
    expect((await dig(dns.port, 'www.example.test', 'A')).answers[0]?.data).toBe('192.0.2.10');
  });

  it('refuses bad options and can be closed twice', async () => {
    await expect(
      DNSServer.start({ resolver: new PlaybackDNSClient([]), host: 'localhost' }),
    ).rejects.toMatchObject({ code: 'ERR_DNS_INVALID_OPTION' });
    const dns = await server({ resolver: new PlaybackDNSClient([]) });
    await expect(
      DNSServer.start({ resolver: new PlaybackDNSClient([]), port: dns.port }),
    ).rejects.toMatchObject({ code: 'ERR_DNS_LISTEN' });
    await dns.close();
    await dns.close();
  });
});
