/**
 * UDP sockets shared by the upstream DNS exchanges of the whole process, a few per address family, each carrying
 * many queries told apart by their ids. A socket per query (bind, send, receive, close) capped recording at a few
 * thousand new names a second: under a 17k queries/s flood only 16–21% were answered. Replies are accepted only
 * from the address and port the query went to, with the query's id and question (checked by the caller); a
 * socket left without queries for a second is closed, so an idle process holds none.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';

/** Sockets per address family: more source ports for the ids to hide behind, without a socket per query. */
const SOCKETS_PER_FAMILY = 8;
/**
 * Queries outstanding at one upstream; more wait their turn. Sent all at once, a burst of new names overflowed the
 * default receive buffer of a small upstream (about 256 datagrams) and the rest were lost.
 */
const MAX_OUTSTANDING_PER_SERVER = 1000;
const IDLE_CLOSE_MS = 1000;

export interface PooledQuery {
  readonly host: string;
  readonly port: number;
  /** The query's bytes carrying `id`. */
  bytes(id: number): Buffer;
  /** Offered every datagram from the server with the query's id; true when it answers the query. */
  accept(message: Buffer, id: number): boolean;
  /** The socket failed: the query cannot be answered on it. */
  fail(error: Error): void;
}

class SharedSocket {
  readonly socket: Socket;
  readonly waiting = new Map<number, PooledQuery>();
  #idle: NodeJS.Timeout | undefined;
  closed = false;

  constructor(type: 'udp4' | 'udp6', onClose: (shared: SharedSocket) => void) {
    this.socket = createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
    this.socket.unref();
    this.socket.on('message', (message, remote) => {
      if (message.length < 12) return;
      const id = message.readUInt16BE(0);
      const query = this.waiting.get(id);
      if (!query || remote.port !== query.port || unmapped(remote.address) !== unmapped(query.host)) return;
      query.accept(message, id);
    });
    this.socket.on('error', (error) => {
      for (const query of [...this.waiting.values()]) query.fail(error);
      this.close();
    });
    this.socket.on('close', () => {
      this.closed = true;
      onClose(this);
    });
  }

  /** Sends the query under an id free on this socket; returns the function that forgets it. */
  send(query: PooledQuery): () => void {
    clearTimeout(this.#idle);
    let id = randomInt(0, 65536);
    while (this.waiting.has(id)) id = (id + 1) % 65536;
    this.waiting.set(id, query);
    // No callback: Node tries a synchronous send first; a failure comes as 'error' and fails every waiting query.
    // No callback: Node tries a synchronous send first; a failure comes as 'error' and fails every waiting query.
    this.socket.send(query.bytes(id), query.port, query.host);
    return () => {
      if (this.waiting.get(id) !== query) return;
      this.waiting.delete(id);
      if (this.waiting.size === 0 && !this.closed) {
        this.#idle = setTimeout(() => this.close(), IDLE_CLOSE_MS);
        this.#idle.unref();
      }
    };
  }

  close(): void {
    clearTimeout(this.#idle);
    if (!this.closed) {
      this.closed = true;
      this.socket.close();
    }
  }
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const pools = { udp4: [] as Array<SharedSocket | undefined>, udp6: [] as Array<SharedSocket | undefined> };
let turn = 0;

/** Outstanding queries and those waiting for a slot, per upstream `host:port`. */
const upstreams = new Map<string, { outstanding: number; queue: Array<() => void> }>();

function socketFor(host: string): SharedSocket {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  const pool = pools[type];
  turn = (turn + 1) % SOCKETS_PER_FAMILY;
  let shared = pool[turn];
  if (!shared || shared.closed || shared.waiting.size >= 60_000) {
    shared = new SharedSocket(type, (gone) => {
      const at = pool.indexOf(gone);
      if (at >= 0) pool[at] = undefined;
    });
    pool[turn] = shared;
  }
  return shared;
}

/** Sends one query on a shared socket, when its upstream has a free slot; returns the function to call once it
 * is answered or abandoned. */
export function sendPooled(query: PooledQuery): () => void {
  const key = `${query.host}:${query.port}`;
  let upstream = upstreams.get(key);
  if (!upstream) upstreams.set(key, (upstream = { outstanding: 0, queue: [] }));
  const slots = upstream;
  let forget: (() => void) | undefined;
  let released = false;
  const start = (): void => {
    slots.outstanding += 1;
    forget = socketFor(query.host).send(query);
  };
  if (slots.outstanding < MAX_OUTSTANDING_PER_SERVER) start();
  else slots.queue.push(start);
  return () => {
    if (released) return;
    released = true;
    if (!forget) {
      const at = slots.queue.indexOf(start);
      if (at >= 0) slots.queue.splice(at, 1);
      return;
    }
    forget();
    slots.outstanding -= 1;
    slots.queue.shift()?.();
    if (slots.outstanding === 0 && slots.queue.length === 0) upstreams.delete(key);
  };
}
