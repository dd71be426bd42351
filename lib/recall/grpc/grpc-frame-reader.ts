/**
 * Cuts a gRPC byte stream into whole length-prefixed messages as its chunks arrive: a chunk may hold several
 * messages or a piece of one. The bytes come from the network, so a message is never trusted to be sane: a flag
 * other than 0/1 makes the rest of the stream unframed (`broken`), and nothing more is cut from it.
 * `ClientMessages` reads a live request body that way, one message at a time.
 */
const HEAD = 5;

export class GrpcFrameReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #broken = false;

  /** Adds a chunk; returns the messages it completed, each whole as on the wire (flag and length included). */
  push(chunk: Buffer): Buffer[] {
    if (this.#broken || chunk.length === 0) return [];
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#pendingBytes < HEAD) return frames;
      const head = this.#peek(HEAD);
      if (head[0] !== 0 && head[0] !== 1) {
        this.#broken = true;
        return frames;
      }
      const size = HEAD + head.readUInt32BE(1);
      if (this.#pendingBytes < size) return frames;
      frames.push(this.#take(size));
    }
  }

  /** Bytes received that do not make a whole message yet. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The stream stopped being gRPC framed (a bad flag byte). */
  get broken(): boolean {
    return this.#broken;
  }

  #peek(size: number): Buffer {
    if (this.#pending[0]!.length < size) this.#pending = [Buffer.concat(this.#pending)];
    return this.#pending[0]!.subarray(0, size);
  }

  #take(size: number): Buffer {
    if (this.#pending[0]!.length < size) this.#pending = [Buffer.concat(this.#pending)];
    const first = this.#pending[0]!;
    const frame = first.subarray(0, size);
    if (first.length === size) this.#pending.shift();
    else this.#pending[0] = first.subarray(size);
    this.#pendingBytes -= size;
    return frame;
  }
}

/** The client's messages one at a time, read from its body as they complete. */
export class ClientMessages {
  readonly #iterator: AsyncIterator<Buffer>;
  readonly #reader = new GrpcFrameReader();
  readonly #ready: Buffer[] = [];
  #ended = false;

  constructor(body: AsyncIterable<Buffer>) {
    this.#iterator = body[Symbol.asyncIterator]();
  }

  /** The next whole message (as on the wire), or undefined once the client half-closed. */
  async next(): Promise<Buffer | undefined> {
    while (this.#ready.length === 0 && !this.#ended) {
      const read = await this.#iterator.next();
      if (read.done) this.#ended = true;
      else this.#ready.push(...this.#reader.push(read.value));
    }
    return this.#ready.shift();
  }

  /** Stops reading the client (its body is given up). */
  async stop(): Promise<void> {
    if (!this.#ended) await this.#iterator.return?.();
  }

  /** Reads the rest of the body and drops it, so the client's stream can finish; failures are the client's. */
  drain(): void {
    void (async () => {
      while (await this.next());
    })().catch(() => undefined);
  }
}
