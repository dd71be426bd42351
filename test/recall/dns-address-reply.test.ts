import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { encodeAddressReply } from '../../lib/recall/dns/dns-address-reply.js';

type Record = { name: string; type: string; ttl?: number; data?: unknown };
const records = (list: unknown) => list as Record[];

const query = (name: string, type: 'A' | 'AAAA', edns = false) =>
  dnsPacket.encode({
    id: 0x1234,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, options: [] } as never] : [],
  });

describe('encodeAddressReply', () => {
  it('writes A and AAAA answers a standard decoder reads back, owner and spelling from the question', () => {
    const flags = 0x8000 | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
    const a = dnsPacket.decode(encodeAddressReply(query('WwW.Example.TEST', 'A', true), { flags, type: 'A', ttl: 300, addresses: ['192.0.2.1', '192.0.2.2'], ednsPayload: 1232 })!);
    expect(a).toMatchObject({ id: 0x1234, type: 'response', flag_rd: true, flag_ra: true, rcode: 'NOERROR' });
    expect(a.questions).toEqual([{ name: 'WwW.Example.TEST', type: 'A', class: 'IN' }]);
    expect(records(a.answers).map((r) => [r.name, r.type, r.ttl, r.data])).toEqual([
      ['WwW.Example.TEST', 'A', 300, '192.0.2.1'],
      ['WwW.Example.TEST', 'A', 300, '192.0.2.2'],
    ]);
    expect(a.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);

    const aaaa = dnsPacket.decode(encodeAddressReply(query('v6.example.test', 'AAAA'), { flags, type: 'AAAA', ttl: 60, addresses: ['2001:db8::1'], ednsPayload: undefined })!);
    expect(records(aaaa.answers).map((r) => [r.name, r.type, r.data])).toEqual([['v6.example.test', 'AAAA', '2001:db8::1']]);
    expect(aaaa.additionals).toEqual([]);
  });

  it('writes NXDOMAIN with no answers, and gives up (undefined) on what it cannot copy or encode', () => {
    const nx = dnsPacket.decode(encodeAddressReply(query('nope.test', 'A'), { flags: 0x8003, type: 'A', ttl: 60, addresses: [], ednsPayload: undefined })!);
    expect(nx).toMatchObject({ rcode: 'NXDOMAIN', answers: [] });
    expect(encodeAddressReply(query('x.test', 'A'), { flags: 0x8000, type: 'A', ttl: 1, addresses: ['not-an-address'], ednsPayload: undefined })).toBeUndefined();
    expect(encodeAddressReply(query('x.test', 'A').subarray(0, 15), { flags: 0x8000, type: 'A', ttl: 1, addresses: [], ednsPayload: undefined })).toBeUndefined();
  });
});
