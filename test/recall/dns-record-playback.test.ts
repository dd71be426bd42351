// Recording and playback of DNS: record from a real upstream through dig and dgram, stop the upstream, and play
// the same answers back; the name map; redirecting every name to one address.
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DNSClient } from '../../lib/recall/dns/dns-client.js';
import { ArchivingDNSClient } from '../../lib/recall/dns/archiving-dns-client.js';
import { PlaybackDNSClient } from '../../lib/recall/dns/playback-dns-client.js';
import { NameMap } from '../../lib/recall/dns/name-map.js';
import type { RecordedDnsAnswer } from '../../lib/recall/dns/dns-types.js';
import { authority, dig, query, runCleanups, server, udpExchange } from '../helpers/dns-tools.js';

afterEach(runCleanups);

describe('DNS record and playback', () => {
  it('records from the upstream, then plays back identical answers with the upstream gone', async () => {
    const upstream = await authority();
    const sink: RecordedDnsAnswer[] = [];
    const recordMap = new NameMap();
    const recorder = await server({
      resolver: new ArchivingDNSClient(
        new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }], timeoutMs: 300 }),
        { sink },
      ),
      nameMap: recordMap,
    });
    const questions: Array<[string, string, string[]]> = [
      ['www.example.test', 'A', ['+notcp']],
      ['WWW.example.test', 'AAAA', ['+tcp']],
      ['alias.example.test', 'A', []],
      ['v4only.example.test', 'AAAA', []],
      ['nope.example.test', 'A', ['+tcp']],
      ['mail.example.test', 'MX', []],
      ['10.2.0.192.in-addr.arpa', 'PTR', []],
    ];
    const recorded = [];
    for (const [name, type, extra] of questions)
      recorded.push(await dig(recorder.port, name, type, ...extra));
    const viaDgram = dnsPacket.decode(
      (await udpExchange(recorder.port, query('alias.example.test', 'A'))) ?? Buffer.alloc(0),
    );
    expect(recordMap.nameForAddress('192.0.2.10')).toBe('www.example.test');
    expect(recordMap.nameForAddress('::ffff:192.0.2.10')).toBe('www.example.test');
    expect(recordMap.addressesFor('ALIAS.example.test')).toEqual(['192.0.2.10']);
    expect(sink.find((a) => a.name === 'nope.example.test')).toMatchObject({ rcode: 'NXDOMAIN', data: [] });
    await recorder.close();
    await upstream.close();

    // A JSON round trip stands in for the archive file.
    const playback = new PlaybackDNSClient(JSON.parse(JSON.stringify(sink)) as RecordedDnsAnswer[]);
    const playMap = NameMap.fromRecorded(sink);
    const player = await server({ resolver: playback, nameMap: playMap });
    const replayed = [];
    for (const [name, type, extra] of questions) replayed.push(await dig(player.port, name, type, ...extra));
    expect(replayed).toEqual(recorded);
    const replayedDgram = dnsPacket.decode(
      (await udpExchange(player.port, query('alias.example.test', 'A'))) ?? Buffer.alloc(0),
    );
    expect(replayedDgram.answers).toEqual(viaDgram.answers);
    expect(playback.missCount).toBe(0);
    expect(playMap.nameForAddress('192.0.2.10')).toBe('www.example.test');

    expect(await dig(player.port, 'never-recorded.test', 'A')).toMatchObject({ status: 'NXDOMAIN' });
    expect(await dig(player.port, 'alias.example.test', 'TXT')).toMatchObject({
      status: 'NOERROR',
      answers: [],
    });
    expect(await dig(player.port, 'www.example.test', 'MX')).toMatchObject({
      status: 'NOERROR',
      answers: [],
    });
    expect(playback.missCount).toBe(1);
    expect(playback.misses).toEqual([{ name: 'never-recorded.test', type: 'A', count: 1 }]);
  });

  it('records one answer per question, shared by concurrent first questions', async () => {
    const upstream = await authority();
    const sink: RecordedDnsAnswer[] = [];
    const recorder = new ArchivingDNSClient(
      new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] }),
      { sink },
    );
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => recorder.resolve({ name: 'www.example.test', type: 'A' })),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(sink).toHaveLength(1);
    expect(upstream.log).toEqual(['udp A www.example.test']);
  });

  it('redirects every name to a fixed address while the name map keeps the real ones', async () => {
    const upstream = await authority();
    const nameMap = new NameMap();
    const dns = await server({
      resolver: new DNSClient({ servers: [{ host: '127.0.0.1', port: upstream.port }] }),
      nameMap,
      redirect: { ipv4: '198.18.0.1', ttl: 5 },
    });
    expect((await dig(dns.port, 'www.example.test', 'A')).answers).toEqual([
      { name: 'www.example.test.', ttl: 5, type: 'A', data: '198.18.0.1' },
    ]);
    expect(await dig(dns.port, 'www.example.test', 'AAAA', '+tcp')).toMatchObject({
      status: 'NOERROR',
      answers: [],
    });
    expect(await dig(dns.port, 'nope.example.test', 'A')).toMatchObject({ status: 'NXDOMAIN' });
    expect(nameMap.addressesFor('www.example.test')).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(nameMap.nameForAddress('2001:0db8:0:0::10')).toBe('www.example.test');
  });
});
