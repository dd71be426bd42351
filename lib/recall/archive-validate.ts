/**
 * Checks a parsed archive before anything uses it, so a hand-edited or foreign file fails at load with the file
 * name and the JSON path of the first wrong value, never later in the middle of a playback.
 */
import { RecallError, RECALL_ERROR_CODES } from './errors.js';
import { RECALL_ARCHIVE_VERSION, type HarFile, type RecallLogExtension } from './archive-types.js';
import { splitUrl } from './archive-codec.js';

type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

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
      this.string(h.name, `${path}[${i}].name`);
      this.string(h.value, `${path}[${i}].value`);
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
  return recall as unknown as RecallLogExtension;
}

function checkEntry(c: Checker, value: unknown, path: string): void {
  const entry = c.object(value, path);
  c.string(entry.startedDateTime, `${path}.startedDateTime`);
  c.number(entry.time, `${path}.time`);
  const request = c.object(entry.request, `${path}.request`);
  const method = c.string(request.method, `${path}.request.method`);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method))
    c.fail(`${path}.request.method`, method, 'an HTTP method token');
  const url = c.string(request.url, `${path}.request.url`);
  if (!splitUrl(url)) c.fail(`${path}.request.url`, url, 'an http:// or https:// URL');
  c.string(request.httpVersion, `${path}.request.httpVersion`);
  c.headers(request.headers, `${path}.request.headers`);
  if (request.postData !== undefined) {
    const post = c.object(request.postData, `${path}.request.postData`);
    const text = c.string(post.text, `${path}.request.postData.text`);
    c.encoding(post._encoding, `${path}.request.postData._encoding`);
    if (post._encoding === 'base64') c.base64(text, `${path}.request.postData.text`);
  }
  const response = c.object(entry.response, `${path}.response`);
  const status = c.number(response.status, `${path}.response.status`);
  if (!Number.isInteger(status) || status < 100 || status > 999)
    c.fail(`${path}.response.status`, status, 'an integer from 100 to 999');
  c.string(response.statusText, `${path}.response.statusText`);
  c.string(response.httpVersion, `${path}.response.httpVersion`);
  c.headers(response.headers, `${path}.response.headers`);
  const content = c.object(response.content, `${path}.response.content`);
  const text = c.string(content.text, `${path}.response.content.text`);
  c.encoding(content.encoding, `${path}.response.content.encoding`);
  if (content.encoding === 'base64') c.base64(text, `${path}.response.content.text`);
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

/**
 * Validates a parsed HAR file and returns it typed. A HAR without `log._recall` (exported by a browser) is
 * accepted and given default `_recall` fields.
 * @throws RecallError ERR_ARCHIVE_INVALID naming `file` and the JSON path, or ERR_ARCHIVE_VERSION.
 */
export function validateHarFile(value: unknown, file: string): HarFile {
  const c = new Checker(file);
  const root = c.object(value, '(root)');
  const log = c.object(root.log, 'log');
  if (log.version !== '1.2') c.fail('log.version', log.version, 'the string "1.2" (HAR 1.2)');
  c.array(log.entries, 'log.entries').forEach((entry, i) => checkEntry(c, entry, `log.entries[${i}]`));
  log._recall = log._recall === undefined ? defaultRecallFields() : checkRecall(c, log._recall);
  return root as unknown as HarFile;
}
