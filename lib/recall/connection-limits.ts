/**
 * Who may connect to the interceptors, how many connections each source may hold, and how long an HTTP connection
 * may take over each step. One client must not stall the others: before these, 1,000 idle connections from one
 * address used up the descriptors and the servers refused everyone, and an HTTPS connection never timed out after
 * its handshake (the HTTPS listener hands its TLS sockets to an http.Server that never listens, so Node's own header
 * and request timers never ran for it). The same rules now apply to HTTP and HTTPS; DNS over TCP has its own
 * per-message deadline (dns-server.ts) and uses the same gate.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RecallError, RECALL_ERROR_CODES } from './errors.js';
import { canonicalAddress } from './dns/name-map.js';

export interface ClientPolicy {
  /**
   * Addresses allowed to connect (IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4). Others are refused at connection
   * (TCP) or packet (UDP) level with one debug log line. @default everyone
   */
  readonly allowedClients?: readonly string[];
  /** Open connections one source address may hold; more are closed at once. @default 256 (DNS over TCP: 32) */
  readonly maxConnectionsPerSource?: number;
}

export interface HttpTimeouts {
  /** Longest time from connection (or the previous response) to a request's complete headers, ms. @default 20000 */
  readonly headersTimeoutMs?: number;
  /** Longest time to receive a request's body once its headers are in, ms. @default 120000 */
  readonly bodyTimeoutMs?: number;
  /** A connection with no traffic either way for this long is closed, ms. @default 60000 */
  readonly idleTimeoutMs?: number;
}

/** Admits or refuses new connections and datagrams by source address. */
export class SourceGate {
  readonly #allowed: Set<string> | undefined;
  readonly #perSource: number;
  readonly #open = new Map<string, number>();
  readonly #logger: Logger;
  readonly #what: string;

  constructor(policy: ClientPolicy, defaultPerSource: number, what: string, logger: Logger) {
    this.#what = what;
    this.#logger = logger;
    this.#perSource = policy.maxConnectionsPerSource ?? defaultPerSource;
    if (!Number.isInteger(this.#perSource) || this.#perSource < 1) {
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `${what}: expected maxConnectionsPerSource to be a positive integer, got ${String(policy.maxConnectionsPerSource)}`,
      );
    }
    if (policy.allowedClients) {
      this.#allowed = new Set();
      for (const address of policy.allowedClients) {
        const canonical = canonicalAddress(address);
        if (canonical === undefined) {
          throw new RecallError(
            RECALL_ERROR_CODES.INVALID_OPTION,
            `${what}: allowedClients must hold IP addresses, got ${JSON.stringify(address)}; give the devices' addresses`,
          );
        }
        this.#allowed.add(canonical);
      }
    }
  }

  /** True when a datagram from `address` may be answered. */
  allows(address: string | undefined): boolean {
    if (!this.#allowed) return true;
    const canonical = address === undefined ? undefined : canonicalAddress(address);
    const ok = canonical !== undefined && this.#allowed.has(canonical);
    if (!ok) this.#logger.debug({ client: address }, `${this.#what}: refused a client not in allowedClients`);
    return ok;
  }

  /** Admits a new connection, counting it until it closes; destroys it and returns false when refused. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (!this.allows(address)) {
      socket.destroy();
      return false;
    }
    const source = (address === undefined ? undefined : canonicalAddress(address)) ?? String(address);
    const open = this.#open.get(source) ?? 0;
    if (open >= this.#perSource) {
      this.#logger.debug(
        { client: address, open },
        `${this.#what}: refused a connection over maxConnectionsPerSource (${this.#perSource})`,
      );
      socket.destroy();
      return false;
    }
    this.#open.set(source, open + 1);
    socket.once('close', () => {
      const left = (this.#open.get(source) ?? 1) - 1;
      if (left > 0) this.#open.set(source, left);
      else this.#open.delete(source);
    });
    return true;
  }
}

interface ConnectionState {
  timer: NodeJS.Timeout | undefined;
  /** Requests received and not yet answered (pipelining can make it more than one). */
  inFlight: number;
}

/**
 * Arms header, body and idle timeouts on every connection `server` sees (through `listen` or `emit('connection')`).
 * Bytes do not reset the header and body deadlines, so a client sending one byte a second (slowloris) is cut off.
 */
export function applyHttpTimeouts(server: http.Server, timeouts: HttpTimeouts, logger: Logger): void {
  const headersMs = timeouts.headersTimeoutMs ?? 20_000;
  const bodyMs = timeouts.bodyTimeoutMs ?? 120_000;
  server.timeout = timeouts.idleTimeoutMs ?? 60_000; // Node closes a socket idle this long (its 'timeout' default)
  const states = new WeakMap<Socket, ConnectionState>();
  const arm = (socket: Socket, state: ConnectionState, ms: number, what: string): void => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      logger.debug(
        { client: socket.remoteAddress },
        `${what} not received within ${ms} ms: connection closed`,
      );
      socket.destroy();
    }, ms);
    state.timer.unref();
  };
  server.on('connection', (socket: Socket) => {
    const state: ConnectionState = { timer: undefined, inFlight: 0 };
    states.set(socket, state);
    arm(socket, state, headersMs, 'request headers');
    socket.once('close', () => clearTimeout(state.timer));
  });
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    const state = states.get(socket);
    if (!state) return;
    state.inFlight += 1;
    if (req.complete) clearTimeout(state.timer);
    else {
      arm(socket, state, bodyMs, 'request body');
      req.once('end', () => clearTimeout(state.timer));
    }
    // While answering, the upstream's own timeouts bound the wait; once every request is answered, the next one
    // on a kept-alive connection has the same time for its headers.
    res.once('close', () => {
      state.inFlight -= 1;
      if (state.inFlight === 0 && !socket.destroyed) arm(socket, state, headersMs, 'request headers');
    });
  };
  server.on('request', onRequest);
  server.on('checkContinue', onRequest); // Node emits this instead of 'request' for `Expect: 100-continue`
}
