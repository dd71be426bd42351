/**
 * Checks a parsed archive before anything uses it, one entry at a time, so a hand-edited or foreign file fails at
 * load with the file name and the JSON path of the first wrong value, never later in the middle of a playback.
 *
 * Two kinds of trouble: an entry another tool writes legitimately but that cannot be played back (status 0, a
 * `ws:` URL, a response whose body was not saved) is skipped and reported, one warning per kind; a value that is
 * not HAR or that HTTP forbids (a string status, bad base64, CR or ESC in a header) refuses the archive.
 */
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import { RECALL_ARCHIVE_VERSION, type HarEntry, type RecallLogExtension } from './archive-types.js';
import { splitUrl } from './archive-codec.js';
import { EntrySkips } from './entry-skips.js';
import { grpcEventsProblem } from '../grpc/grpc-call-record.js';

type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header name: a token, or an HTTP/2 pseudo-header (`:authority`) as browsers record them. */
const HEADER_NAME = /^:?[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters HTTP forbids in field values and reason phrases (HTAB is allowed). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN_IN_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** In a URL: every control character and the space (browsers and tools write them percent-encoded). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN_IN_URL = /[\x00-\x20\x7f]/;

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

class Checker {
  constructor(private readonly file: string) {}

  fail(
    path: string,
    value: unknown,
    expected: string,
    code: string = RECALL_ERROR_CODES.ARCHIVE_INVALID,
  ): never {
    throw new RecallError(
      code,
      `${this.file}: ${path} is ${describe(value)}, expected ${expected}; fix that value or re-record the archive`,
    );
  }

  object(value: unknown, path: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, value, 'an object');
    return value as Json;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, value, 'an array');
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, value, 'a string');
    return value;
  }

  number(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(path, value, 'a finite number');
    return value;
  }

  /** A string HTTP can carry: no control character but HTAB. */
  fieldText(value: unknown, path: string): string {
    const text = this.string(value, path);
    const bad = FORBIDDEN_IN_VALUE.exec(text);
    if (bad)
      this.fail(
        path,
        text,
        `no control characters (found ${JSON.stringify(bad[0])}, which HTTP forbids here)`,
      );
    return text;
  }

  encoding(value: unknown, path: string): void {
    if (value !== undefined && value !== 'base64') this.fail(path, value, '"base64" or no value');
  }

  base64(text: string, path: string): void {
    if (text.length % 4 !== 0 || !BASE64.test(text))
      this.fail(path, text, 'base64 text (its encoding says base64)');
  }

  headers(value: unknown, path: string): void {
    this.array(value, path).forEach((header, i) => {
      const h = this.object(header, `${path}[${i}]`);
      const name = this.string(h.name, `${path}[${i}].name`);
      if (!HEADER_NAME.test(name))
        this.fail(`${path}[${i}].name`, name, "a header name (letters, digits and !#$%&'*+.^_`|~-)");
      this.fieldText(h.value, `${path}[${i}].value`);
    });
  }
}

function checkRecall(c: Checker, value: unknown): RecallLogExtension {
  const recall = c.object(value, 'log._recall');
  const version = c.number(recall.version, 'log._recall.version');
  if (!Number.isInteger(version) || version < 1) c.fail('log._recall.version', version, 'a positive integer');
  if (version > RECALL_ARCHIVE_VERSION) {
    c.fail(
      'log._recall.version',
      version,
      `at most ${RECALL_ARCHIVE_VERSION} (written by a newer Recall; upgrade)`,
      RECALL_ERROR_CODES.ARCHIVE_VERSION,
    );
  }
  c.string(recall.startedDateTime, 'log._recall.startedDateTime');
  c.number(recall.randomSeed, 'log._recall.randomSeed');
  c.array(recall.dns, 'log._recall.dns').forEach((answer, i) => {
    const path = `log._recall.dns[${i}]`;
    const a = c.object(answer, path);
    c.string(a.name, `${path}.name`);
    c.string(a.type, `${path}.type`);
    c.number(a.ttl, `${path}.ttl`);
    c.array(a.data, `${path}.data`).forEach((d, j) => c.string(d, `${path}.data[${j}]`));
  });
  if (recall.alpn !== undefined) {
    for (const [host, protocol] of Object.entries(c.object(recall.alpn, 'log._recall.alpn')))
      if (protocol !== 'h2' && protocol !== 'http/1.1') c.fail(`log._recall.alpn.${host}`, protocol, '"h2" or "http/1.1"');
  }
  return recall as unknown as RecallLogExtension;
}

/** The body of a form post described by `params` only (HAR allows leaving out `text`); undefined when unknown. */
function formBody(post: Json): string | undefined {
  const params = Array.isArray(post.params) ? (post.params as Json[]) : [];
  if (params.length === 0) return '';
  if (
    !String(post.mimeType ?? '')
      .toLowerCase()
      .startsWith('application/x-www-form-urlencoded')
  )
    return undefined;
  if (
    !params.every(
      (p) => typeof p?.name === 'string' && (p.value === undefined || typeof p.value === 'string'),
    )
  )
    return undefined;
  return new URLSearchParams(
    params.map((p): [string, string] => [p.name as string, (p.value as string | undefined) ?? '']),
  ).toString();
}

/** Responses that have no body by definition, whatever `content.size` says. */
function bodiless(method: string, status: number): boolean {
  return (
    method === 'HEAD' || status < 200 || status === 204 || status === 304 || (status >= 300 && status < 400)
  );
}

/** Checks Chrome's `_webSocketMessages`: type send/receive, numeric time and opcode, data text (base64 for binary). */
function checkWebSocketMessages(c: Checker, value: unknown, path: string): void {
  c.array(value, `${path}._webSocketMessages`).forEach((item, i) => {
    const at = `${path}._webSocketMessages[${i}]`;
    const message = c.object(item, at);
    if (message.type !== 'send' && message.type !== 'receive') c.fail(`${at}.type`, message.type, '"send" or "receive"');
    c.number(message.time, `${at}.time`);
    const opcode = c.number(message.opcode, `${at}.opcode`);
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) c.fail(`${at}.opcode`, opcode, 'an integer from 0 to 15');
    const data = c.string(message.data, `${at}.data`);
    if (opcode === 2) c.base64(data, `${at}.data`);
  });
}

/** Checks `log.entries[index]`; returns it, completed where HAR allows leaving fields out, or records a skip. */
function checkEntry(c: Checker, value: unknown, index: number, skips: EntrySkips): HarEntry | undefined {
  const path = `log.entries[${index}]`;
  const entry = c.object(value, path);
  c.string(entry.startedDateTime, `${path}.startedDateTime`);
  c.number(entry.time, `${path}.time`);
  const request = c.object(entry.request, `${path}.request`);
  const method = c.string(request.method, `${path}.request.method`);
  if (!TOKEN.test(method)) c.fail(`${path}.request.method`, method, 'an HTTP method token');
  const url = c.string(request.url, `${path}.request.url`);
  const forbidden = FORBIDDEN_IN_URL.exec(url);
  if (forbidden)
    c.fail(
      `${path}.request.url`,
      url,
      `a URL without control characters or spaces (found ${JSON.stringify(forbidden[0])})`,
    );
  const name = `${path} ${method} ${url.length > 100 ? `${url.slice(0, 100)}…` : url}`;
  c.string(request.httpVersion, `${path}.request.httpVersion`);
  c.headers(request.headers, `${path}.request.headers`);
  const response = c.object(entry.response, `${path}.response`);
  const status = c.number(response.status, `${path}.response.status`);
  if (!Number.isInteger(status) || status < 0 || status > 999 || (status > 0 && status < 100))
    c.fail(`${path}.response.status`, status, 'an integer from 100 to 999 (or 0 for a failed request)');
  c.fieldText(response.statusText, `${path}.response.statusText`);
  c.string(response.httpVersion, `${path}.response.httpVersion`);
  c.headers(response.headers, `${path}.response.headers`);
  if (response._recall !== undefined) {
    const trailers = c.object(response._recall, `${path}.response._recall`).trailers;
    if (trailers !== undefined) c.headers(trailers, `${path}.response._recall.trailers`);
  }
  const content = c.object(response.content, `${path}.response.content`);
  c.encoding(content.encoding, `${path}.response.content.encoding`);
  if (content.text !== undefined) {
    const text = c.string(content.text, `${path}.response.content.text`);
    if (content.encoding === 'base64') c.base64(text, `${path}.response.content.text`);
  }
  if (content._recall !== undefined) {
    const marker = c.object(content._recall, `${path}.response.content._recall`);
    if (marker.wire !== undefined) c.base64(c.string(marker.wire, `${path}.response.content._recall.wire`), `${path}.response.content._recall.wire`);
  }
  if (request.postData !== undefined) {
    const post = c.object(request.postData, `${path}.request.postData`);
    c.encoding(post._encoding, `${path}.request.postData._encoding`);
    if (post.text !== undefined) {
      const text = c.string(post.text, `${path}.request.postData.text`);
      if (post._encoding === 'base64') c.base64(text, `${path}.request.postData.text`);
    }
  }
  if (entry._webSocketMessages !== undefined) checkWebSocketMessages(c, entry._webSocketMessages, path);
  const grpcProblem = grpcEventsProblem((entry._recall as Json | undefined)?.grpc);
  if (grpcProblem) c.fail(`${path}._recall.grpc.events${grpcProblem.path}`, grpcProblem.value, grpcProblem.expected);
  // Checked above: the entry is HAR. What follows decides whether it can be played back.
  // A ws:// entry replays only with its messages (Chrome's `_webSocketMessages`).
  if (!splitUrl(url) || (/^wss?:/.test(url) && entry._webSocketMessages === undefined)) return skips.add('not-http', name);
  if (status === 0) return skips.add('status-0', name);
  if (request.postData !== undefined) {
    const post = request.postData as Json;
    if (post.text === undefined) {
      const body = formBody(post);
      if (body === undefined) return skips.add('post-params-only', name);
      post.text = body;
    }
  }
  if (content.text === undefined) {
    if (typeof content.size === 'number' && content.size > 0 && !bodiless(method, status))
      return skips.add('no-body', name);
    content.text = '';
    delete content.encoding;
  }
  return entry as unknown as HarEntry;
}

/** Default `_recall` fields for a HAR written by another tool (a browser's export). */
export function defaultRecallFields(): RecallLogExtension {
  return {
    version: RECALL_ARCHIVE_VERSION,
    startedDateTime: new Date(0).toISOString(),
    randomSeed: 0,
    dns: [],
  };
}

/** Validates a HAR document entry by entry (`entry` as they stream in, `log` once at the end). */
export class HarValidator {
  readonly skips = new EntrySkips();
  readonly #c: Checker;

  constructor(readonly file: string) {
    this.#c = new Checker(file);
  }

  /** `log.entries[index]`, completed, or undefined when it is skipped (see `skips`). */
  entry(value: unknown, index: number): HarEntry | undefined {
    return checkEntry(this.#c, value, index, this.skips);
  }

  /**
   * The document's `_recall` fields (defaults for a HAR without them). `root.log.entries` must be an array; its
   * elements are not checked here.
   */
  log(root: unknown): RecallLogExtension {
    const c = this.#c;
    const log = c.object(c.object(root, '(root)').log, 'log');
    const version = log.version;
    if (typeof version !== 'string' || !/^1\.\d+$/.test(version))
      c.fail('log.version', version, 'a HAR 1.x version such as "1.2"');
    c.array(log.entries, 'log.entries');
    return log._recall === undefined ? defaultRecallFields() : checkRecall(c, log._recall);
  }
}
