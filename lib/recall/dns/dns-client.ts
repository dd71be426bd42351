/**
 * `DNSClient`: the live upstream resolver of Recall. Asks the configured servers (default: the nameservers of
 * /etc/resolv.conf) over UDP, retries on timeout, moves on to the next server on failure, and repeats a truncated
 * answer's question over TCP. Upstream failures reject with a typed `RecallError`; NXDOMAIN and NODATA are answers.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError } from '../errors.js';
import type { DnsQuestion, DnsResolver, RecordedDnsAnswer } from './dns-types.js';
import { normalizeDnsName } from './name-map.js';
import { wireOfName } from './dns-name.js';
import {
  exchangeTcp,
  exchangeUdp,
  type DnsServerAddress,
  type WireMessage,
  type WireRecord,
} from './dns-transport.js';

export type { DnsServerAddress } from './dns-transport.js';

export interface DNSClientOptions {
  /** Upstream servers, asked in order. @default the `nameserver` lines of `resolvConfPath`, port 53 */
  readonly servers?: readonly DnsServerAddress[];
  /** Where to read the default servers from (read once, asynchronously, on first use). @default '/etc/resolv.conf' */
  readonly resolvConfPath?: string;
  /** Time to wait for one answer, in milliseconds. @default 2000 */
  readonly timeoutMs?: number;
  /** Tries per server before moving on to the next one. @default 2 */
  readonly attempts?: number;
  readonly logger?: Logger;
}

type DecodedPacket = WireMessage;
/** dns-packet's name codec (its published types leave it out). */
const packetNames = (dnsPacket as unknown as { name: { decode(wire: Buffer): string } }).name;

/** The live upstream resolver. Holds no sockets between questions, so it needs no `close()`. */
export class DNSClient implements DnsResolver {
  readonly #options: DNSClientOptions;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  #servers: Promise<readonly DnsServerAddress[]> | undefined;

  constructor(options: DNSClientOptions = {}) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'dns-client' });
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#attempts = options.attempts ?? 2;
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new RecallError(
        'ERR_DNS_INVALID_OPTION',
        `DNSClient: expected timeoutMs to be a positive integer, got ${String(options.timeoutMs)}`,
      );
    }
    if (!Number.isInteger(this.#attempts) || this.#attempts <= 0) {
      throw new RecallError(
        'ERR_DNS_INVALID_OPTION',
        `DNSClient: expected attempts to be a positive integer, got ${String(options.attempts)}`,
      );
    }
    if (options.servers) {
      if (options.servers.length === 0) {
        throw new RecallError(
          'ERR_DNS_NO_SERVERS',
          'DNSClient: servers is an empty list; give at least one {host, port} or leave it out to use /etc/resolv.conf',
        );
      }
      for (const server of options.servers) validateServer(server);
      this.#servers = Promise.resolve(options.servers);
    }
  }

  /** The upstream servers in use (reads /etc/resolv.conf on first call when none were given). */
  servers(): Promise<readonly DnsServerAddress[]> {
    this.#servers ??= readResolvConf(this.#options.resolvConfPath ?? '/etc/resolv.conf');
    return this.#servers;
  }

  async resolve(question: DnsQuestion, options: { signal?: AbortSignal } = {}): Promise<RecordedDnsAnswer> {
    const servers = await this.servers();
    const name = normalizeDnsName(question.name);
    if (!wireOfName(name)) {
      throw new RecallError(
        'ERR_DNS_INVALID_NAME',
        `cannot ask upstream for ${JSON.stringify(name)}: not a DNS name (a label is empty or longer than 63 bytes, or the name longer than 255)`,
      );
    }
    let lastError: unknown;
    let onlyTimeouts = true;
    for (const server of servers) {
      for (let attempt = 1; attempt <= this.#attempts; attempt += 1) {
        options.signal?.throwIfAborted();
        try {
          const response = await this.#ask(server, name, question.type, options.signal);
          return interpret(response, name, question.type, server);
        } catch (error) {
          if (options.signal?.aborted) throw options.signal.reason;
          lastError = error;
          const timedOut = error instanceof RecallError && error.code === 'ERR_DNS_UPSTREAM_TIMEOUT';
          onlyTimeouts &&= timedOut;
          this.#logger.debug(
            { err: error, server, name, type: question.type, attempt },
            'upstream attempt failed',
          );
          if (!timedOut) break; // an answered failure (SERVFAIL) will not change on retry: try the next server
        }
      }
    }
    const list = servers.map((s) => `${s.host}:${s.port}`).join(', ');
    if (onlyTimeouts) {
      throw new RecallError(
        'ERR_DNS_UPSTREAM_TIMEOUT',
        `no upstream DNS server answered ${question.type} ${name} within ${this.#timeoutMs} ms (${this.#attempts} tries each of ${list}); check that the servers are reachable or raise timeoutMs`,
        { cause: lastError },
      );
    }
    if (lastError instanceof RecallError) throw lastError;
    throw new RecallError(
      'ERR_DNS_UPSTREAM_FAILED',
      `asking ${list} for ${question.type} ${name} failed: ${String(lastError)}`,
      { cause: lastError },
    );
  }

  async #ask(
    server: DnsServerAddress,
    name: string,
    type: DnsQuestion['type'],
    signal?: AbortSignal,
  ): Promise<DecodedPacket> {
    const query = {
      id: randomInt(0, 65536),
      type: 'query' as const,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type, class: 'IN' as const }],
    };
    const exchange = { server, query, timeoutMs: this.#timeoutMs, ...(signal ? { signal } : {}) };
    const response = await exchangeUdp(exchange);
    if (!response.flag_tc) return response;
    this.#logger.debug({ server, name, type }, 'truncated answer over UDP, asking again over TCP');
    return exchangeTcp(exchange);
  }
}

function validateServer(server: DnsServerAddress): void {
  if (isIP(server.host) === 0 || !Number.isInteger(server.port) || server.port <= 0 || server.port > 65535) {
    throw new RecallError(
      'ERR_DNS_INVALID_OPTION',
      `DNSClient: expected servers to be {host: <IP address>, port: 1-65535}, got ${JSON.stringify(server)}`,
    );
  }
}

async function readResolvConf(path: string): Promise<readonly DnsServerAddress[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RecallError(
      'ERR_DNS_NO_SERVERS',
      `cannot read ${path} to find upstream DNS servers; pass DNSClient({ servers }) instead`,
      { cause: error },
    );
  }
  const servers: DnsServerAddress[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = match?.[1]?.replace(/%.*$/, ''); // drop an IPv6 zone index
    if (host !== undefined && isIP(host) !== 0) servers.push({ host, port: 53 });
  }
  if (servers.length === 0) {
    throw new RecallError(
      'ERR_DNS_NO_SERVERS',
      `${path} lists no usable nameserver; pass DNSClient({ servers }) instead`,
    );
  }
  return servers;
}

/** Turns an upstream response into an answer: the RRset of the asked type at the end of any CNAME chain. */
function interpret(
  response: DecodedPacket,
  name: string,
  type: DnsQuestion['type'],
  server: DnsServerAddress,
): RecordedDnsAnswer {
  const rcode = response.rcode ?? 'NOERROR';
  const negativeTtl = negativeTtlOf(response);
  if (rcode === 'NXDOMAIN') return { name, type, ttl: negativeTtl, data: [], rcode: 'NXDOMAIN' };
  if (rcode !== 'NOERROR') {
    throw new RecallError(
      'ERR_DNS_UPSTREAM_FAILED',
      `upstream ${server.host}:${server.port} answered ${type} ${name} with ${rcode}; check that server, or pass other servers`,
    );
  }
  const answers = response.answers ?? [];
  // Owners as dns-packet reads them (UTF-8 labels joined with dots), to compare with the records it decoded.
  const wire = wireOfName(name);
  let owner = wire ? normalizeDnsName(packetNames.decode(wire)) : name;
  let ttl = Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  for (;;) {
    const records = answers.filter((a) => a.type === type && normalizeDnsName(a.name) === owner);
    if (records.length > 0) {
      ttl = Math.min(ttl, ...records.map((r) => r.ttl ?? 0));
      return { name, type, ttl, data: records.map(presentation) };
    }
    const alias =
      type === 'CNAME'
        ? undefined
        : answers.find((a) => a.type === 'CNAME' && normalizeDnsName(a.name) === owner);
    if (!alias || seen.has(owner)) break;
    seen.add(owner);
    ttl = Math.min(ttl, alias.ttl ?? 0);
    owner = normalizeDnsName(String(alias.data));
  }
  return { name, type, ttl: Math.min(ttl, negativeTtl), data: [] };
}

/** RFC 2308: a negative answer lives min(SOA TTL, SOA minimum); 60 s when the upstream sent no SOA. */
function negativeTtlOf(response: DecodedPacket): number {
  const soa = (response.authorities ?? []).find((r) => r.type === 'SOA');
  const minimum = (soa?.data as { minimum?: number } | undefined)?.minimum;
  if (!soa) return 60;
  return Math.min(soa.ttl ?? 60, minimum ?? 60);
}

/** Record data in presentation form, names without the trailing dot. */
function presentation(record: WireRecord): string {
  const data = record.data;
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return normalizeDnsName(String(data));
    case 'MX': {
      const mx = data as { preference?: number; exchange: string };
      return `${mx.preference ?? 0} ${normalizeDnsName(mx.exchange)}`;
    }
    case 'SRV': {
      const srv = data as { priority?: number; weight?: number; port: number; target: string };
      return `${srv.priority ?? 0} ${srv.weight ?? 0} ${srv.port} ${normalizeDnsName(srv.target)}`;
    }
    case 'TXT': {
      const parts = Array.isArray(data) ? (data as unknown[]) : [data];
      return parts
        .map((p) => (typeof p === 'string' ? p : Buffer.from(p as Uint8Array).toString('utf8')))
        .join('');
    }
    case 'SOA': {
      const soa = data as { mname: string; rname: string; serial?: number };
      return `${normalizeDnsName(soa.mname)} ${normalizeDnsName(soa.rname)} ${soa.serial ?? 0}`;
    }
    default:
      return JSON.stringify(data);
  }
}
