// A tiny authoritative DNS server for tests, built on dns-packet: the "real internet" upstream that Recall's DNS
// client records from. UDP and TCP on one port 0. Names listed in `servfail` answer SERVFAIL, names in `silent`
// never answer, names in `truncate` answer over UDP with TC set and no records (the full answer over TCP).
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';

export interface ZoneRecord {
  type: 'A' | 'AAAA' | 'PTR' | 'CNAME' | 'MX' | 'TXT';
  data: string | { preference: number; exchange: string } | string[];
  ttl?: number;
}

export interface AuthorityOptions {
  /** Records by owner name (lower case, no trailing dot). */
  zone: Record<string, ZoneRecord[]>;
  servfail?: string[];
  silent?: string[];
  truncate?: string[];
}

export interface Authority {
  port: number;
  /** Every question received: `udp A www.example.test`. */
  log: string[];
  close(): Promise<void>;
}

const SOA = {
  type: 'SOA' as const,
  name: 'test',
  ttl: 300,
  data: { mname: 'ns.test', rname: 'admin.test', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 30 },
};

function answer(
  query: ReturnType<typeof dnsPacket.decode>,
  options: AuthorityOptions,
  udp: boolean,
): Buffer | undefined {
  const question = query.questions?.[0];
  if (!question) return undefined;
  const name = question.name.toLowerCase().replace(/\.$/, '');
  if (options.silent?.includes(name)) return undefined;
  const base = { id: query.id, type: 'response' as const, questions: [question] };
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED);
  if (options.servfail?.includes(name)) return dnsPacket.encode({ ...base, flags: flags | 2 });
  if (udp && options.truncate?.includes(name))
    return dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE });
  const answers: object[] = [];
  let owner = name;
  for (let hops = 0; hops < 8; hops += 1) {
    const records = options.zone[owner];
    if (!records) break;
    const exact = records.filter((r) => r.type === question.type);
    const alias = records.find((r) => r.type === 'CNAME');
    if (exact.length > 0) {
      answers.push(
        ...exact.map((r) => ({ name: owner, type: r.type, class: 'IN', ttl: r.ttl ?? 300, data: r.data })),
      );
      break;
    }
    if (!alias || question.type === 'CNAME') break;
    answers.push({ name: owner, type: 'CNAME', class: 'IN', ttl: alias.ttl ?? 300, data: alias.data });
    owner = String(alias.data);
  }
  const exists = options.zone[name] !== undefined;
  const rcode = exists ? 0 : 3;
  const packet = { ...base, flags: flags | rcode, answers, authorities: answers.length === 0 ? [SOA] : [] };
  return dnsPacket.encode(packet as Parameters<typeof dnsPacket.encode>[0]);
}

/** Starts the authority on 127.0.0.1, UDP and TCP on the same free port. */
export async function startAuthority(options: AuthorityOptions): Promise<Authority> {
  const log: string[] = [];
  const openUdp = async (wanted: number) => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(wanted, '127.0.0.1', () => resolve());
    });
    socket.on('message', (message, remote) => {
      try {
        const query = dnsPacket.decode(message);
        log.push(`udp ${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
        const reply = answer(query, options, true);
        if (reply) socket.send(reply, remote.port, remote.address);
      } catch {
        // garbage: an authority ignores it
      }
    });
    return socket;
  };
  let udp = await openUdp(0);
  let port = udp.address().port;
  const sockets = new Set<Socket>();
  const tcp = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const message = buffer.subarray(2, 2 + buffer.readUInt16BE(0));
        buffer = buffer.subarray(2 + message.length);
        const query = dnsPacket.decode(message);
        log.push(`tcp ${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
        const reply = answer(query, options, false);
        if (reply) {
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([length, reply]));
        }
      }
    });
  });
  // TCP may find the UDP port's number taken by someone else: then move both to a fresh port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 8) throw error;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      udp = await openUdp(0);
      port = udp.address().port;
    }
  }
  let closed: Promise<void> | undefined;
  return {
    port,
    log,
    close() {
      closed ??= (async () => {
        for (const socket of sockets) socket.destroy();
        await Promise.all([
          new Promise<void>((r) => tcp.close(() => r())),
          new Promise<void>((r) => udp.close(() => r())),
        ]);
      })();
      return closed;
    },
  };
}
