/**
 * The DevTools protocol over `--remote-debugging-pipe`: Chromium reads commands on its fd 3 and writes answers
 * and events on its fd 4, each message one JSON text ended by a NUL byte. No npm package: the client is bundled
 * and the device has only Node.
 */
import type { Readable, Writable } from 'node:stream';
import type { CdpCommand, CdpIncoming, CdpTransport } from './cdp-connection.js';

export class PipeTransport implements CdpTransport {
  readonly #out: Writable;
  readonly #messageListeners: ((message: CdpIncoming) => void)[] = [];
  readonly #closeListeners: ((reason: Error) => void)[] = [];
  #buffer = '';
  #closed = false;

  constructor(out: Writable, input: Readable) {
    this.#out = out;
    input.setEncoding('utf8');
    input.on('data', (text: string) => this.#receive(text));
    input.on('close', () => this.#end(new Error('Chromium closed the DevTools pipe')));
    // A write to a pipe whose reader died: reported through the pending commands instead.
    out.on('error', (error) => this.#end(error));
  }

  send(message: CdpCommand): void {
    if (!this.#closed) this.#out.write(`${JSON.stringify(message)}\0`);
  }

  onMessage(listener: (message: CdpIncoming) => void): void {
    this.#messageListeners.push(listener);
  }

  onClose(listener: (reason: Error) => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    this.#closed = true;
  }

  #end(reason: Error): void {
    this.#closed = true;
    for (const listener of this.#closeListeners) listener(reason);
  }

  #receive(text: string): void {
    this.#buffer += text;
    for (let end = this.#buffer.indexOf('\0'); end >= 0; end = this.#buffer.indexOf('\0')) {
      const raw = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 1);
      if (raw) {
        const message = JSON.parse(raw) as CdpIncoming;
        for (const listener of this.#messageListeners) listener(message);
      }
    }
  }
}
