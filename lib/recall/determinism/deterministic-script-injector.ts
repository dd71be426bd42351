/**
 * `DeterministicScriptInjector`: an `HttpExchanger` wrapper that puts the deterministic script
 * (deterministic-script.ts) into every HTML response, and `injectDeterministicScript`, the pure function doing it.
 * Stack it as the original did: `ArchivingHTTPClient(DeterministicScriptInjector(HTTPClient))`, so the archive holds
 * the page as the device saw it.
 *
 * Per response, independent of every other response: the body is read whole (tags split across chunks are found),
 * decoded (gzip, deflate, br), injected, encoded again with the same codings, and Content-Length is corrected. A
 * Content-Security-Policy gets the script's sha256 hash so the browser runs it. Bodies that cannot be decoded,
 * are not `text/html`, or already carry the script are passed on untouched.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { RawHeaders, RecordedRequest } from '../archive/archive-types.js';
import { bodyOf, type ExchangeOptions, type ExchangeResponse, type HttpExchanger } from '../http/http-exchanger.js';
import { decodeBody, encodeBody, type DecodeOptions } from '../http/content-coding.js';
import { allowScriptHashInCsp, allowScriptHashInMetaCsp, scriptInsertionOffset } from './html-injection.js';
import {
  DETERMINISTIC_SCRIPT_MARKER,
  deterministicScriptSource,
  type DeterministicState,
} from './deterministic-script.js';

export {
  DETERMINISTIC_SCRIPT_MARKER,
  deterministicScriptSource,
  type DeterministicState,
} from './deterministic-script.js';

/** The parts of a response injection looks at and changes. */
export interface InjectableResponse {
  status: number;
  headers: RawHeaders;
  body: Buffer;
}

const CSP_HEADERS = new Set(['content-security-policy', 'content-security-policy-report-only']);

function header(headers: RawHeaders, name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

/** True for responses with a body that is `text/html`. */
export function isInjectableHtml(status: number, headers: RawHeaders): boolean {
  if (status < 200 || status === 204 || status === 205 || status === 304) return false;
  return /^\s*text\/html\s*(;|$)/i.test(header(headers, 'content-type') ?? '');
}

/**
 * Returns the response with the deterministic script injected, or the same response object when there is nothing
 * to inject into (not HTML, empty, unknown or corrupt encoding, decoded size over the cap, already injected).
 * Decoding and encoding run off the event loop. Never throws for bad bodies.
 */
export async function injectDeterministicScript<T extends InjectableResponse>(
  response: T,
  state: DeterministicState,
  options: DecodeOptions = {},
): Promise<T> {
  if (!isInjectableHtml(response.status, response.headers) || response.body.length === 0) return response;
  const decoded = await decodeBody(response.body, header(response.headers, 'content-encoding'), options);
  if (!decoded) return response;
  const html = decoded.body.toString('latin1');
  if (html.includes(DETERMINISTIC_SCRIPT_MARKER)) return response;
  const source = deterministicScriptSource(state);
  const hashSource = `'sha256-${createHash('sha256').update(source, 'latin1').digest('base64')}'`;
  const page = allowScriptHashInMetaCsp(html, hashSource);
  const offset = scriptInsertionOffset(page);
  const injected = `${page.slice(0, offset)}<script ${DETERMINISTIC_SCRIPT_MARKER}>${source}</script>${page.slice(offset)}`;
  const body = await encodeBody(Buffer.from(injected, 'latin1'), decoded.codings);
  const headers: RawHeaders = [];
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-md5') continue; // no longer true, and nothing needs it
    if (lower === 'content-length') headers.push([name, String(body.length)]);
    else if (CSP_HEADERS.has(lower)) headers.push([name, allowScriptHashInCsp(value, hashSource)]);
    else headers.push([name, value]);
  }
  return { ...response, headers, body };
}

export interface DeterministicScriptInjectorOptions {
  /** The recording's initial state, or a function giving it (read once per response). */
  readonly state: DeterministicState | (() => DeterministicState);
  /** HTML bodies larger than this (as received, or once decoded) are passed on untouched, in bytes. @default 33554432 (32 MiB) */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
}

export class DeterministicScriptInjector implements HttpExchanger {
  readonly #inner: HttpExchanger;
  readonly #options: DeterministicScriptInjectorOptions;
  readonly #logger: Logger;

  constructor(inner: HttpExchanger, options: DeterministicScriptInjectorOptions) {
    this.#inner = inner;
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'injector' });
  }

  get streamsRequestBodies(): boolean {
    return this.#inner.streamsRequestBodies === true;
  }

  async exchange(request: RecordedRequest, options?: ExchangeOptions): Promise<ExchangeResponse> {
    const response = await this.#inner.exchange(request, options);
    if (request.method === 'HEAD' || !isInjectableHtml(response.status, response.headers)) return response;
    const limit = this.#options.maxBodyBytes ?? 32 * 1024 * 1024;
    const iterator = response.body[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      chunks.push(next.value);
      size += next.value.length;
      if (size > limit) {
        this.#logger.warn(
          { host: request.host, target: request.target, limitBytes: limit },
          'HTML body too large: passed on without the script',
        );
        return { ...response, body: prepend(chunks, iterator) };
      }
    }
    const state = typeof this.#options.state === 'function' ? this.#options.state() : this.#options.state;
    const injected = await injectDeterministicScript(
      { status: response.status, headers: response.headers, body: Buffer.concat(chunks) },
      state,
      { maxBytes: limit, logger: this.#logger, what: `${request.host}${request.target}` },
    );
    this.#logger.debug(
      { host: request.host, target: request.target, injected: injected.body.length !== size },
      'HTML response',
    );
    return { ...response, headers: injected.headers, body: bodyOf(injected.body) };
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

async function* prepend(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
