/**
 * The device half of Recall: around a client test, make the device trust the Recall server's root certificate
 * and send its DNS and its traffic to the Recall server, then put everything back.
 *
 *   await using ctx = await RecallContext.enter({ server: '198.18.1.1', caSha256: args.recall_ca_sha256, logger });
 *
 * Entering, in order (each change is recorded the moment it is made):
 *   1. GET http://<server>/_recall/ca.pem (plain HTTP, with a timeout): the root certificate, which must be a CA
 *      whose SHA-256 is `caSha256` (the server sends it over SSH in the control file); anything else is refused
 *   2. the system trust store: /usr/local/share/ca-certificates/recall-<fp>.crt + update-ca-certificates
 *   3. the NSS database Chromium reads ($HOME/.pki/nssdb), created when missing
 *   4. NODE_EXTRA_CA_CERTS in process.env (child Node processes), pointing at `ctx.caFile`
 *   5. /etc/resolv.conf: `nameserver <server>`, unless the server is already the only name server
 *   6. the default route via the server, unless it already goes there
 * Leaving (`exit()`, `await using`, or a setup step failing) undoes the recorded changes newest first; every
 * undo step runs even when another failed, and the failures are reported together (`ERR_RECALL_RESTORE`).
 * Files come back byte for byte. See docs/recall-context.md.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { reasonOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/logging.js';
import { trustInNssDatabase, trustInSystemStore } from './certificate-trust.js';
import { pointDefaultRouteAt, pointDnsAt } from './network-redirect.js';
import { RecallContextError } from './recall-context-error.js';
import { fetchRootCertificate, normalizeSha256 } from './root-certificate.js';
import { UndoStack } from './undo-stack.js';

/** Where a Recall server serves its root certificate (`CA_PEM_PATH` in lib/recall/http/request-handler.ts). */
export const RECALL_CA_PATH = '/_recall/ca.pem';

export interface RecallContextOptions {
  /** IPv4 address of the Recall server: where DNS and the default route are pointed. */
  readonly server: string;
  /**
   * SHA-256 of the Recall root certificate's DER, hex (colons allowed): the only certificate the device will
   * trust. It must come over an authenticated channel (RecallServerTest puts it in the control file, which
   * travels over SSH), never from the network the certificate is fetched over.
   */
  readonly caSha256: string;
  /** Where the root certificate is fetched from (plain HTTP). @default `http://<server>/_recall/ca.pem` */
  readonly caUrl?: string;
  /** Milliseconds for fetching the root certificate. @default 10000 */
  readonly fetchTimeoutMs?: number;
  /** Milliseconds each system command may take (update-ca-certificates runs hooks such as Java's). @default 120000 */
  readonly commandTimeoutMs?: number;
  /** Install the certificate in the system trust store. @default true */
  readonly systemStore?: boolean;
  /** Install the certificate in the NSS database Chromium reads. @default true */
  readonly nssDatabase?: boolean;
  /** Point DNS and the default route at the server (when they do not point there already). @default true */
  readonly redirect?: boolean;
  /** Home folder whose `.pki/nssdb` is used. @default `$HOME`, else the user's home */
  readonly home?: string;
  /** The resolver configuration. @default '/etc/resolv.conf' */
  readonly resolvConf?: string;
  /** Local CA certificates folder. @default '/usr/local/share/ca-certificates' */
  readonly localCertificatesDir?: string;
  /** The folder update-ca-certificates writes. @default '/etc/ssl/certs' */
  readonly certsDir?: string;
  readonly logger?: Logger;
}

function optionError(message: string): RecallContextError {
  return new RecallContextError('ERR_RECALL_CONTEXT_OPTIONS', `RecallContext: ${message}`);
}

export class RecallContext {
  readonly server: string;
  readonly caUrl: string;
  /** The root certificate, PEM (set once entered). */
  certificatePem = '';
  /** SHA-256 of the root certificate's DER, hex. */
  fingerprint = '';
  /** `recall-<first 16 hex digits of the fingerprint>`: the NSS nickname and the system store file name. */
  nickname = '';
  /** A PEM file with the root certificate (after any certificates NODE_EXTRA_CA_CERTS named before): what NODE_EXTRA_CA_CERTS points at. */
  caFile = '';
  /** Whether entering changed /etc/resolv.conf. */
  dnsChanged = false;
  /** Whether entering changed the default route. */
  routeChanged = false;

  readonly #options: RecallContextOptions;
  readonly #logger: Logger;
  readonly #undo: UndoStack;
  #exiting: Promise<void> | undefined;

  private constructor(options: RecallContextOptions) {
    if (typeof options?.server !== 'string' || !isIPv4(options.server)) {
      throw optionError(`expected \`server\` to be the Recall server's IPv4 address, got ${JSON.stringify(options?.server)} (a client control file gets it as args.recall_server)`);
    }
    this.server = options.server;
    if (typeof options.caSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(normalizeSha256(options.caSha256))) {
      throw optionError(`expected \`caSha256\` to be the SHA-256 of the Recall root certificate (64 hex digits; a client control file gets it as args.recall_ca_sha256), got ${JSON.stringify(options.caSha256)}`);
    }
    this.caUrl = options.caUrl ?? `http://${options.server}${RECALL_CA_PATH}`;
    let url: URL | undefined;
    try {
      url = new URL(this.caUrl);
    } catch {
      // Reported just below with the value received.
    }
    if (url?.protocol !== 'http:') throw optionError(`expected \`caUrl\` to be an http:// URL, got ${JSON.stringify(this.caUrl)}`);
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'recall-context', server: options.server });
    this.#undo = new UndoStack(this.#logger);
  }

  /**
   * Prepares the device (see the file header) and returns the context. When a step fails, what was already
   * changed is restored before this rejects with `ERR_RECALL_SETUP` (or `ERR_RECALL_CA_FETCH` when nothing
   * could be fetched); restore failures are listed in the message and in `restoreErrors`.
   */
  static async enter(options: RecallContextOptions): Promise<RecallContext> {
    const context = new RecallContext(options);
    try {
      await context.#setUp();
    } catch (error) {
      context.#logger.error({ err: error, changes: context.#undo.descriptions }, 'setting up Recall failed: restoring the device');
      const restoreErrors = await context.#undo.unwind();
      const restored = restoreErrors.length === 0 ? 'everything changed so far was restored' : `restoring failed too: ${restoreErrors.map((e) => e.message).join('; ')}`;
      const failed = (error as { code?: string }).code ?? '';
      const code = ['ERR_RECALL_CA_FETCH', 'ERR_RECALL_CA_MISMATCH'].includes(failed) ? failed : 'ERR_RECALL_SETUP';
      throw new RecallContextError(code, `${reasonOf(error)} (${restored})`, { cause: error, restoreErrors });
    }
    return context;
  }

  async #setUp(): Promise<void> {
    const o = this.#options;
    const commandTimeoutMs = o.commandTimeoutMs ?? 120_000;
    const step = { undo: this.#undo, logger: this.#logger, commandTimeoutMs };
    this.#logger.info({ caUrl: this.caUrl }, 'fetching the Recall root certificate');
    const root = await fetchRootCertificate(this.caUrl, o.fetchTimeoutMs ?? 10_000, o.caSha256);
    this.certificatePem = root.pem;
    this.fingerprint = root.sha256;
    this.nickname = `recall-${root.sha256.slice(0, 16)}`;
    this.#logger.info({ subject: root.subject, sha256: root.sha256 }, 'got the Recall root certificate');

    const dir = await mkdtemp(join(tmpdir(), 'recall-'));
    this.#undo.push(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    this.caFile = join(dir, `${this.nickname}.pem`);
    const previousExtra = process.env.NODE_EXTRA_CA_CERTS;
    const kept = previousExtra ? await readFile(previousExtra, 'utf8').catch(() => '') : '';
    await writeFile(this.caFile, (kept && !kept.endsWith('\n') ? `${kept}\n` : kept) + root.pem, { mode: 0o644 });

    if (o.systemStore ?? true) {
      await trustInSystemStore(root.pem, this.nickname, { localCertificatesDir: o.localCertificatesDir ?? '/usr/local/share/ca-certificates', certsDir: o.certsDir ?? '/etc/ssl/certs' }, step);
    }
    if (o.nssDatabase ?? true) {
      await trustInNssDatabase(this.caFile, this.nickname, join(o.home ?? process.env.HOME ?? homedir(), '.pki', 'nssdb'), step);
    }
    process.env.NODE_EXTRA_CA_CERTS = this.caFile;
    this.#undo.push('restore NODE_EXTRA_CA_CERTS', async () => {
      if (previousExtra === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = previousExtra;
    });
    if (o.redirect ?? true) {
      this.dnsChanged = await pointDnsAt(this.server, o.resolvConf ?? '/etc/resolv.conf', step);
      this.routeChanged = await pointDefaultRouteAt(this.server, step);
    }
    this.#logger.info({ changes: this.#undo.descriptions.length, dnsChanged: this.dnsChanged, routeChanged: this.routeChanged }, 'the device now uses the Recall server');
  }

  /**
   * Restores everything entering changed, newest first. Every step runs even when one fails; then rejects
   * with `ERR_RECALL_RESTORE` listing the failures. Idempotent: later calls wait on the same result.
   */
  exit(): Promise<void> {
    this.#exiting ??= (async () => {
      const errors = await this.#undo.unwind();
      if (errors.length > 0) {
        throw new RecallContextError('ERR_RECALL_RESTORE', `restoring the device after Recall failed in ${errors.length} step(s): ${errors.map((e) => e.message).join('; ')}; the other steps ran, fix these by hand`, { restoreErrors: errors });
      }
      this.#logger.info('the device is as it was before Recall');
    })();
    return this.#exiting;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.exit();
  }
}

/**
 * Runs `fn` inside a RecallContext: for client control files,
 *
 *   await withRecall({ server: args.recall_server, caSha256: args.recall_ca_sha256 }, () => job.runTest('desktopui_UrlFetch', { urls }));
 *
 * The device is restored whether `fn` returns or throws. When `fn` threw and restoring failed as well, the
 * restore error (`ERR_RECALL_RESTORE`) is thrown with `fn`'s error as its `cause`: a device left changed
 * matters more than one test.
 */
export async function withRecall<T>(options: RecallContextOptions, fn: (context: RecallContext) => Promise<T> | T): Promise<T> {
  const context = await RecallContext.enter(options ?? ({} as RecallContextOptions));
  let result: T;
  try {
    result = await fn(context);
  } catch (error) {
    try {
      await context.exit();
    } catch (restoreError) {
      const failure = restoreError as RecallContextError;
      throw new RecallContextError(failure.code, `${failure.message} (the wrapped function had failed: ${reasonOf(error)})`, { cause: error, restoreErrors: failure.restoreErrors });
    }
    throw error;
  }
  await context.exit();
  return result;
}
