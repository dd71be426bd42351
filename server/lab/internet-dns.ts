/**
 * The internet namespace's authoritative DNS server for the lab's zone, over UDP and TCP. It answers A records
 * for the origin sites, SOA and NS at the apex, NXDOMAIN for other names in the zone, and REFUSED outside it:
 * like a real authoritative server, it does not recurse.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

export interface ZoneConfig {
  /** The zone apex, e.g. `lab.test`. */
  readonly zone: string;
  /** Address of this server (the zone's `ns1`). */
  readonly serverAddress: string;
  readonly records: readonly { readonly name: string; readonly address: string }[];
}

const TTL = 300;
const NOERROR = 0;
const NXDOMAIN = 3;
const REFUSED = 5;

/** dns-packet decodes type 255 as 'ANY', which its type list omits. */
const isAny = (question: Question): boolean => String(question.type) === 'ANY';

export function answerQuery(query: Packet, config: ZoneConfig): Packet {
  const zone = config.zone.toLowerCase();
  const nsName = `ns1.${zone}`;
  const soa: Answer = {
    type: 'SOA',
    name: zone,
    ttl: TTL,
    class: 'IN',
    data: {
      mname: nsName,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: TTL,
    },
  };
  const addresses = new Map<string, string>([
    [nsName, config.serverAddress],
    ...config.records.map((r) => [r.name.toLowerCase(), r.address] as [string, string]),
  ]);
  const answers: Answer[] = [];
  const authorities: Answer[] = [];
  let rcode = NOERROR;
  const question: Question | undefined = query.questions?.[0];
  const name = question?.name.toLowerCase().replace(/\.$/, '') ?? '';
  if (!question || (name !== zone && !name.endsWith(`.${zone}`))) {
    rcode = REFUSED;
  } else if (name === zone && (question.type === 'SOA' || isAny(question))) {
    answers.push(soa);
  } else if (name === zone && question.type === 'NS') {
    answers.push({ type: 'NS', name: zone, ttl: TTL, class: 'IN', data: nsName });
  } else if (addresses.has(name) && (question.type === 'A' || isAny(question))) {
    answers.push({ type: 'A', name: question.name, ttl: TTL, class: 'IN', data: addresses.get(name)! });
  } else if (addresses.has(name) || name === zone) {
    authorities.push(soa); // the name exists, not with this type: NODATA
  } else {
    rcode = NXDOMAIN;
    authorities.push(soa);
  }
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode;
  return {
    type: 'response',
    id: query.id ?? 0,
    flags,
    questions: question ? [question] : [],
    answers,
    authorities,
  };
}

export interface DnsServers {
  close(): Promise<void>;
}

/** Serves the zone on `address:port` over UDP and TCP. */
export async function startDnsServer(config: ZoneConfig, address: string, port = 53): Promise<DnsServers> {
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (message, remote) => {
    let reply: Buffer;
    try {
      reply = dnsPacket.encode(answerQuery(dnsPacket.decode(message), config));
    } catch {
      return; // not a DNS query: a real server drops it too
    }
    udp.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, address, () => resolve());
  });

  const tcp: Server = createServer((socket: Socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        try {
          socket.write(dnsPacket.streamEncode(answerQuery(dnsPacket.decode(message), config)));
        } catch {
          socket.destroy(); // garbage on a DNS stream: hang up
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, address, () => resolve());
  });
  return {
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
