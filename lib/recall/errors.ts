/**
 * Recall's errors. Every failure a caller may handle is a `RecallError` with a stable `code`; match on the code,
 * never on the message. docs/recall.md lists every code with how to fix it.
 */
import { AutotestError, type AutotestErrorOptions } from '../errors.js';

/** Codes of the HTTP half of Recall (the archive, the servers, the upstream client, the command). */
export const RECALL_ERROR_CODES = {
  /** The archive file could not be read (missing, unreadable). */
  ARCHIVE_READ: 'ERR_ARCHIVE_READ',
  /** The archive file is not gzip or JSON (truncated, corrupt). */
  ARCHIVE_PARSE: 'ERR_ARCHIVE_PARSE',
  /** The archive is JSON but not a HAR 1.2 file Recall can use; the message names the JSON path. */
  ARCHIVE_INVALID: 'ERR_ARCHIVE_INVALID',
  /** The archive was written by a newer Recall (`log._recall.version`). */
  ARCHIVE_VERSION: 'ERR_ARCHIVE_VERSION',
  /** The archive could not be written. */
  ARCHIVE_WRITE: 'ERR_ARCHIVE_WRITE',
  /** Loading the archive passed a bound (decompressed size, entries, one entry's size, nesting depth). */
  ARCHIVE_LIMIT: 'ERR_ARCHIVE_LIMIT',
  /** An interrupted recording's journal is waiting beside the archive (`recall recover ARCHIVE`). */
  ARCHIVE_JOURNAL: 'ERR_ARCHIVE_JOURNAL',
  /** The upstream could not be reached (refused, name not found, TLS verification failed): answered 502. */
  UPSTREAM_CONNECT: 'ERR_RECALL_UPSTREAM_CONNECT',
  /** The upstream did not answer in time: answered 504. */
  UPSTREAM_TIMEOUT: 'ERR_RECALL_UPSTREAM_TIMEOUT',
  /** The upstream broke the exchange after it started (reset mid-body, malformed response): answered 502. */
  UPSTREAM_PROTOCOL: 'ERR_RECALL_UPSTREAM_PROTOCOL',
  /** A server could not listen (address in use, permission). */
  LISTEN: 'ERR_RECALL_LISTEN',
  /** An object was used after `close()`. */
  CLOSED: 'ERR_RECALL_CLOSED',
  /** An option has a value Recall cannot use. */
  INVALID_OPTION: 'ERR_RECALL_INVALID_OPTION',
  /** A request named the Recall server itself (answered 508 instead of forwarding it back to itself). */
  LOOP: 'ERR_RECALL_LOOP',
} as const;

export type RecallErrorCode = (typeof RECALL_ERROR_CODES)[keyof typeof RECALL_ERROR_CODES] | (string & {});

/** Base of every error Recall throws on purpose. */
export class RecallError extends AutotestError {
  constructor(code: RecallErrorCode, message: string, options?: AutotestErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Codes of the certificate authority and the DNS half of Recall. docs/recall-dns-and-tls.md says how to fix each.
 * (Added by the DNS/TLS half; kept apart from the HTTP codes above so the two halves can edit without clashing.)
 */
export const RECALL_DNS_TLS_ERROR_CODES = {
  /** The CA folder could not be created or the root files could not be written. */
  CA_WRITE: 'ERR_CA_WRITE',
  /** The root key or certificate exists but cannot be read or parsed. */
  CA_FILES_UNREADABLE: 'ERR_CA_FILES_UNREADABLE',
  /** Only one of the two root files exists, or the key does not belong to the certificate. */
  CA_FILES_MISMATCH: 'ERR_CA_FILES_MISMATCH',
  /** The persisted root certificate has expired (or expires within a day). */
  CA_EXPIRED: 'ERR_CA_EXPIRED',
  /** The subject string is not `/KEY=value/...` with known keys. */
  CA_SUBJECT: 'ERR_CA_SUBJECT',
  /** A name cannot be put in a certificate (empty, too long, bad characters). */
  CA_INVALID_HOSTNAME: 'ERR_CA_INVALID_HOSTNAME',
  /** A CertificateAuthority option has a value that cannot be used. */
  CA_INVALID_OPTION: 'ERR_CA_INVALID_OPTION',
  /** Key generation or signing failed inside node:crypto. */
  CA_SIGN: 'ERR_CA_SIGN',
  /** No upstream DNS server configured and none found in /etc/resolv.conf. */
  DNS_NO_SERVERS: 'ERR_DNS_NO_SERVERS',
  /** No upstream DNS server answered within the timeout, after every retry. */
  DNS_UPSTREAM_TIMEOUT: 'ERR_DNS_UPSTREAM_TIMEOUT',
  /** The upstream answered with a failure (SERVFAIL, REFUSED, …) or with a packet that cannot be used. */
  DNS_UPSTREAM_FAILED: 'ERR_DNS_UPSTREAM_FAILED',
  /** The DNS server could not bind its UDP and TCP sockets. */
  DNS_LISTEN: 'ERR_DNS_LISTEN',
  /** A DNS option has a value that cannot be used. */
  DNS_INVALID_OPTION: 'ERR_DNS_INVALID_OPTION',
  /** A name to ask upstream cannot be a DNS name (a label over 63 bytes, the whole over 255): answered SERVFAIL. */
  DNS_INVALID_NAME: 'ERR_DNS_INVALID_NAME',
} as const;
