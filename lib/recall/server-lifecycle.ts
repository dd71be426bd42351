/**
 * Listening and closing, shared by the HTTP and HTTPS servers: listen on host:port (port 0 picks a free one),
 * remember every connection, and close idempotently by refusing new connections and destroying open ones.
 */
import type { Server as NetServer, Socket, AddressInfo } from 'node:net';
import { RecallError, RECALL_ERROR_CODES } from './errors.js';

export interface ListenOptions {
  /** Address to listen on. @default '127.0.0.1' (never all interfaces unless asked: an open proxy is a risk) */
  host?: string;
  /** Port; 0 picks a free one, read it back with `address()`. @default 0 */
  port?: number;
}

export class ServerLifecycle {
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  constructor(server: NetServer) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Adds a socket the server did not accept itself (the TLS wrapper of an accepted one). */
  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
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

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server.listening) {
        for (const socket of this.#sockets) socket.destroy();
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }
}
