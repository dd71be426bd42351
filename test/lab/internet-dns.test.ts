import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { answerQuery } from '../../server/lab/internet-dns.js';

const zone = {
  zone: 'lab.test',
  serverAddress: '198.19.1.2',
  records: [{ name: 'api.lab.test', address: '198.19.1.14' }],
};
const ask = (name: string, type: 'A' | 'AAAA' | 'SOA' | 'NS' = 'A') =>
  answerQuery(
    { type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] },
    zone,
  );

describe('lab authoritative DNS answers', () => {
  it('answers A records authoritatively, case-insensitively', () => {
    const reply = ask('API.lab.test');
    expect(reply.id).toBe(7);
    expect(reply.flags! & dnsPacket.AUTHORITATIVE_ANSWER).toBeTruthy();
    expect(reply.answers).toEqual([expect.objectContaining({ type: 'A', data: '198.19.1.14' })]);
  });

  it('gives NODATA for another type, NXDOMAIN inside the zone and REFUSED outside it', () => {
    expect(ask('api.lab.test', 'AAAA')).toMatchObject({
      answers: [],
      authorities: [expect.objectContaining({ type: 'SOA' })],
    });
    expect((ask('nope.lab.test').flags ?? 0) & 0xf).toBe(3);
    expect((ask('example.com').flags ?? 0) & 0xf).toBe(5);
  });

  it('serves SOA and NS at the apex', () => {
    expect(ask('lab.test', 'SOA').answers?.[0]?.type).toBe('SOA');
    expect(ask('lab.test', 'NS').answers?.[0]).toMatchObject({ type: 'NS', data: 'ns1.lab.test' });
    expect(ask('ns1.lab.test').answers?.[0]).toMatchObject({ data: '198.19.1.2' });
  });
});
