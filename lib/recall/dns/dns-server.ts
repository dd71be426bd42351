/**
 * `DNSServer`: Recall's DNS server, on UDP and TCP at the same port (the original listened on UDP only, so the
 * tcp/53 redirect went nowhere: research/recall.md §15 B7). It answers from any `DnsResolver` (the live
 * `DNSClient`, or the record/playback wrappers) and feeds the session's `NameMap`. What it answers is described
 * in dns-answerer.ts; docs/recall-dns-and-tls.md has the user-facing summary.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError } from '../errors.js';
import type { DnsResolver } from './dns-types.js';
import type { NameMap } from './name-map.js';
import {
  answerMessage,
  type AnswerContext,
  type DnsRedirect,
  type Reply,
  type ResponseCode,
} from './dns-answerer.js';
import { DnsFrameReader, frameDnsMessage } from './dns-transport.js';
import { DnsReplyCache } from './dns-reply-cache.js';
import { DeadlineSignals } from '../deadline-signals.js';
import { SourceGate, type ClientPolicy } from '../connection-limits.js';

export type { DnsRedirect } from './dns-answerer.js';

export interface DNSServerOptions extends ClientPolicy {
  /** Who answers the questions: `DNSClient`, `ArchivingDNSClient` or `PlaybackDNSClient`. */
  readonly resolver: DnsResolver;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port for both UDP and TCP; 0 picks a free one (read it from `port`). @default 0 */
  readonly port?: number;
  /** Filled with every A/AAAA/PTR answer, so the HTTP side can name an intercepted address. */
  readonly nameMap?: NameMap;
  /**
   * Answer A/AAAA with fixed addresses (the Recall server's own) while the name map keeps the real ones. Use it when
   * devices reach Recall only through DNS (no default route through it). NXDOMAIN stays NXDOMAIN.
   */
  readonly redirect?: DnsRedirect;
  /** Wait for the resolver before answering SERVFAIL, in milliseconds (plus up to a tenth, at most 100 ms). @default 5000 */
  readonly resolveTimeoutMs?: number;
  /** TCP connections idle this long are closed, in milliseconds. @default 10000 */
  readonly tcpIdleTimeoutMs?: number;
  /**
   * A DNS message over TCP must arrive whole within this many milliseconds of its first byte; later bytes do not
   * extend it, so a client trickling one byte at a time cannot hold a connection. @default 5000
   */
  readonly tcpMessageTimeoutMs?: number;
  /** On close, how long queries already received may take to get their answer, ms. @default 5000 */
  readonly drainTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Count of replies by response code, plus queries that got no reply. */
export type DnsServerStats = Record<ResponseCode | 'ignored', number> & { queries: number };

export class DNSServer {
  readonly host: string;
  readonly #options: DNSServerOptions;
  readonly #logger: Logger;
  /** Each query's signal: aborted when the resolver took too long, or when the server closes. */
  readonly #deadlines: DeadlineSignals;
  readonly #connections = new Set<Socket>();
  readonly #gate: SourceGate;
  readonly #replies = new DnsReplyCache<ResponseCode>();
  /** Queries received and not yet answered (close() waits for them). */
  #pending = 0;
  #drained: (() => void) | undefined;
  /** Replies being sent while closing. */
  #sending = 0;
  #stopping = false;
  readonly #stats: DnsServerStats = {
    queries: 0,
    NOERROR: 0,
    FORMERR: 0,
    SERVFAIL: 0,
    NXDOMAIN: 0,
    NOTIMP: 0,
    REFUSED: 0,
    ignored: 0,
  };
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  #port = 0;
  #closed: Promise<void> | undefined;

  private constructor(options: DNSServerOptions) {
    this.#options = options;
    this.host = options.host ?? '127.0.0.1';
    this.#logger = (options.logger ?? silentLogger).child({ component: 'dns' });
    this.#gate = new SourceGate(options, 32, 'DNSServer (TCP)', this.#logger);
    const limitMs = options.resolveTimeoutMs ?? 5000;
    this.#deadlines = new DeadlineSignals(
      limitMs,
      () => new RecallError('ERR_DNS_UPSTREAM_TIMEOUT', `no answer within resolveTimeoutMs (${limitMs} ms)`),
    );
  }

  /** Starts a server on UDP and TCP; resolves once both sockets listen. */
  static async start(options: DNSServerOptions): Promise<DNSServer> {
    const server = new DNSServer(options);
    if (isIP(server.host) === 0) {
      throw new RecallError(
        'ERR_DNS_INVALID_OPTION',
        `DNSServer: expected host to be an IP address, got ${JSON.stringify(options.host)}`,
      );
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RecallError(
        'ERR_DNS_INVALID_OPTION',
        `DNSServer: expected port to be an integer 0-65535, got ${String(options.port)}`,
      );
    }
    await server.#listen(port);
    return server;
  }

  /** The port both UDP and TCP listen on. */
  get port(): number {
    return this.#port;
  }

  /** Replies so far, by response code (a snapshot). */
  get stats(): DnsServerStats {
    return { ...this.#stats };
  }

  async #listen(port: number): Promise<void> {
    // With port 0 the UDP port is picked first; TCP may find it taken, so try a few fresh ports.
    for (let attempt = 1; ; attempt += 1) {
      // A large receive buffer rides out bursts (the kernel caps it at net.core.rmem_max): with the default
      // 208 KiB, a flood of small queries filled it in about 200 packets and the rest were dropped unanswered.
      const udp = createSocket({
        type: isIP(this.host) === 6 ? 'udp6' : 'udp4',
        recvBufferSize: 4 * 1024 * 1024,
      });
      try {
        const bound = await bindUdp(udp, port, this.host);
        const tcp = await listenTcp(
          createServer((socket) => this.#onConnection(socket)),
          bound,
          this.host,
        );
        this.#udp = udp;
        this.#tcp = tcp;
        this.#port = bound;
        break;
      } catch (error) {
        udp.close();
        const retry = port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 8;
        if (retry) continue;
        throw new RecallError(
          'ERR_DNS_LISTEN',
          `DNSServer cannot listen on ${this.host}:${port} (UDP and TCP): ${(error as Error).message}; pick another port or 0`,
          { cause: error },
        );
      }
    }
    // Per-source caps keep one client from using these up; the total only protects the descriptors.
    this.#tcp.maxConnections = 2048;
    this.#udp.on('message', (message, remote) => this.#onDatagram(message, remote.address, remote.port));
    this.#udp.on('error', (error) => this.#logger.debug({ err: error }, 'UDP send or receive failed'));
    this.#tcp.on('error', (error) => this.#logger.warn({ err: error }, 'TCP listener error'));
    this.#logger.info({ host: this.host, port: this.#port }, 'listening on UDP and TCP');
  }

  /** Calls `send` with the reply's bytes (none for a message that gets no reply), at once when it can. */
  #answer(message: Buffer, udp: boolean, send: (bytes: Buffer) => void): void {
    this.#stats.queries += 1;
    this.#pending += 1;
    const deadline = this.#deadlines.next();
    const context: AnswerContext = {
      resolver: this.#options.resolver,
      nameMap: this.#options.nameMap,
      redirect: this.#options.redirect,
      deadline,
      logger: this.#logger,
      replies: this.#replies,
    };
    const deliver = (reply: Reply): void => {
      this.#settled(deadline);
      this.#stats[reply.bytes ? reply.rcode : 'ignored'] += 1;
      if (reply.bytes) send(reply.bytes);
      this.#checkDrained();
    };
    const failed = (error: unknown): void => {
      this.#settled(deadline);
      this.#logger.error({ err: error, udp }, 'unexpected failure answering a query');
      this.#checkDrained();
    };
    try {
      const reply = answerMessage(message, udp, context);
      if (reply instanceof Promise) reply.then(deliver).catch(failed);
      else deliver(reply);
    } catch (error) {
      failed(error);
    }
  }

  #settled(deadline: { done(): void }): void {
    deadline.done();
    this.#pending -= 1;
  }

  /** Called once a reply has been handed over: close() waits until nothing is pending or being sent. */
  #checkDrained(): void {
    if (this.#pending === 0 && this.#sending === 0) this.#drained?.();
  }

  /** The kept reply to a repeated query (dns-reply-cache.ts), counted; undefined when it must be answered. */
  #kept(message: Buffer): Buffer | undefined {
    const reply = this.#replies.replyTo(message);
    if (reply === undefined) return undefined;
    this.#stats.queries += 1;
    this.#stats[reply.rcode] += 1;
    return reply.bytes;
  }

  #onDatagram(message: Buffer, address: string, port: number): void {
    if (this.#stopping || !this.#gate.allows(address)) return;
    const kept = this.#kept(message);
    if (kept) return void this.#udp?.send(kept, port, address);
    // No callback: Node then tries a synchronous send first (uv_udp_try_send), about a fifth of the time a reply
    // costs under a flood; a failed send surfaces as the socket's 'error' event instead.
    this.#answer(message, true, (bytes) => {
      if (!this.#stopping) return void this.#udp?.send(bytes, port, address);
      // Closing: a send without a callback may still be queued when the socket closes, and would be lost.
      this.#sending += 1;
      this.#udp?.send(bytes, port, address, () => {
        this.#sending -= 1;
        this.#checkDrained();
      });
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#stopping) return void socket.destroy();
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'TCP client connection error'));
    if (!this.#gate.admit(socket)) return;
    this.#connections.add(socket);
    const frames = new DnsFrameReader();
    const messageMs = this.#options.tcpMessageTimeoutMs ?? 5000;
    let messageDeadline: NodeJS.Timeout | undefined;
    socket.setTimeout(this.#options.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(messageDeadline);
      this.#connections.delete(socket);
    });
    socket.on('data', (chunk) => {
      const messages = frames.push(chunk);
      // The deadline runs from a message's first byte to its last; a complete message stops it.
      if (messages.length > 0) {
        clearTimeout(messageDeadline);
        messageDeadline = undefined;
      }
      if (frames.partial && messageDeadline === undefined) {
        messageDeadline = setTimeout(() => {
          this.#logger.debug({ client: socket.remoteAddress }, `TCP message not complete within ${messageMs} ms: closed`);
          socket.destroy();
        }, messageMs);
      } else if (!frames.partial) {
        clearTimeout(messageDeadline);
        messageDeadline = undefined;
      }
      if (socket.writableLength > 256 * 1024) {
        this.#logger.debug({ client: socket.remoteAddress }, 'TCP client does not read its answers: closed');
        return void socket.destroy();
      }
      const send = (bytes: Buffer): void => {
        if (socket.writable && !socket.destroyed) socket.write(frameDnsMessage(bytes));
      };
      for (const message of messages) {
        // RFC 7766 allows replies in any order; each query is answered as soon as it is ready.
        const kept = this.#kept(message);
        if (kept) send(kept);
        else this.#answer(message, false, send);
      }
    });
  }

  /**
   * Stops taking questions, gives those already received up to `drainTimeoutMs` to be answered, then drops TCP
   * connections and abandons what is still pending. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping = true;
      const tcp = this.#tcp;
      const stopped = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined;
      if (this.#pending > 0 || this.#sending > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
          timer = setTimeout(resolve, this.#options.drainTimeoutMs ?? 5000);
        });
        clearTimeout(timer);
      }
      this.#deadlines.abortAll(new RecallError('ERR_RECALL_CLOSED', 'the DNS server was closed'));
      for (const socket of this.#connections) socket.destroy();
      const udp = this.#udp;
      await Promise.all([stopped, udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined]);
      this.#logger.info({ stats: this.#stats }, 'closed');
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function bindUdp(socket: UdpSocket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
