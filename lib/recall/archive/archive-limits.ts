/**
 * Bounds on what loading an archive may cost. An archive can come from anywhere (a browser export, a colleague,
 * an attacker), so a gzip bomb, one giant body or absurd nesting is refused with a message that names the bound
 * it passed, before it costs gigabytes of memory or overflows the stack.
 */
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';

export interface ArchiveLimits {
  /** Bytes of JSON after gunzip. @default 4 GiB */
  maxArchiveBytes: number;
  /** Entries in `log.entries`. @default 5,000,000 */
  maxEntries: number;
  /**
   * Bytes of JSON of one entry, which is mostly its body; also bounds everything outside the entries.
   * Must stay below V8's longest string (about 512 MiB). @default 256 MiB
   */
  maxEntryBytes: number;
  /** Nesting depth of arrays and objects anywhere in the file. @default 1000 */
  maxDepth: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxArchiveBytes: 4 * 2 ** 30,
  maxEntries: 5_000_000,
  maxEntryBytes: 256 * 2 ** 20,
  maxDepth: 1000,
});

const LONGEST_STRING = 0x1fffffe8;

/** The defaults with `overrides` applied, each checked. */
export function archiveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `Expected ${name} to be a positive integer, got ${String(value)}`,
      );
    }
  }
  if (limits.maxEntryBytes > LONGEST_STRING) {
    throw new RecallError(
      RECALL_ERROR_CODES.INVALID_OPTION,
      `Expected maxEntryBytes to be at most ${LONGEST_STRING} (the longest string V8 can hold), got ${limits.maxEntryBytes}`,
    );
  }
  return limits;
}

/** `1.5 GiB`, `256 MiB`, `12 KiB`, `900 bytes`. */
export function formatBytes(bytes: number): string {
  const units = ['GiB', 'MiB', 'KiB'] as const;
  for (const [i, unit] of units.entries()) {
    const size = 2 ** (10 * (3 - i));
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** The error for a passed bound: `file: <what> past <limit>; <advice>`. */
export function limitError(file: string, what: string, advice: string): RecallError {
  return new RecallError(RECALL_ERROR_CODES.ARCHIVE_LIMIT, `${file}: ${what}; ${advice}`);
}
