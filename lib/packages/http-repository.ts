/**
 * An HTTP repository (a devserver, or `packager serve`) fetched by the device itself, with `curl` or else `wget`,
 * a connect timeout and retries, as autotest's HttpFetcher does
 * (`wget --connect-timeout=15 --retry-connrefused --wait=5`, `curl --connect-timeout 15 --retry 5 --retry-delay 5`).
 */
import { PackageError } from './package-error.js';
import { shellQuote } from './command-runner.js';
import { CHECKSUM_FILE } from './package-name.js';
import { FETCH_NOT_FOUND, FETCH_UNREACHABLE, type DeviceRepository } from './repository.js';

export interface HttpRepositoryOptions {
  /** Seconds to wait for a connection. @default 15 */
  connectTimeoutSec?: number;
  /** Extra attempts after a failed one (connection refused included). @default 3 */
  retries?: number;
  /** Seconds between attempts. @default 5 */
  retryDelaySec?: number;
}

export class HttpRepository implements DeviceRepository {
  readonly kind = 'device';
  readonly description: string;
  readonly #base: string;
  readonly #connect: number;
  readonly #retries: number;
  readonly #delay: number;

  constructor(url: string, options: HttpRepositoryOptions = {}) {
    if (!/^https?:\/\/[^\s'"]+$/.test(url)) {
      throw new PackageError(
        'ERR_PACKAGE_INVALID_OPTION',
        `Invalid HTTP repository URL "${url}"; expected http://host:port/path`,
      );
    }
    this.#base = url.replace(/\/+$/, '');
    this.description = this.#base;
    this.#connect = positive(options.connectTimeoutSec ?? 15, 'connectTimeoutSec');
    this.#retries = positive(options.retries ?? 3, 'retries');
    this.#delay = positive(options.retryDelaySec ?? 5, 'retryDelaySec');
  }

  indexCommand(): string {
    return this.#download(CHECKSUM_FILE, '-');
  }

  fetchCommand(fileName: string, destPath: string): string {
    return this.#download(fileName, destPath);
  }

  /** Exit 0, FETCH_NOT_FOUND on an HTTP error answer, FETCH_UNREACHABLE otherwise (refused, timed out, no tool). */
  #download(fileName: string, dest: string): string {
    const url = shellQuote(`${this.#base}/${encodeURIComponent(fileName)}`);
    const out = shellQuote(dest);
    const curl =
      `curl -sS -f -L --connect-timeout ${this.#connect} --retry ${this.#retries} --retry-delay ${this.#delay} ` +
      `--retry-connrefused -o ${out} ${url}`;
    const wget =
      `wget -nv --connect-timeout=${this.#connect} --tries=${this.#retries + 1} --waitretry=${this.#delay} ` +
      `--retry-connrefused -O ${out} ${url}`;
    return [
      `if command -v curl >/dev/null 2>&1; then ${curl}; rc=$?; [ $rc -eq 22 ] && rc=${FETCH_NOT_FOUND}`,
      `elif command -v wget >/dev/null 2>&1; then ${wget}; rc=$?; [ $rc -eq 8 ] && rc=${FETCH_NOT_FOUND}`,
      `else echo 'neither curl nor wget is installed' >&2; rc=${FETCH_UNREACHABLE}; fi`,
      `case $rc in 0|${FETCH_NOT_FOUND}) ;; *) rc=${FETCH_UNREACHABLE};; esac`,
      'exit $rc',
    ].join('\n');
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new PackageError(
      'ERR_PACKAGE_INVALID_OPTION',
      `Expected ${name} to be a non-negative integer, got ${value}`,
    );
  }
  return value;
}
