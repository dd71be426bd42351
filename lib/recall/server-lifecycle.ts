/**
 * Listening and closing, shared by the HTTP and HTTPS servers: listen on host:port (port 0 picks a free one),
 * remember every connection, and close idempotently: refuse new connections, close idle ones, let requests in
 * flight finish (each connection closes once its answer is out) within a bound, then cut whatever is left.
 * A SIGTERM used to cut requests in flight, so their exchanges were never recorded.
 */
import type http from 'node:http';
import type { Server as NetServer, Socket, AddressInfo } from 'node:net';
import { RecallError, RECALL_ERROR_CODES } from './errors.js';

export interface ListenOptions {
  /** Address to listen on. @default '127.0.0.1' (never all interfaces unless asked: an open proxy is a risk) */
  host?: string;
  /** Port; 0 picks a free one, read it back with `address()`. @default 0 */
  port?: number;
  /** On close, how long requests in flight may take to finish before their connections are cut, ms. @default 5000 */
  drainTimeoutMs?: number;
}

export class ServerLifecycle {
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  /** Requests received and not yet answered, by connection. */
  readonly #busy = new Map<Socket, number>();
  #closing: Promise<void> | undefined;

  constructor(server: NetServer) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Adds a socket the server did not accept itself: the TLS wrapper of an accepted one, which stands for it. */
  track(socket: Socket, wrapped?: Socket): void {
    if (wrapped) this.#sockets.delete(wrapped);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Counts the requests `server` is answering on each connection, so close() can wait for them. */
  trackRequests(server: http.Server): void {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const socket = req.socket;
      this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.#busy.get(socket) ?? 1) - 1;
        if (left > 0) return void this.#busy.set(socket, left);
        this.#busy.delete(socket);
        if (this.#closing) socket.end(); // draining: the answer is out, this connection is done
      });
    };
    server.on('request', onRequest);
    server.on('checkContinue', onRequest); // instead of 'request' for `Expect: 100-continue`
  }

  /** Number of requests being answered now. */
  get inFlight(): number {
    let total = 0;
    for (const count of this.#busy.values()) total += count;
    return total;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async listen(options: ListenOptions, what: string): Promise<AddressInfo> {
    if (this.#closing)
      throw new RecallError(
        RECALL_ERROR_CODES.CLOSED,
        `${what}.listen() called after close(); create a new server`,
      );
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `Expected ${what} port to be an integer from 0 to 65535, got ${String(port)}`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (cause: NodeJS.ErrnoException): void =>
        reject(
          new RecallError(
            RECALL_ERROR_CODES.LISTEN,
            `${what} cannot listen on ${host}:${port} (${cause.code ?? cause.message}); pick another address or port`,
            { cause },
          ),
        );
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    return this.address(what);
  }

  address(what: string): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') {
      throw new RecallError(RECALL_ERROR_CODES.LISTEN, `${what} is not listening; call listen() first`);
    }
    return address;
  }

  /** Stops accepting, drains requests in flight for at most `drainTimeoutMs`, then destroys what is left. */
  close(drainTimeoutMs = 5000): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = this.#server.listening
        ? new Promise<void>((resolve) => this.#server.close(() => resolve()))
        : Promise.resolve();
      for (const socket of this.#sockets) if (!this.#busy.has(socket)) socket.destroy();
      if (this.#sockets.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...this.#sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)))),
          new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
        ]);
        clearTimeout(timer);
        for (const socket of this.#sockets) socket.destroy();
      }
      await stopped;
    })();
    return this.#closing;
  }
}
